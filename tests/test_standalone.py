"""Chapters that open anywhere: tools/standalone.py's output is what is committed, its links name real pages, the
book maps them back to local pages, and every figure has a real alt text (WCAG 1.1.1).

Alt text: MyST-NB 1.4 takes a figure's alt text from its code cell's metadata,
``"mystnb": {"image": {"alt": "..."}}`` (checked: it becomes the page's ``<img alt="...">``; without it Sphinx
writes the image's hashed file name, which a screen reader reads out). The chapters' pictures carry theirs in
their ``<img alt>`` (tools/standalone.py), the static sliders in each frame's ``<img alt>`` (vaetut.widgets).
"""

from __future__ import annotations

import base64
import html
import importlib.util
import json
import re
import sys
from pathlib import Path
from urllib.parse import urlsplit

import pytest

REPO = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))
IDS = [path.stem for path in CHAPTERS]
book = lambda test: pytest.mark.book(pytest.mark.slow(test))  # uses the built book
FIGURE_TYPES = ("image/png", "image/svg+xml", "image/jpeg", "image/gif")
#: Chapters whose figure cells do not yet all carry "mystnb": {"image": {"alt": ...}} (the chapter engineers add
#: them). Strict: a chapter listed here whose figures all have alt text FAILS, so empty this set when they do.
ALT_TEXT_PENDING: set[str] = set()


@pytest.fixture(scope="module")
def standalone():
    spec = importlib.util.spec_from_file_location("standalone_under_test", REPO / "tools" / "standalone.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    yield module
    del sys.modules[spec.name]


def cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


# tools/standalone.py


@pytest.mark.parametrize("notebook", CHAPTERS, ids=IDS)
def test_committed_chapter_is_the_scripts_output(standalone, notebook):
    """The pictures embedded from the current book/images/*.svg, links absolute, the install cell as generated."""
    expected = standalone.text_of(standalone.standalone(notebook))
    assert notebook.read_text(encoding="utf-8") == expected, (
        f"{notebook.name} differs from tools/standalone.py's output: run `python tools/standalone.py`"
    )


def test_script_is_idempotent_and_keeps_outputs(standalone, tmp_path):
    """From the chapter as a chapter engineer writes it (relative paths, a %pip line), the script gives the
    committed chapter; run again it changes nothing; outputs, metadata and ids are untouched."""
    notebook = CHAPTERS[0]
    original = json.loads(notebook.read_text(encoding="utf-8"))
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    unembedded = 0
    for cell in nb["cells"]:
        if cell["cell_type"] == "markdown":
            text = source(cell)
            text, n = standalone.EMBEDDED.subn(
                lambda m: f"![{html.unescape(m['alt'])}](../{m['path']})", text
            )  # back to the file
            unembedded += n
            text = text.replace(standalone.book_url(), "../").replace("../notebooks/", "")
            text = re.sub(r"\]\(\.\./book/([a-z_]+)\.html", r"](../book/\1.md", text)
            text = re.sub(r"\]\(([0-9]{2}_[a-z_]+)\.html", r"](\1.ipynb", text)
            cell["source"] = text
    assert unembedded == 1, "chapter 1 should have one embedded picture"
    copy = tmp_path / "notebooks" / notebook.name
    copy.parent.mkdir()
    copy.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert "../book/images/autoencoder.svg" in copy.read_text(encoding="utf-8")
    first = standalone.standalone(copy)
    once = standalone.text_of(first)
    copy.write_text(once, encoding="utf-8")
    assert standalone.text_of(standalone.standalone(copy)) == once, "a second run changed the notebook"
    assert once == notebook.read_text(encoding="utf-8")
    for before, after in zip(original["cells"], json.loads(once)["cells"], strict=True):
        assert before.get("outputs") == after.get("outputs") and before["metadata"] == after["metadata"]
        assert before.get("id") == after.get("id")


def test_script_embeds_the_current_svg(standalone, tmp_path):
    """An edited SVG file is re-embedded on the next run (the picture cannot drift from book/images)."""
    repo = tmp_path / "repo"
    for name in ("_config.yml", "_toc.yml", "vaetut/__init__.py", "book/images/vae.svg", "notebooks/03_vae.ipynb"):
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_bytes((REPO / name).read_bytes())
    for name in ("book/intro.md", "book/notation.md", "book/references.md"):
        (repo / name).write_text("# page\n", encoding="utf-8")
    for chapter in CHAPTERS:
        (repo / "notebooks" / chapter.name).touch(exist_ok=True)
    svg = repo / "book" / "images" / "vae.svg"
    svg.write_text(svg.read_text(encoding="utf-8").replace("</svg>", "<!-- edited --></svg>"), encoding="utf-8")
    nb = standalone.standalone(repo / "notebooks" / "03_vae.ipynb", repo)
    embedded = [
        m for cell in nb.cells if cell.cell_type == "markdown" for m in re.findall(r"base64,([^\"]+)", cell.source)
    ]
    assert embedded and base64.b64decode(embedded[0]) == svg.read_bytes()


def test_script_refuses_what_it_cannot_make_standalone(standalone):
    path = CHAPTERS[0]  # only its directory is used
    for bad, message in [
        ("[readme](../README.md)", "no page of the book"),
        ("![plot](figure.png)", "not an SVG picture"),
        ("![](../book/images/vae.svg)", "no alt text"),
        ("[up](../../x.md)", "outside the repository"),
    ]:
        with pytest.raises(standalone.StandaloneError, match=message):
            standalone.rewrite_markdown(bad, path)


def test_book_urls_in_chapters_name_pages_of_the_book(standalone):
    """Every absolute link to the published book names a page of the TOC (its anchors: the book build checks)."""
    base, pages = standalone.book_url(), set(standalone.toc_pages().values())
    found = 0
    for notebook in CHAPTERS:
        for cell in cells(notebook):
            if cell["cell_type"] != "markdown":
                continue
            for url in re.findall(r"\]\((" + re.escape(base) + r"[^)\s]*)\)", source(cell)):
                page = urlsplit(url).path[len(urlsplit(base).path) :]
                assert page in pages, f"{notebook.name}: {url} names no page of the book"
                found += 1
    assert found >= 4, f"only {found} links to the book's pages in the chapters"


@book
def test_book_links_are_local_and_pictures_are_embedded(book_html, standalone):
    """The built pages link to each other locally (book/_ext/book_links.py), and each chapter shows its picture:
    an <img> whose data URI is the current SVG file, with its alt text."""
    from bs4 import BeautifulSoup

    base = standalone.book_url()
    pictures = 0
    for notebook in CHAPTERS:
        page = book_html / "notebooks" / f"{notebook.stem}.html"
        doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        remote = [a["href"] for a in doc.find_all("a", href=True) if a["href"].startswith(base)]
        assert not remote, f"{page.name} still links to the published book: {remote}"
        for match in standalone.EMBEDDED.finditer("\n".join(source(c) for c in cells(notebook))):
            data = base64.b64encode((REPO / match["path"]).read_bytes()).decode("ascii")
            imgs = [img for img in doc.find_all("img") if img.get("src") == f"data:image/svg+xml;base64,{data}"]
            assert imgs, f"{page.name} does not show {match['path']}"
            assert imgs[0].get("alt") == html.unescape(match["alt"])
            pictures += 1
    assert pictures == 3, f"{pictures} pictures embedded, expected the three of book/images"


# Alt text


def bad_alt(alt: str | None) -> str | None:
    """Why an alt text is not one (None if it is): missing, empty, a file name or hash, or a bare word."""
    if alt is None:
        return "missing"
    text = alt.strip()
    if not text:
        return "empty"
    if re.search(r"\.(png|svg|jpe?g|gif)\b|_images/|[0-9a-f]{16,}", text, re.I):
        return f"a file name or hash: {text[:60]!r}"
    if len(text.split()) < 3 or text.lower().rstrip(".") in {"figure", "image", "plot", "a figure", "a plot"}:
        return f"not a sentence: {text!r}"
    return None


def test_bad_alt_catches_what_a_screen_reader_would_read_badly():
    assert bad_alt(None) == "missing" and bad_alt("  ") == "empty"
    assert bad_alt("../_images/a70b6c093cd32d0f29bf2691d56a577a2894668f9fe8276e06844d99c6fb721c.png")
    assert bad_alt("loss.png") and bad_alt("Figure") and bad_alt("a plot")
    assert bad_alt("Held-out C falls as the code dimension D grows, then levels off.") is None


def figure_cells(notebook: Path):
    """(index, cell) of every code cell whose figure the book shows (an image output not removed by a tag)."""
    for index, cell in enumerate(cells(notebook)):
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] != "code" or tags & {"remove-output", "remove-cell", "remove_output", "remove_cell"}:
            continue
        if any(kind in output.get("data", {}) for output in cell.get("outputs", []) for kind in FIGURE_TYPES):
            yield index, cell


def pending(ids: list[str]) -> list:
    return [
        pytest.param(
            path,
            id=stem,
            marks=pytest.mark.xfail(
                strict=True, reason="ALT TEXT PENDING: the chapter engineer adds mystnb.image.alt; then drop it here"
            ),
        )
        if stem in ALT_TEXT_PENDING
        else pytest.param(path, id=stem)
        for path, stem in zip(CHAPTERS, ids)
    ]


@pytest.mark.parametrize("notebook", pending(IDS))
def test_every_figure_has_alt_text(notebook):
    """Each figure cell sets "mystnb": {"image": {"alt": "<one sentence>"}}; each <img> a cell writes (the static
    sliders' frames) or a markdown cell holds (the pictures) has a real alt."""
    problems = []
    for index, cell in figure_cells(notebook):
        alt = cell.get("metadata", {}).get("mystnb", {}).get("image", {}).get("alt")
        if why := bad_alt(alt):
            problems.append(f"cell {index} ({source(cell).splitlines()[0][:50]!r}): alt text {why}")
    for index, cell in enumerate(cells(notebook)):
        htmls = [source(cell)] if cell["cell_type"] == "markdown" else []
        for output in cell.get("outputs", []):
            text = output.get("data", {}).get("text/html")
            htmls += ["".join(text) if isinstance(text, list) else text] if text else []
        for fragment in htmls:
            for tag in re.findall(r"<img\b[^>]*>", fragment):
                alt = re.search(r'\balt="([^"]*)"', tag)
                if why := bad_alt(html.unescape(alt.group(1)) if alt else None):
                    problems.append(f"cell {index}: <img> alt text {why}")
            for alt in re.findall(r"!\[([^\]]*)\]\(", fragment):
                if why := bad_alt(alt):
                    problems.append(f"cell {index}: markdown image alt text {why}")
    assert not problems, f"{notebook.name}: figures without a real alt text:\n" + "\n".join(problems)


@book
@pytest.mark.parametrize("notebook", pending(IDS))
def test_every_image_on_the_page_has_alt_text(book_html, notebook):
    """What a screen reader gets: every <img> in the chapter's page content has a real alt."""
    from bs4 import BeautifulSoup

    page = book_html / "notebooks" / f"{notebook.stem}.html"
    doc = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    content = doc.find("article") or doc
    problems = [
        f"{(img.get('src') or '')[:50]}: {why}" for img in content.find_all("img") if (why := bad_alt(img.get("alt")))
    ]
    assert not problems, f"{page.name}: images without a real alt text:\n" + "\n".join(problems)


# book/_ext/book_links.py, on a two-page Sphinx project (no book build needed)


def sphinx_build(tmp_path: Path, index: str) -> tuple[int, str, Path]:
    import subprocess

    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "conf.py").write_text(
        "import sys\n"
        f"sys.path.insert(0, {str(REPO / 'book' / '_ext')!r})\n"
        "extensions = ['book_links']\n"
        "html_baseurl = 'https://example.org/book/'\n",
        encoding="utf-8",
    )
    (src / "index.rst").write_text(f"Index\n=====\n\n{index}\n\n.. toctree::\n\n   other\n", encoding="utf-8")
    (src / "other.rst").write_text("Other\n=====\n\nA section\n---------\n\nText.\n", encoding="utf-8")
    proc = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "-n", "--keep-going", "-q", "-E", str(src), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    return proc.returncode, proc.stderr, out


def test_book_links_become_local(tmp_path):
    from bs4 import BeautifulSoup

    code, err, out = sphinx_build(
        tmp_path, "`a <https://example.org/book/other.html#a-section>`__ `b <https://example.org/book/>`__"
    )
    assert code == 0, err
    links = {a.get_text(): a for a in BeautifulSoup((out / "index.html").read_text(), "html.parser").find_all("a")}
    assert links["a"]["href"] == "other.html#a-section" and "internal" in links["a"]["class"]
    assert links["b"]["href"] == "#" or links["b"]["href"] in ("", "index.html")


def test_book_links_to_nothing_fail_a_W_build(tmp_path):
    missing, no_anchor = "https://example.org/book/missing.html", "https://example.org/book/other.html#no-such-anchor"
    code, err, _ = sphinx_build(tmp_path, f"`x <{missing}>`__ `y <{no_anchor}>`__")
    assert code != 0, err
    assert f"names no page of this book: {missing}" in err, err
    assert f"names no anchor #no-such-anchor in other: {no_anchor}" in err, err
