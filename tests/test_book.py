"""The built book: a clean build, every TOC page present, figures embedded, no error output, links resolve,
and math served by the book's own MathJax (never a CDN).

The book is built once per session by the ``book_build`` fixture (tests/conftest.py).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

MATHJAX_SCRIPT = "_static/mathjax/es5/tex-mml-chtml.js"
MATHJAX_FONT = "_static/mathjax/es5/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
# A MathJax (or any math renderer's) file from another host: the site must not depend on one.
CDN_MATH = re.compile(r"(?:https?:)?//[^\s\"'<>]*(?:mathjax|katex)", re.IGNORECASE)
EXTERNAL = ("http:", "https:", "mailto:", "tel:", "data:", "javascript:", "//", "#")
# Lines of the build's output that say WARNING or ERROR but are not about the book.
KNOWN_NOISE = (
    # ipykernel >= 7 logs this on every kernel start over TCP on localhost (its default transport).
    re.compile(r"^\[IPKernelApp\] WARNING \| Kernel is running over TCP without encryption\."),
    # jupyter_client >= 8.7 interrupts (SIGINT) a kernel before asking it to shut down; an idle ipykernel logs it.
    re.compile(r"^\[IPKernelApp\] ERROR \| KeyboardInterrupt caught in kernel\.?$"),
)
PROBLEM = re.compile(r"\b(WARNING|ERROR|CRITICAL|SEVERE)\b|Traceback \(most recent call last\)")
# Output classes myst-nb gives a cell's error, traceback or stderr output.
ERROR_CLASSES = {"traceback", "stderr", "error"}


@functools.cache
def soup(path: Path) -> BeautifulSoup:
    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def page_html(html: Path, docname: str) -> Path:
    return html / f"{docname}.html"


def built_page(html: Path, docname: str) -> Path:
    """The page's HTML file; a TOC page with none is skipped here (test_toc_page_is_built fails for it)."""
    page = page_html(html, docname)
    if not page.is_file():
        pytest.skip(f"no HTML page for {docname}")
    return page


def site_pages(html: Path) -> list[Path]:
    """Every HTML page of the site (not the copied sources or static assets)."""
    return sorted(p for p in html.rglob("*.html") if p.relative_to(html).parts[0] not in ("_static", "_sources"))


def resolve(page: Path, url: str) -> tuple[Path, str]:
    """The file a relative URL in ``page`` points to, and its fragment."""
    parts = urlsplit(url)
    target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
    if target.is_dir():
        target = target / "index.html"
    return target, unquote(parts.fragment)


def ids_of(path: Path) -> set[str]:
    doc = soup(path)
    names = {tag["name"] for tag in doc.find_all("a", attrs={"name": True})}
    return {tag["id"] for tag in doc.find_all(id=True)} | names


def test_build_is_clean(book_build):
    problems = [
        line
        for line in book_build.output.splitlines()
        if PROBLEM.search(line) and not any(noise.search(line) for noise in KNOWN_NOISE)
    ]
    assert book_build.returncode == 0, f"jupyter-book build exited {book_build.returncode}; log {book_build.log}:\n" + (
        "\n".join(problems or book_build.output.splitlines()[-30:])
    )
    assert not problems, f"the build printed warnings or errors (log {book_build.log}):\n" + "\n".join(problems)


def test_toc_page_is_built(book_html, toc_page):
    assert page_html(book_html, toc_page).is_file(), f"{toc_page} is in _toc.yml but has no HTML page"


def test_chapter_shows_figures(book_html, chapter_page):
    """A chapter's figures are images embedded in the page (a data: PNG or a PNG under _images/), not missing."""
    page = built_page(book_html, chapter_page)
    figures = []
    for img in soup(page).select(".cell_output img"):
        src = img.get("src", "")
        if src.startswith("data:image/png;base64,"):
            figures.append(src[:40])
            continue
        target, _ = resolve(page, src)
        assert target.is_file(), f"{chapter_page}: figure {src} is missing"
        assert target.parent == (book_html / "_images").resolve(), f"{chapter_page}: figure {src} not in _images/"
        with Image.open(target) as image:
            assert image.width >= 50 and image.height >= 50, f"{chapter_page}: figure {src} is {image.size}"
        figures.append(src)
    assert figures, f"{chapter_page}: no figure (no <img> in any cell output)"


def test_page_shows_no_error_output(book_html, toc_page):
    page = built_page(book_html, toc_page)
    doc = soup(page)
    bad = [
        " ".join(tag["class"])
        for tag in doc.select(".cell_output, .cell_output *")
        if ERROR_CLASSES & set(tag.get("class", []))
    ]
    assert not bad, f"{toc_page} shows error/stderr output: {bad}"
    assert "Traceback (most recent call last)" not in doc.get_text(), f"{toc_page} shows a traceback"


def test_internal_links_resolve(book_html):
    broken = []
    for page in site_pages(book_html):
        for tag in soup(page).find_all(True):
            for attr in ("href", "src", "action"):
                url = tag.get(attr)
                if not url or url.strip().lower().startswith(EXTERNAL):
                    continue
                if url.startswith("/"):
                    broken.append(f"{page.relative_to(book_html)}: {url} is site-absolute (breaks under a subpath)")
                    continue
                target, fragment = resolve(page, url)
                where = f"{page.relative_to(book_html)}: <{tag.name} {attr}={url!r}>"
                if not target.is_file():
                    broken.append(f"{where} -> missing {target}")
                elif fragment and target.suffix == ".html" and fragment not in ids_of(target):
                    broken.append(f"{where} -> no #{fragment} in {target.name}")
    assert not broken, f"{len(broken)} broken internal links:\n" + "\n".join(broken[:50])


def test_mathjax_is_local(book_html):
    assert (book_html / MATHJAX_SCRIPT).is_file(), f"{MATHJAX_SCRIPT} was not copied into the site"
    assert (book_html / MATHJAX_FONT).is_file(), f"{MATHJAX_FONT} was not copied into the site"
    problems = []
    with_math = 0
    for page in site_pages(book_html):
        name = page.relative_to(book_html)
        for match in CDN_MATH.finditer(page.read_text(encoding="utf-8")):
            problems.append(f"{name}: references {match.group(0)}")
        doc = soup(page)
        if not doc.select(".math"):
            continue
        with_math += 1
        scripts = [s["src"] for s in doc.find_all("script", src=True) if "mathjax" in s["src"].lower()]
        local = [s for s in scripts if resolve(page, s)[0] == (book_html / MATHJAX_SCRIPT).resolve()]
        if not local or scripts != local:
            problems.append(f"{name} has math but loads MathJax from {scripts or 'nowhere'}, not {MATHJAX_SCRIPT}")
    assert not problems, "\n".join(problems)
    assert with_math, "no page of the book has math"


def test_math_is_marked_up_for_mathjax(book_html, toc_page):
    """Math is TeX in MathJax's delimiters inside .math elements (what tests/test_browser.py sees typeset)."""
    page = built_page(book_html, toc_page)
    for node in soup(page).select(".math"):
        text = node.get_text().strip()
        assert text.startswith(("\\(", "\\[", "\\begin")), f"{toc_page}: unexpected math markup {text[:80]!r}"


# The extension that serves MathJax: it must fail loudly, never fall back to a CDN (no build needed).


@pytest.fixture
def offline_mathjax(monkeypatch):
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "book" / "_ext" / "offline_mathjax.py"
    spec = importlib.util.spec_from_file_location("offline_mathjax_under_test", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_offline_mathjax_without_npm_fails_clearly(offline_mathjax, monkeypatch, tmp_path):
    from sphinx.errors import ExtensionError

    monkeypatch.setattr(offline_mathjax.shutil, "which", lambda name: None)
    with pytest.raises(ExtensionError, match=r"`npm` is not installed.*does not fall back to a CDN"):
        offline_mathjax._fetch(offline_mathjax.MATHJAX, tmp_path / "cache")


def test_offline_mathjax_failed_fetch_fails_clearly(offline_mathjax, monkeypatch, tmp_path):
    from sphinx.errors import ExtensionError

    fake = tmp_path / "bin" / "npm"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'npm error 404 Not Found' >&2\nexit 1\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(fake.parent))
    with pytest.raises(ExtensionError, match=r"npm pack mathjax@3\.2\.2` failed \(exit 1\).*no CDN fallback"):
        offline_mathjax._fetch(offline_mathjax.MATHJAX, tmp_path / "cache")
    assert not list((tmp_path / "cache").glob("*/package")), "a failed fetch left a package in the cache"


def test_offline_mathjax_reuses_its_cache(offline_mathjax, monkeypatch, tmp_path):
    asset = offline_mathjax.MATHJAX
    package = tmp_path / "cache" / "mathjax_3.2.2" / "package"
    for part in asset.required:
        (package / part).parent.mkdir(parents=True, exist_ok=True)
        (package / part).write_text("")
    monkeypatch.setattr(offline_mathjax.shutil, "which", lambda name: pytest.fail("npm was called"))
    assert offline_mathjax._fetch(asset, tmp_path / "cache") == package
