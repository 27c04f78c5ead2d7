"""ruff, as CI runs it: `ruff check .` and `ruff format --check .` over the repository (config in pyproject.toml)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("command", [["check", "."], ["format", "--check", "."]], ids=["check", "format"])
def test_ruff_is_clean(command):
    proc = subprocess.run(
        [sys.executable, "-m", "ruff", *command, "--no-cache"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, (
        f"`ruff {' '.join(command)}` failed; run `ruff check --fix . && ruff format .`:\n"
        + (proc.stdout + proc.stderr)[-4000:]
    )
