"""The package as a reader installs it: the wheel and the sdist, and a chapter opened alone against the wheel.

Once per session (``installed_wheel``, here, so one xdist worker builds it):

* ``python -m build --no-isolation`` on a copy of the checkout (the checkout itself may be read-only, and the build
  leaves ``build/`` and ``*.egg-info`` behind) gives an sdist and a wheel built from that sdist; ``twine check
  --strict`` passes on both. ``--no-isolation`` uses this environment's pinned setuptools and needs no network.
* A fresh virtual environment gets the WHEEL with ``pip install --no-deps --no-index``. Its dependencies (torch,
  Jupyter, pytest, nbval) come from this environment, whose site-packages directory the new one appends to its path
  with a ``.pth`` line. Such a line does not process this environment's own ``.pth`` files, so the editable install
  of the checkout stays off, and the new environment's site-packages comes first: ``import vaetut`` finds the wheel.
  Every command below runs with ``PYTHONPATH`` unset, from a directory outside the checkout, and checks
  ``vaetut.__file__``.

The chapter test copies one chapter (the quickest) into an empty directory and runs nbval on it in the new
environment: the chapter executes from the copy against the wheel, and its outputs must equal the committed ones.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
#: The chapter executed alone: the quickest by its recorded execution time (tests/conftest.py::recorded_seconds).
STANDALONE_CHAPTER = REPO / "notebooks" / "02_denoising.ipynb"
#: What a copy of the checkout leaves out: caches, environments, builds, version control.
NOT_COPIED = shutil.ignore_patterns(
    ".git", ".venv", "_build", "build", "dist", "*.egg-info", "__pycache__", ".pytest_cache", ".ruff_cache",
    ".ipynb_checkpoints", ".hypothesis",
)  # fmt: skip


@dataclass
class InstalledWheel:
    wheel: Path
    sdist: Path
    python: Path  # the fresh environment's interpreter
    site_packages: Path  # the fresh environment's own site-packages, where the wheel went
    workdir: Path  # an empty directory outside the checkout


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without PYTHONPATH (which would put a checkout's vaetut first)."""
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "PYTHONHOME")}
    return {**env, "PYTHONNOUSERSITE": "1", **extra}


def run(args: list, cwd: Path, timeout: float = 300, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=clean_env(**env), capture_output=True, text=True, timeout=timeout
    )


def version() -> str:
    text = (REPO / "vaetut" / "__init__.py").read_text(encoding="utf-8")
    return re.search(r'^__version__ = "([^"]+)"', text, re.M).group(1)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """The sdist and the wheel, built by ``python -m build`` from a copy of the checkout."""
    pytest.importorskip("build", reason="python -m build needs the `build` package (requirements.txt)")
    top = tmp_path_factory.mktemp("package")
    source, dist = top / "source", top / "dist"
    shutil.copytree(REPO, source, ignore=NOT_COPIED)
    result = run([sys.executable, "-m", "build", "--no-isolation", "--outdir", dist, source], cwd=top)
    assert result.returncode == 0, f"python -m build failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    (sdist,) = dist.glob("vaetut-*.tar.gz")
    (wheel,) = dist.glob("vaetut-*.whl")
    return sdist, wheel


@pytest.fixture(scope="session")
def installed_wheel(built, tmp_path_factory) -> InstalledWheel:
    sdist, wheel = built
    top = tmp_path_factory.mktemp("fresh-venv")
    venv = top / "venv"
    result = run([sys.executable, "-m", "venv", "--without-pip", venv], cwd=top)
    assert result.returncode == 0, result.stderr
    python = venv / "bin" / "python"
    site_packages = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=top).stdout.strip()
    )
    # This environment's packages (torch, Jupyter, pytest), after the new environment's own site-packages.
    (site_packages / "_vaetut_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n", encoding="utf-8")
    result = run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", wheel], top)
    assert result.returncode == 0, f"pip install of the wheel failed:\n{result.stdout}\n{result.stderr}"
    workdir = top / "work"
    workdir.mkdir()
    return InstalledWheel(wheel, sdist, python, site_packages, workdir)


def test_twine_check_passes(built):
    pytest.importorskip("twine", reason="twine is pinned in requirements.txt")
    result = run([sys.executable, "-m", "twine", "check", "--strict", *built], cwd=built[0].parent)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASSED") == 2, result.stdout


def test_wheel_holds_the_package_data_and_licences_and_no_tests_or_notebooks(built):
    _, wheel = built
    names = zipfile.ZipFile(wheel).namelist()
    data = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "vaetut" / "_data").iterdir() if p.is_file())
    assert data and "vaetut/_data/mnist5k.npz" in data
    missing = [name for name in data if name not in names]
    assert not missing, f"the wheel lacks the package data {missing}"
    dist_info = f"vaetut-{version()}.dist-info"
    for licence in ("LICENSE", "NOTICE"):
        assert f"{dist_info}/licenses/{licence}" in names, f"the wheel lacks {licence}: {names}"
    modules = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "vaetut").glob("*.py"))
    assert [m for m in modules if m not in names] == [], "the wheel lacks modules of the package"
    stray = [n for n in names if n.startswith(("tests/", "notebooks/", "book/")) or n.endswith(".ipynb")]
    assert not stray, f"the wheel ships tests or notebooks: {stray}"
    assert {n.split("/")[0] for n in names} == {"vaetut", dist_info}, sorted({n.split("/")[0] for n in names})


def test_sdist_holds_the_package_and_licences(built):
    sdist, _ = built
    with tarfile.open(sdist) as tar:
        names = {name.split("/", 1)[1] for name in tar.getnames() if "/" in name}
    for needed in (
        "pyproject.toml",
        "README.md",
        "LICENSE",
        "NOTICE",
        "vaetut/__init__.py",
        "vaetut/_data/mnist5k.npz",
    ):
        assert needed in names, f"the sdist lacks {needed}"
    assert not any(name.endswith(".ipynb") for name in names), "the sdist ships notebooks"


def test_installed_wheel_is_what_imports(installed_wheel):
    """The fresh environment imports vaetut from the wheel, not from this checkout or its editable install."""
    code = "import vaetut, torch; print(vaetut.__file__); print(vaetut.__version__); print(torch.__version__)"
    result = run([installed_wheel.python, "-c", code], cwd=installed_wheel.workdir)
    assert result.returncode == 0, result.stderr
    where, got_version, _ = result.stdout.split()
    assert Path(where).parent == installed_wheel.site_packages / "vaetut", f"vaetut imported from {where}"
    assert not Path(where).resolve().is_relative_to(REPO.resolve())
    assert got_version == version()
    record = (installed_wheel.site_packages / f"vaetut-{version()}.dist-info" / "RECORD").read_text()
    assert "vaetut/_data/mnist5k.npz" in record


def test_installed_cli_version_and_beta_table(installed_wheel):
    python, cwd = installed_wheel.python, installed_wheel.workdir
    result = run([python, "-m", "vaetut", "--version"], cwd=cwd)
    assert result.returncode == 0 and result.stdout.strip() == f"vaetut {version()}", result.stdout + result.stderr
    result = run([python, "-m", "vaetut", "beta-table", "--betas", "0"], cwd=cwd, MPLCONFIGDIR=str(cwd / ".mpl"))
    assert result.returncode == 0, result.stderr
    header, row = result.stdout.splitlines()[:2]
    assert header.split() == ["β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩", "ratio"]
    # β = 0 is total collapse, set exactly: ⟨C⟩ is the test images' spread about the training mean.
    import torch

    from vaetut import load_mnist

    train = load_mnist(split="train", dtype=torch.float64)[0]
    test = load_mnist(split="test", dtype=torch.float64)[0]
    spread = (0.5 * ((test - train.mean(0)) ** 2).sum(1)).mean().item()
    cells = row.split()
    assert float(cells[0]) == 0.0 and cells[2:5] == ["0.000", "0.000", "0.000"]
    assert abs(float(cells[1]) - spread) < 5e-4, (cells[1], spread)


# A chapter alone: the copy executes against the wheel, and refers to nothing outside itself.

MARKDOWN_LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)")
HTML_URL = re.compile(r"""\b(?:src|href)\s*=\s*["']([^"']+)["']""", re.I)


def outside_references(notebook: Path) -> list[str]:
    """Every link or image target in a markdown cell that is a path (relative or absolute), not a URL or anchor."""
    bad = []
    for index, cell in enumerate(json.loads(notebook.read_text(encoding="utf-8"))["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        source = "".join(cell["source"])
        for target in MARKDOWN_LINK.findall(source) + HTML_URL.findall(source):
            if re.match(r"^(https?:|mailto:|data:|attachment:|#)", target):
                continue
            bad.append(f"cell {index}: {target[:80]}")
        bad += [f"cell {index}: mentions ../" for _ in re.findall(r"\]\(\.\./|[\"']\.\./", source)]
    return bad


CHAPTERS = sorted((REPO / "notebooks").glob("[0-9][0-9]_*.ipynb"))


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapter_refers_to_nothing_outside_itself(notebook):
    """A chapter opened alone (Colab, a download) loses every relative path: pictures and links must not be paths."""
    bad = outside_references(notebook)
    assert not bad, f"{notebook.name} refers to paths outside the notebook (run tools/standalone.py):\n" + "\n".join(
        bad
    )


def test_outside_references_finds_paths():
    """The check itself: it catches a picture, a chapter link and a raw <img> by path, and lets URLs through."""
    import tempfile

    cells = [
        {"cell_type": "markdown", "source": "![a picture](../book/images/vae.svg) and [ch. 3](03_vae.ipynb#x)"},
        {"cell_type": "markdown", "source": '<img alt="x" src="figure.png"> [refs](../book/references.md)'},
        {"cell_type": "markdown", "source": "[book](https://example.org/a.html#b) ![p](data:image/svg+xml;base64,AA)"},
        {"cell_type": "code", "source": "open('../book/images/vae.svg')"},
    ]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "nb.ipynb"
        path.write_text(json.dumps({"cells": cells}), encoding="utf-8")
        found = outside_references(path)
    targets = [line.split(": ", 1)[1] for line in found]
    assert "../book/images/vae.svg" in targets and "03_vae.ipynb#x" in targets
    assert "figure.png" in targets and "../book/references.md" in targets
    assert not any(line.startswith("cell 2") or line.startswith("cell 3") for line in found), found


@pytest.mark.slow
@pytest.mark.executes(STANDALONE_CHAPTER.relative_to(REPO).as_posix())
def test_chapter_executes_alone_against_the_wheel(installed_wheel, tmp_path):
    """The quickest chapter, copied into an empty directory, runs under nbval in the fresh environment: it
    executes there against the wheel (a cell added after the install cell checks where vaetut comes from, and
    prints nothing), and every output equals the committed one."""
    alone = tmp_path / "alone"
    alone.mkdir()
    nb = json.loads(STANDALONE_CHAPTER.read_text(encoding="utf-8"))
    install = next(i for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code")
    check = f"import vaetut\nassert vaetut.__file__.startswith({str(installed_wheel.site_packages)!r}), vaetut.__file__"
    nb["cells"].insert(
        install + 1,
        {"cell_type": "code", "execution_count": None, "id": "wheel-check", "metadata": {}, "outputs": [],
         "source": check},
    )  # fmt: skip
    copy = alone / STANDALONE_CHAPTER.name
    copy.write_text(json.dumps(nb, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    assert sorted(p.name for p in alone.iterdir()) == [copy.name]
    assert not outside_references(copy)
    args = [installed_wheel.python, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:xdist", "-q"]
    args += ["--nbval", "--nbval-current-env", "--nbval-sanitize-with", REPO / "notebooks" / "sanitize.cfg"]
    ini = tmp_path / "pytest.ini"  # not the checkout's pyproject.toml (its addopts, its testpaths)
    ini.write_text("[pytest]\n", encoding="utf-8")
    args += ["--nbval-cell-timeout=600", "--rootdir", alone, "-c", ini, copy.name]
    result = run(args, cwd=alone, timeout=1200, MPLCONFIGDIR=str(tmp_path / "mpl"), HOME=str(tmp_path))
    tail = "\n".join((result.stdout + result.stderr).splitlines()[-60:])
    assert result.returncode == 0, f"{STANDALONE_CHAPTER.name} failed when run alone against the wheel:\n{tail}"
    assert re.search(r"\b\d+ passed\b", result.stdout) and " failed" not in result.stdout, tail
