"""Shared fixtures: the book built once per session (tests/test_book.py, tests/test_browser.py).

The build is ``jupyter-book build <repo> --path-output <dir> -W -n --keep-going``, run with this interpreter's
environment. It executes every chapter, so it takes minutes; it runs only when a test asks for ``book_build``.

``VAETUT_BOOK_BUILD_DIR=<dir>`` builds into ``<dir>`` instead of a fresh temporary directory and keeps its
execution cache (``<dir>/_build/.jupyter_cache``) between runs, so notebooks whose code did not change are not
re-executed; the HTML and doctrees are always rebuilt from scratch so that every warning shows again.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")
BUILD_TIMEOUT = 3600  # seconds
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_summary: list[str] = []


def toc_docnames(toc: Path = REPO / "_toc.yml") -> list[str]:
    """Every page of the book's table of contents, as docnames (paths without suffix), root first."""
    data = yaml.safe_load(toc.read_text(encoding="utf-8"))
    names = [data["root"]]

    def walk(entries: list | None) -> None:
        for entry in entries or []:
            if "file" in entry:
                names.append(entry["file"])
            for key in ("parts", "chapters", "sections"):
                walk(entry.get(key))

    for key in ("parts", "chapters", "sections"):
        walk(data.get(key))
    return [str(Path(name).with_suffix("")) if Path(name).suffix in SOURCE_SUFFIXES else name for name in names]


def source_of(docname: str) -> Path | None:
    for suffix in SOURCE_SUFFIXES:
        path = REPO / f"{docname}{suffix}"
        if path.is_file():
            return path
    return None


def is_chapter(docname: str) -> bool:
    """A chapter is an executed notebook (its page should show figures made by its code)."""
    source = source_of(docname)
    return source.suffix == ".ipynb" if source else docname.startswith("notebooks/")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "toc_page" in metafunc.fixturenames:
        pages = toc_docnames()
        metafunc.parametrize("toc_page", pages, ids=pages)
    if "chapter_page" in metafunc.fixturenames:
        chapters = [name for name in toc_docnames() if is_chapter(name)]
        metafunc.parametrize("chapter_page", chapters, ids=chapters)


@dataclass
class BookBuild:
    returncode: int
    output: str  # stdout and stderr, ANSI colours removed
    html: Path  # <path-output>/_build/html
    log: Path  # the output, also written to a file
    seconds: float


def _jupyter_book() -> list[str]:
    script = Path(sys.executable).parent / "jupyter-book"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]


@pytest.fixture(scope="session")
def book_build(tmp_path_factory: pytest.TempPathFactory) -> BookBuild:
    keep = os.environ.get("VAETUT_BOOK_BUILD_DIR")
    if keep:
        out = Path(keep).expanduser().resolve()
        for sub in ("html", ".doctrees", "jupyter_execute"):
            shutil.rmtree(out / "_build" / sub, ignore_errors=True)
        out.mkdir(parents=True, exist_ok=True)
    else:
        out = tmp_path_factory.mktemp("book")
    env = dict(os.environ)
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")  # the venv's kernel and tools
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [*_jupyter_book(), "build", str(REPO), "--path-output", str(out), "-W", "-n", "--keep-going"]
    start = time.monotonic()
    proc = subprocess.run(
        cmd,
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    seconds = time.monotonic() - start
    output = ANSI.sub("", proc.stdout)
    log = out / "build.log"
    log.write_text(f"$ {' '.join(cmd)}\n{output}\nexit {proc.returncode} after {seconds:.0f} s\n", encoding="utf-8")
    html = out / "_build" / "html"
    _summary.append(f"book built in {seconds:.0f} s (exit {proc.returncode}): {html}/index.html, log {log}")
    return BookBuild(proc.returncode, output, html, log, seconds)


@pytest.fixture(scope="session")
def book_html(book_build: BookBuild) -> Path:
    """The built HTML directory; fails (rather than erroring every test) if the build made none."""
    if not (book_build.html / "index.html").is_file():
        tail = "\n".join(book_build.output.splitlines()[-40:])
        pytest.fail(f"the book build produced no HTML (exit {book_build.returncode}); log {book_build.log}:\n{tail}")
    return book_build.html


@pytest.fixture(scope="session")
def summary_note():
    """A function that adds a line to the end-of-session summary (where the build and the screenshots are)."""
    return _summary.append


def pytest_terminal_summary(terminalreporter, exitstatus, config) -> None:  # noqa: ARG001
    if _summary:
        terminalreporter.section("vaetut book")
        for line in _summary:
            terminalreporter.write_line(line)
