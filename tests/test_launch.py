"""Binder and Colab, the two launch buttons of the book's pages (no network: the files are read, not run).

* Binder (repo2docker) runs ``binder/postBuild``: the CPU build of torch alone from PyTorch's CPU wheel index
  alone, then ``requirements.txt`` itself from the default index, so otherwise exactly the book's pins (the
  install rule, shared with the workflows, is checked in ``tests/test_workflows.py``).
* Colab has only the notebook: each chapter's first code cell installs the pinned release of vaetut from the
  repository named once, as ``repository.url`` in ``_config.yml``, at the tag ``v<vaetut.__version__>``, and
  only where vaetut is not installed (under nbval and in a checkout, the local vaetut is used, nothing fetched).
  Where that install fails it prints one line (what failed, how to install by hand), not pip's traceback: the
  cell is written by tools/standalone.py, and run here against a repository that does not exist.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"  # PyTorch's own index of CPU-only wheels
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)$")


def read_requirements(path: Path, seen: tuple[Path, ...] = ()) -> tuple[dict[str, list[str]], list[str]]:
    """The ``name==version`` pins (names normalised) and the ``--extra-index-url`` values of a requirements
    file, following ``-r`` relative to the file that names it, as pip does."""
    pins: dict[str, list[str]] = {}
    indexes: list[str] = []
    assert path.resolve() not in seen, f"{path} includes itself"
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split(" #", 1)[0].strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith(("-r ", "--requirement ")):
            sub_pins, sub_indexes = read_requirements(path.parent / line.split(None, 1)[1], (*seen, path.resolve()))
            for name, versions in sub_pins.items():
                pins.setdefault(name, []).extend(versions)
            indexes += sub_indexes
        elif line.startswith("--extra-index-url"):
            indexes.append(line.split(None, 1)[1] if " " in line else line.split("=", 1)[1])
        elif line.startswith(("-e ", "--editable")):
            continue
        else:
            match = PIN.match(line)
            assert match, f"{path.name}: {line!r} is not pinned with =="
            pins.setdefault(re.sub(r"[-_.]+", "-", match.group(1)).lower(), []).append(match.group(2))
    return pins, indexes


# Files of binder/ that repo2docker would install before postBuild, each with one set of indexes for all packages.
BINDER_INSTALLS_FIRST = (
    "requirements.txt",
    "requirements3.txt",
    "environment.yml",
    "Pipfile",
    "Pipfile.lock",
    "setup.py",
)


def test_binder_installs_the_pinned_environment_with_cpu_torch():
    book, book_indexes = read_requirements(ROOT / "requirements.txt")
    assert not book_indexes, "requirements.txt itself must not name another index"
    for name, versions in book.items():
        assert len(versions) == 1, f"requirements.txt pins {name} twice: {versions}"
    (book_torch,) = book["torch"]
    assert "+" not in book_torch, f"requirements.txt pins torch=={book_torch}: a version without a local label"
    first = [name for name in BINDER_INSTALLS_FIRST if (ROOT / "binder" / name).exists()]
    assert not first, f"repo2docker would install binder/{first} before postBuild, with no index kept for torch"
    script = (ROOT / "binder" / "postBuild").read_text(encoding="utf-8")
    lines = [line.strip() for line in script.splitlines()]
    # repo2docker runs ./binder/postBuild: a shebang, stop at the first failure, then from the repository's root.
    assert lines[0].startswith("#!") and "bash" in lines[0], lines[0]
    assert lines.index("set -euo pipefail") < lines.index('cd "$(dirname "$0")/.."'), script
    installs = [line for line in lines if re.match(r"(\S*/)?(python3? -m )?pip3? install ", line)]
    assert lines.index('cd "$(dirname "$0")/.."') < lines.index(installs[0]), script
    assert len(installs) == 2, installs
    # torch first, the CPU build of requirements.txt's torch; then requirements.txt (relative to the root, where
    # the script has gone), whose `torch==X` the installed X+cpu satisfies: every version is the book's.
    assert re.findall(r"\btorch==(\S+)", installs[0]) == [f"{book_torch}+cpu"], installs[0]
    assert f"--index-url {TORCH_CPU_INDEX}" in installs[0] and "--no-deps" in installs[0].split(), installs[0]
    assert re.findall(r"(?:^| )-r (\S+)", installs[1]) == ["requirements.txt"], installs[1]
    assert "index" not in installs[1], installs[1]
    assert Version(f"{book_torch}+cpu") in SpecifierSet(f"=={book_torch}")


def test_binder_python_matches_the_package():
    runtime = (ROOT / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-3\.(\d+)", runtime)
    assert match, f"binder/runtime.txt says {runtime!r}, not python-3.X"
    minimum = re.search(r'requires-python = ">=3\.(\d+)"', (ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert int(match.group(1)) >= int(minimum.group(1))


def repository_url() -> str:
    import yaml

    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    url = config["repository"]["url"]
    assert re.fullmatch(r"https://[^\s/]+/[^\s/]+/[^\s/]+", url), f"_config.yml repository.url {url!r}"
    assert config["launch_buttons"].get("colab_url") and config["launch_buttons"].get("binderhub_url")
    return url


def first_code_cell(notebook: Path) -> str:
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    code = [cell for cell in cells if cell["cell_type"] == "code"]
    assert code, f"{notebook.name} has no code cell"
    source = code[0]["source"]
    return "".join(source) if isinstance(source, list) else source


def test_chapters_found():
    assert len(CHAPTERS) >= 4, [path.name for path in CHAPTERS]


@pytest.mark.parametrize("notebook", CHAPTERS, ids=[path.stem for path in CHAPTERS])
def test_chapter_installs_the_pinned_release_on_colab(notebook):
    import vaetut

    expected = f'release = "vaetut @ git+{repository_url()}@v{vaetut.__version__}"'
    source = first_code_cell(notebook)
    lines = [line.strip() for line in source.splitlines()]
    assert expected in lines, f"{notebook.name}: the first code cell does not hold\n    {expected}\nbut:\n{source}"
    assert "%pip" not in source and "!pip" not in source, f"{notebook.name}: a pip magic (its failure is a traceback)"
    installs = [line for line in lines if re.search(r"\bpip\b.*\binstall\b", line) and "print(" not in line]
    pip_call = '[sys.executable, "-m", "pip", "install", "--quiet", release]'
    assert len(installs) == 1 and pip_call in installs[0], f"{notebook.name}: other installs: {installs}"
    # Only where vaetut is missing (Colab) or only on Colab: nbval and a checkout use the local vaetut, fetch nothing.
    guard = re.search(
        r"^if .*(find_spec\([\"']vaetut[\"']\) is None|[\"']google\.colab[\"'] in sys\.modules).*:\s*$", source, re.M
    )
    assert guard, f'{notebook.name}: the install is not guarded by `if importlib.util.find_spec("vaetut") is None:`'
    release_line = next(line for line in source.splitlines() if line.strip() == expected)
    assert release_line.startswith((" ", "\t")) and source.index(release_line) > guard.start(), (
        f"{notebook.name}: the install is not inside the guard"
    )


def test_install_cells_are_one_and_the_same():
    assert len({first_code_cell(notebook) for notebook in CHAPTERS}) == 1, "the chapters' install cells differ"


def run_install_cell(release: str, tmp_path: Path) -> subprocess.CompletedProcess:
    """The first chapter's install cell, run as Colab would (vaetut not importable), installing ``release``."""
    source = first_code_cell(CHAPTERS[0])
    source = source.replace('importlib.util.find_spec("vaetut") is None', "True")
    source = re.sub(r'^(\s*release = )".*"$', lambda m: m.group(1) + repr(release), source, flags=re.M)
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH",)}
    env["PIP_NO_INPUT"] = "1"
    return subprocess.run(
        [sys.executable, "-c", source], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def test_failed_install_says_so_in_one_line(tmp_path):
    """No such repository (or tag): one line naming the release, git's reason and how to install by hand."""
    release = "vaetut @ git+file://localhost/nonexistent/vaetut@v0.0.0"
    result = run_install_cell(release, tmp_path)
    assert result.returncode == 0 and result.stderr == "", result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, f"{len(lines)} lines:\n{result.stdout}"
    (line,) = lines
    assert line.startswith(f"Could not install {release}: ") and f"pip install '{release}'" in line, line
    assert "fatal:" in line and "does not appear to be a git repository" in line, line  # git's own reason
    assert "Traceback" not in line
