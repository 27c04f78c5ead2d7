"""The built book: a clean build with no npm on PATH, every TOC page present, figures embedded, no error
output, links resolve, no resource from another host, and math served by the book's own MathJax (never a CDN).

The book is built once per session, from the committed outputs, by the ``book_build`` fixture
(tests/conftest.py); every test that uses it is marked ``book`` and ``slow``. The tests of the MathJax
extension itself (at the end) need no build.
"""

from __future__ import annotations

import functools
import os
import re
import shutil
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

REPO = Path(__file__).resolve().parents[1]
MATHJAX_SCRIPT = "_static/mathjax/tex-mml-chtml.js"
MATHJAX_FONT = "_static/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"
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
# Tags and attributes whose URL the browser loads by itself (a link <a href> is only followed when clicked).
LOADED = {
    "script": "src",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "audio": "src",
    "video": "src",
    "embed": "src",
    "object": "data",
    "link": "href",
}
LINK_NOT_LOADED = {"canonical", "alternate", "author", "license", "help", "search", "next", "prev", "index"}
# The scripts that render saved ipywidgets state (myst-nb's default nb_ipywidgets_js): the book serves none.
WIDGET_LOADERS = ("require.js", "require.min.js", "embed-amd.js", "html-manager")
book = lambda test: pytest.mark.book(pytest.mark.slow(test))  # uses the built book


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


@book
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


@book
def test_book_builds_without_npm(book_build):
    """The README's build command (here on the committed outputs) succeeds with no Node.js or npm on PATH."""
    from conftest import NODE_TOOLS

    hidden = {tool: shutil.which(tool, path=book_build.path) for tool in NODE_TOOLS}
    assert not any(hidden.values()), f"the book was built with Node tools on PATH: {hidden}"
    assert book_build.command[1:2] == ["build"] and book_build.command[-3:] == ["-W", "-n", "--keep-going"]
    assert book_build.returncode == 0, f"jupyter-book build failed without npm; log {book_build.log}"


@book
def test_book_build_executes_no_notebook(book_build):
    """Each chapter executes once per test run, under nbval; the book shows the committed outputs."""
    assert "--config" in book_build.command, "the test build does not use the copy of _config.yml"
    executed = [line for line in book_build.output.splitlines() if "Executing notebook" in line]
    assert not executed, "the test build executed notebooks:\n" + "\n".join(executed)


@book
def test_toc_page_is_built(book_html, toc_page):
    assert page_html(book_html, toc_page).is_file(), f"{toc_page} is in _toc.yml but has no HTML page"


@book
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


@book
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


@book
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


@book
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


@book
def test_math_is_marked_up_for_mathjax(book_html, toc_page):
    """Math is TeX in MathJax's delimiters inside .math elements (what tests/test_browser.py sees typeset)."""
    page = built_page(book_html, toc_page)
    for node in soup(page).select(".math"):
        text = node.get_text().strip()
        assert text.startswith(("\\(", "\\[", "\\begin")), f"{toc_page}: unexpected math markup {text[:80]!r}"


@book
def test_pages_load_nothing_from_another_host(book_html):
    """No page loads a script, stylesheet, font, image or frame from another host, nor any widget loader."""
    problems = []
    for page in site_pages(book_html):
        name = page.relative_to(book_html)
        for tag in soup(page).find_all(list(LOADED)):
            url = (tag.get(LOADED[tag.name]) or "").strip()
            if tag.name == "link" and LINK_NOT_LOADED & set(tag.get("rel") or []):
                continue
            if url.lower().startswith(("http:", "https:", "//")):
                problems.append(f"{name}: <{tag.name}> loads {url}")
            if tag.name == "script" and any(loader in url for loader in WIDGET_LOADERS):
                problems.append(f"{name}: <script> loads the widget loader {url}")
        for match in re.finditer(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", page.read_text(encoding="utf-8")):
            problems.append(f"{name}: CSS url({match.group(1)})")
    for sheet in sorted((book_html / "_static").rglob("*.css")):
        for match in re.finditer(r"url\(\s*['\"]?((?:https?:)?//[^)'\"]+)", sheet.read_text(encoding="utf-8")):
            problems.append(f"{sheet.relative_to(book_html)}: url({match.group(1)})")
    assert not problems, f"{len(problems)} resources from other hosts:\n" + "\n".join(problems[:50])


# The extension that serves MathJax: it must fail loudly, never fall back to a CDN (no build needed).


@pytest.fixture
def offline_mathjax(monkeypatch):
    import importlib.util

    path = REPO / "book" / "_ext" / "offline_mathjax.py"
    spec = importlib.util.spec_from_file_location("offline_mathjax_under_test", path)
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_offline_mathjax_serves_the_wheels_mathjax_3_2_2(offline_mathjax, tmp_path):
    from importlib import metadata

    directory = offline_mathjax.mathjax_dir()
    pinned = re.search(r"^sphinx-mathjax-offline==([^\s#]+)", (REPO / "requirements.txt").read_text(), re.M)
    assert pinned, "requirements.txt does not pin sphinx-mathjax-offline"
    assert metadata.version("sphinx-mathjax-offline") == pinned.group(1)
    assert offline_mathjax.mathjax_version(directory) == "3.2.2"
    assert 'VERSION="3.2.2"' in (directory / "tex-mml-chtml.js").read_text(encoding="utf-8")
    target = tmp_path / "_static" / "mathjax"
    offline_mathjax._copy(directory, target)
    for part in (
        "tex-mml-chtml.js",
        "output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff",
        "input/tex/extensions/boldsymbol.js",
        "input/tex/extensions/cancel.js",
        "ui/menu.js",
    ):
        assert (target / part).is_file(), f"{part} was not copied"
        assert (target / part).read_bytes() == (directory / part).read_bytes()
    assert not (target / "output" / "svg").exists(), "the SVG output (unused) was copied"


def test_offline_mathjax_without_the_wheel_fails_clearly(offline_mathjax, monkeypatch):
    from importlib import metadata

    from sphinx.errors import ExtensionError

    def missing(name):
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(offline_mathjax.metadata, "distribution", missing)
    with pytest.raises(ExtensionError, match=r"sphinx-mathjax-offline is not installed.*does not fall back to a CDN"):
        offline_mathjax.mathjax_dir()


def test_offline_mathjax_with_an_incomplete_wheel_fails_clearly(offline_mathjax, monkeypatch, tmp_path):
    from sphinx.errors import ExtensionError

    class Broken:
        version = "0.0.2"

        def locate_file(self, path):
            (tmp_path / path).mkdir(parents=True, exist_ok=True)
            (tmp_path / path / "tex-mml-chtml.js").write_text('VERSION="3.2.2"')  # but no fonts
            return tmp_path / path

    monkeypatch.setattr(offline_mathjax.metadata, "distribution", lambda name: Broken())
    with pytest.raises(ExtensionError, match=r"lacks one of .*MathJax_Main-Regular\.woff.*reinstall"):
        offline_mathjax.mathjax_dir()


def test_path_without_hides_node_tools_and_keeps_the_rest(tmp_path):
    from conftest import NODE_TOOLS, path_without

    tools = tmp_path / "usr-bin"
    tools.mkdir()
    for name in ("npm", "node", "npx", "git", "sh"):
        (tools / name).write_text("#!/bin/sh\n")
        (tools / name).chmod(0o755)
    path = path_without(NODE_TOOLS, tmp_path / "farm", str(tools))
    for name in ("npm", "node", "npx"):
        assert shutil.which(name, path=path) is None, f"{name} is still on the PATH"
    for name in ("git", "sh"):
        assert Path(shutil.which(name, path=path)).resolve() == (tools / name).resolve()
    assert path.split(os.pathsep)[0] == str(Path(sys.executable).parent), "the venv's bin is not first"
