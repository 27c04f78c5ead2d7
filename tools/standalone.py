"""Make each chapter notebook self-contained, so that it works opened alone (Colab, a download, JupyterLab).

A chapter written in the book refers to files beside it: its picture ``../book/images/NAME.svg`` and links to
other chapters and book pages (``03_vae.ipynb#x``, ``../book/references.md``). Opened alone, every one of these
paths leads nowhere. This script rewrites the chapters' markdown cells and their first code cell:

1. **The picture travels inside the notebook.** ``![alt](../book/images/NAME.svg)`` becomes
   ``<img alt="alt" src="data:image/svg+xml;base64,...">``, the SVG itself as a data URI, under a one-line HTML
   comment that names its source file. Not a cell attachment: JupyterLab renders attachments only of bitmap
   types (its attachment resolver rejects ``image/svg+xml``), and MyST-NB does not render attachments at all
   (the build warns "image file not readable: attachment:..."). Not a markdown image either: MyST's parser
   (markdown-it) refuses ``data:image/svg+xml`` link targets and prints the markdown as text. A raw ``<img>``
   with a data URI shows in JupyterLab (its sanitizer keeps data: image sources), Colab, nbviewer and the book
   (MyST passes the HTML through).
2. **Links point to the published book.** A relative link to a page of the book's table of contents becomes
   the absolute URL of that page in the published book: ``html.baseurl`` in ``_config.yml`` (named there once)
   plus the page's path, e.g. ``https://vaetut.github.io/vaetut/notebooks/03_vae.html#x``. In the book itself,
   ``book/_ext/book_links.py`` maps these URLs back to the local pages and warns (an error under ``-W``) on
   any that names no page or no anchor.
3. **The install cell** (the first code cell) is rewritten from ``repository.url`` in ``_config.yml`` and
   ``vaetut.__version__``: where vaetut is not installed (Colab), it installs the pinned release
   ``vaetut @ git+<repository.url>@v<version>``; if that fails it prints one line saying what failed and how to
   install by hand, not pip's traceback.

Only markdown sources and the install cell's source change; outputs, metadata and cell ids stay as they are.
Running it again changes nothing (idempotent): an embedded picture is re-embedded from its current SVG file
(named in the comment above it), absolute links are left alone, the install cell is rewritten to the same text.
tests/test_standalone.py checks that the committed notebooks equal this script's output.

Usage (from anywhere; paths are relative to the repository)::

    python tools/standalone.py            # rewrite every chapter notebooks/NN_*.ipynb in place
    python tools/standalone.py --check    # exit 1 and name the notebooks that would change
"""

from __future__ import annotations

import argparse
import base64
import html
import re
import sys
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import nbformat
import yaml

REPO = Path(__file__).resolve().parents[1]
CHAPTER_GLOB = "notebooks/[0-9][0-9]_*.ipynb"
IMAGES = "book/images"
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")

#: A markdown image or link: ``![alt](target)`` / ``[text](target)``. Targets hold no spaces or parentheses here.
LINK = re.compile(r"(?P<bang>!?)\[(?P<text>[^\]]*)\]\((?P<target>[^()\s]+)\)")
#: The comment that names an embedded picture's source file, and the <img> after it (on a line of its own, then a
#: blank line: CommonMark's HTML block ends at the blank line).
MARKER = "<!-- picture: {path}, embedded by tools/standalone.py: edit the SVG file and re-run the script -->"
EMBEDDED = re.compile(
    r"<!-- picture: (?P<path>[^,\s]+), embedded by tools/standalone.py[^>]*-->\n"
    r'<img alt="(?P<alt>[^"]*)" src="data:image/svg\+xml;base64,[A-Za-z0-9+/=]*"[^>]*>'
)
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

INSTALL_CELL = """\
# On Colab, or wherever vaetut is not installed, install the book's package (a pinned release) first;
# where vaetut is installed (a checkout, Binder) this does nothing. A failed install says so in one line.
import importlib.util

if importlib.util.find_spec("vaetut") is None:
    import subprocess
    import sys

    release = "vaetut @ git+{url}@v{version}"
    pip = subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", release], capture_output=True, text=True)
    if pip.returncode == 0:
        importlib.invalidate_caches()
    else:
        lines = [line.strip() for line in pip.stderr.splitlines()]
        causes = [line for line in lines if line.startswith(("fatal:", "ERROR:", "error: pathspec"))]
        cause = causes[0] if causes else f"pip exited with {{pip.returncode}}"
        print(f"Could not install {{release}}: {{cause}}. By hand: pip install '{{release}}', restart the kernel")"""


class StandaloneError(ValueError):
    """A chapter refers to something this script cannot make self-contained."""


def config(repo: Path = REPO) -> dict:
    return yaml.safe_load((repo / "_config.yml").read_text(encoding="utf-8"))


def book_url(repo: Path = REPO) -> str:
    """The published book's base URL, ``html.baseurl`` in ``_config.yml``, ending in ``/``."""
    url = (config(repo).get("html") or {}).get("baseurl") or ""
    if not re.fullmatch(r"https://[^\s/]+/(\S*/)?", url):
        raise StandaloneError(f"_config.yml html.baseurl must be the published book's https URL ending in /: {url!r}")
    return url


def version(repo: Path = REPO) -> str:
    match = re.search(r'^__version__ = "([^"]+)"', (repo / "vaetut" / "__init__.py").read_text(encoding="utf-8"), re.M)
    return match.group(1)


def install_cell(repo: Path = REPO) -> str:
    url = config(repo)["repository"]["url"]
    return INSTALL_CELL.format(url=url, version=version(repo))


def toc_pages(repo: Path = REPO) -> dict[str, str]:
    """Each source file of the table of contents (repository-relative) and its page's path in the built book."""
    toc = yaml.safe_load((repo / "_toc.yml").read_text(encoding="utf-8"))
    names = [toc["root"]]

    def walk(entries: list | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(toc.get(key))
    pages = {}
    for name in names:
        stem = str(PurePosixPath(name).with_suffix("")) if PurePosixPath(name).suffix in SOURCE_SUFFIXES else name
        for suffix in SOURCE_SUFFIXES:
            if (repo / f"{stem}{suffix}").is_file():
                pages[f"{stem}{suffix}"] = f"{stem}.html"
    return pages


def picture(path: str, alt: str, repo: Path = REPO) -> str:
    """The marker comment and an <img> of ``path`` (repository-relative) as an SVG data URI."""
    svg = repo / path
    if not svg.is_file():
        raise StandaloneError(f"the picture {path} does not exist")
    if not alt.strip():
        raise StandaloneError(f"the picture {path} has no alt text")
    data = base64.b64encode(svg.read_bytes()).decode("ascii")
    return MARKER.format(path=path) + f'\n<img alt="{html.escape(alt)}" src="data:image/svg+xml;base64,{data}">'


def rewrite_markdown(source: str, notebook: Path, repo: Path = REPO) -> str:
    """The markdown cell's source with its pictures embedded and its links to book pages made absolute."""
    base, pages = book_url(repo), toc_pages(repo)
    here = notebook.resolve().parent
    if not here.is_relative_to(repo.resolve()):  # a chapter elsewhere: its paths are as if it were in notebooks/
        here = repo.resolve() / "notebooks"

    # Embedded pictures first, from their current files (their data URIs are then skipped below).
    source = EMBEDDED.sub(lambda m: picture(m["path"], html.unescape(m["alt"]), repo), source)

    def replace(match: re.Match) -> str:
        target = match["target"]
        if SCHEME.match(target) or target.startswith("#"):
            return match[0]  # a URL (the published book, data:, another site) or an anchor in this notebook
        parts = urlsplit(target)
        try:
            path = (here / parts.path).resolve().relative_to(repo.resolve()).as_posix()
        except ValueError:
            raise StandaloneError(f"{notebook.name}: {target} is outside the repository") from None
        if match["bang"]:
            if path.startswith(f"{IMAGES}/") and path.endswith(".svg"):
                return picture(path, match["text"], repo)
            raise StandaloneError(f"{notebook.name}: the image {target} is not an SVG picture under {IMAGES}/")
        if path not in pages:
            raise StandaloneError(f"{notebook.name}: the link {target} is to no page of the book (_toc.yml)")
        url = base + pages[path] + (f"#{parts.fragment}" if parts.fragment else "")
        return f"[{match['text']}]({url})"

    source = LINK.sub(replace, source)
    # The <img> line ends an HTML block only at a blank line: make sure one follows (the text's own, or one more).
    return re.sub(r"(<img [^>]*src=\"data:image/svg\+xml;base64,[^\"]*\"[^>]*>)\n(?=[^\n])", r"\1\n\n", source)


def standalone(notebook: Path, repo: Path = REPO) -> nbformat.NotebookNode:
    """The notebook made self-contained (a new object; the file is not written)."""
    nb = nbformat.read(notebook, as_version=nbformat.NO_CONVERT)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if not code or 'find_spec("vaetut")' not in code[0].source:
        raise StandaloneError(f"{notebook.name}: the first code cell is not the install cell")
    code[0].source = install_cell(repo)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = rewrite_markdown(cell.source, notebook, repo)
    return nb


def text_of(nb: nbformat.NotebookNode) -> str:
    """The notebook as the repository stores it (nbformat's layout, one trailing newline)."""
    return nbformat.writes(nb) + "\n"


def chapters(repo: Path = REPO) -> list[Path]:
    return sorted(repo.glob(CHAPTER_GLOB))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="chapter notebooks (default: notebooks/NN_*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook would change")
    args = parser.parse_args(argv)
    changed = []
    try:
        for notebook in args.notebooks or chapters():
            before = notebook.read_text(encoding="utf-8")
            after = text_of(standalone(notebook))
            if after != before:
                changed.append(notebook)
                if not args.check:
                    notebook.write_text(after, encoding="utf-8")
    except StandaloneError as error:
        print(f"standalone.py: {error}", file=sys.stderr)
        return 2
    verb = "would change" if args.check else "changed"
    for notebook in changed:
        print(f"{verb}: {notebook}")
    return 1 if (args.check and changed) else 0


if __name__ == "__main__":
    sys.exit(main())
