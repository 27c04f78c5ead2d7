"""`python -m vaetut beta-table` from a terminal."""

import csv
import subprocess
import sys


def run(*args):
    return subprocess.run([sys.executable, "-m", "vaetut", *args], capture_output=True, text=True, timeout=300)


def test_help_names_the_command():
    result = run("--help")
    assert result.returncode == 0 and "beta-table" in result.stdout
    assert "--betas" in run("beta-table", "--help").stdout


def test_beta_table_prints_one_row_per_beta_and_writes_csv(tmp_path):
    path = tmp_path / "table.csv"
    result = run("beta-table", "--betas", "0", "1", "--epochs", "1", "--csv", str(path))
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩", "ratio"]
    collapse = lines[1].split()
    assert collapse[0] == "0.000" and collapse[2:5] == ["0.000", "0.000", "0.000"] and collapse[5] == "—"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == ["beta", "C", "U", "S", "V", "ratio"]  # plain names in data
    assert [float(r["beta"]) for r in rows] == [0.0, 1.0]
    assert abs(float(rows[0]["C"]) - float(collapse[1])) < 5e-4


def test_negative_beta_is_a_clear_error():
    result = run("beta-table", "--betas", "-1", "--epochs", "1")
    assert result.returncode == 2 and "beta must be" in result.stderr
