"""Shared fixtures and markers.

The book is built once per session, by the ``book_build`` fixture (tests/test_book.py, tests/test_browser.py):
``jupyter-book build <repo> --config <copy of _config.yml> --path-output <dir> -W -n --keep-going``, the README's
build command with two differences:

* execution is off (``execute_notebooks: off`` in the copy of ``_config.yml``): the pages are built from the
  committed outputs, which nbval (``notebooks/`` in the same pytest run) proves equal to a fresh execution,
  so each chapter executes once per CI run, not twice;
* ``PATH`` is the venv's ``bin`` plus the machine's tools without Node.js and npm: the build needs only pip
  (tests/test_book.py::test_book_builds_without_npm).

``VAETUT_BOOK_BUILD_DIR=<dir>`` builds into ``<dir>`` instead of a fresh temporary directory (the HTML and
doctrees are always rebuilt from scratch so that every warning shows again).

Markers (registered in pyproject.toml): every notebook item (nbval) is ``slow``; every test that uses the built
book is ``book`` and ``slow``. ``python -m pytest -m "not slow"`` runs the package tests only.
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

REPO = Path(__file__).resolve().parents[1]
SOURCE_SUFFIXES = (".ipynb", ".md", ".rst")
BUILD_TIMEOUT = 1200  # seconds: the pages are built from the committed outputs
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

_summary: list[str] = []


def toc_docnames(toc: Path = REPO / "_toc.yml") -> list[str]:
    """Every page of the book's table of contents, as docnames (paths without suffix), root first."""
    import yaml  # only where the TOC is read: the unit tests do not need PyYAML

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


def recorded_seconds(notebook: Path) -> float:
    """How long the committed outputs took to execute: the sum over code cells of the times Jupyter recorded."""
    import json
    from datetime import datetime

    total = 0.0
    for cell in json.loads(notebook.read_text(encoding="utf-8")).get("cells", []):
        times = cell.get("metadata", {}).get("execution", {})
        start, end = times.get("iopub.execute_input"), times.get("shell.execute_reply")
        if start and end:
            total += (datetime.fromisoformat(end) - datetime.fromisoformat(start)).total_seconds()
    return total


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:  # noqa: ARG001
    """Notebook cells (nbval) are ``slow``; a test that needs the built book is ``book`` and ``slow``.

    Items are ordered chapters first (and tests marked ``executes(notebook)``, which run a chapter elsewhere),
    the longest (by recorded execution time) first, each file's items kept in order: pytest-xdist hands out whole
    files in this order (``--no-loadscope-reorder``), so the longest chapters start at once on separate workers
    and the short files fill in around them.
    """
    for item in items:
        if item.path.suffix == ".ipynb":
            item.add_marker(pytest.mark.slow)
        if "book_build" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.book)
            item.add_marker(pytest.mark.slow)
    cost = {path: recorded_seconds(path) for path in {item.path for item in items if item.path.suffix == ".ipynb"}}

    def seconds(item: pytest.Item) -> float:
        """A chapter's recorded time; a test marked ``executes(notebook)`` runs that chapter, so it costs as much."""
        marker = item.get_closest_marker("executes")
        return recorded_seconds(REPO / marker.args[0]) if marker else cost.get(item.path, 0.0)

    items.sort(key=lambda item: -seconds(item))  # stable: each file keeps its order


class ChaptersExecutedElsewhere:
    """A chapter that a selected test marked ``executes(notebook)`` runs under nbval elsewhere (tests/test_package.py:
    a copy alone in an empty directory, against the installed wheel, every output compared) is not executed a
    second time here: its own nbval items are deselected. Runs last, on the final selection, so that
    ``-k``/``-m`` deselecting that test leave the chapter's nbval items in place.
    """

    @pytest.hookimpl(trylast=True)
    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        elsewhere = {}
        for item in items:
            if marker := item.get_closest_marker("executes"):
                elsewhere[(REPO / marker.args[0]).resolve()] = item.nodeid
        dropped = [item for item in items if item.path.suffix == ".ipynb" and item.path.resolve() in elsewhere]
        if not dropped:
            return
        config.hook.pytest_deselected(items=dropped)
        gone = {id(item) for item in dropped}
        items[:] = [item for item in items if id(item) not in gone]
        for path in sorted({item.path.resolve() for item in dropped}):
            _summary.append(f"{path.relative_to(REPO)} executed once, alone against the wheel, by {elsewhere[path]}")


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(ChaptersExecutedElsewhere(), "vaetut-chapters-executed-elsewhere")


@dataclass
class BookBuild:
    returncode: int
    output: str  # stdout and stderr, ANSI colours removed
    html: Path  # <path-output>/_build/html
    log: Path  # the output, also written to a file
    seconds: float
    command: list[str]
    path: str  # the PATH the build ran with (no npm on it)


#: Node.js and its package managers: the build must not need them.
NODE_TOOLS = ("node", "nodejs", "npm", "npx", "corepack", "yarn", "pnpm")


def path_without(names: tuple[str, ...], directory: Path, path: str | None = None) -> str:
    """A PATH with this interpreter's ``bin`` first, then every other tool on ``path`` except ``names``.

    The other tools are symlinked into ``directory`` (the first of each name wins, as on PATH), since
    ``/usr/bin`` holds both the system's tools and npm.
    """
    venv_bin = Path(sys.executable).parent
    directory.mkdir(parents=True, exist_ok=True)
    for entry in (path if path is not None else os.environ.get("PATH", "")).split(os.pathsep):
        if not entry or not os.path.isdir(entry) or Path(entry).resolve() == venv_bin.resolve():
            continue
        for tool in os.scandir(entry):
            link = directory / tool.name
            if tool.name in names or link.exists() or link.is_symlink():
                continue
            if tool.is_file() and os.access(tool.path, os.X_OK):
                link.symlink_to(tool.path)
    return os.pathsep.join([str(venv_bin), str(directory)])


def _jupyter_book() -> list[str]:
    script = Path(sys.executable).parent / "jupyter-book"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "import sys; from jupyter_book.cli.main import main; sys.exit(main())"]


def config_without_execution(directory: Path) -> Path:
    """A copy of ``_config.yml`` with ``execute_notebooks: off`` and the local extensions' paths made absolute."""
    import yaml

    config = yaml.safe_load((REPO / "_config.yml").read_text(encoding="utf-8"))
    config.setdefault("execute", {})["execute_notebooks"] = "off"
    extensions = config.get("sphinx", {}).get("local_extensions") or {}
    for name, where in extensions.items():
        extensions[name] = str((REPO / where).resolve())  # jupyter-book resolves them next to the config file
    path = directory / "_config.no-execution.yml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


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
    work = tmp_path_factory.mktemp("book-env")  # kept to the end of the session: tests look at its PATH
    env = dict(os.environ)
    env["PATH"] = path_without(NODE_TOOLS, work / "bin")
    env["PYTHONUNBUFFERED"] = "1"
    config = config_without_execution(work)
    cmd = [*_jupyter_book(), "build", str(REPO), "--config", str(config), "--path-output", str(out)]
    cmd += ["-W", "-n", "--keep-going"]
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
    return BookBuild(proc.returncode, output, html, log, seconds, cmd, env["PATH"])


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
