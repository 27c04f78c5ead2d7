"""`python -m vaetut beta-table` from a terminal: clear one-line errors before any work, a CSV written
through the path (never replacing what is there), and output on any stdout encoding.

Fast: β = 0 is total collapse, set exactly (no training); one worker process, D = 2."""

import csv
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from vaetut import experiments
from vaetut.__main__ import MAX_THREADS, main  # noqa: I001

FAST = ("beta-table", "--betas", "0", "--jobs", "1", "--latent-dim", "2")
HEADER = ["beta", "C", "U", "S", "V", "ratio"]


def run(*args, env=None, prefix=()):
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[1]), **(env or {})}
    return subprocess.run(
        [*prefix, sys.executable, "-m", "vaetut", *args], capture_output=True, text=True, timeout=300, env=env
    )


@pytest.fixture
def no_training(monkeypatch):
    """Any call of beta_sweep fails the test: the error must come before the work."""

    def trained(*args, **kwargs):
        raise AssertionError("beta_sweep ran although the arguments were bad")

    monkeypatch.setattr(experiments, "beta_sweep", trained)


def one_line_error(capsys, *argv) -> str:
    with pytest.raises(SystemExit) as info:
        status = main(list(argv))
        raise SystemExit(status)
    err = capsys.readouterr().err
    assert info.value.code == 2, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err, err
    return err


def test_help_names_the_command():
    result = run("--help")
    assert result.returncode == 0 and "beta-table" in result.stdout
    assert "--betas" in run("beta-table", "--help").stdout


def test_beta_table_prints_one_row_per_beta_and_writes_csv(tmp_path):
    path = tmp_path / "table.csv"
    result = run(
        "beta-table", "--betas", "0", "1", "--epochs", "1", "--latent-dim", "2", "--jobs", "1", "--csv", str(path)
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩", "ratio"]
    collapse = lines[1].split()
    assert collapse[0] == "0.000" and collapse[2:5] == ["0.000", "0.000", "0.000"] and collapse[5] == "—"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == HEADER  # plain names in data
    assert [float(r["beta"]) for r in rows] == [0.0, 1.0]
    assert abs(float(rows[0]["C"]) - float(collapse[1])) < 5e-4
    assert abs(float(rows[1]["V"]) + float(lines[2].split()[4])) < 5e-4  # the CSV has V, the screen −V


@pytest.mark.parametrize(
    "argv, named",
    [
        (("--betas", "-1"), "beta must be"),
        (("--betas", "nan"), "beta must be"),
        (("--betas", "1x"), "beta must be a number"),
        (("--threads", "0"), "--threads"),
        (("--threads", "100000"), "--threads"),
        (("--threads", "two"), "--threads"),
        (("--jobs", "0"), "--jobs"),
        (("--epochs", "0"), "--epochs"),
        (("--latent-dim", "-3"), "--latent-dim"),
        (("--seed", "-1"), "--seed"),
    ],
)
def test_bad_argument_is_one_line_before_any_work(argv, named, no_training, capsys):
    assert named in one_line_error(capsys, "beta-table", *argv)


def test_threads_cap_is_sane():
    assert (os.cpu_count() or 1) <= MAX_THREADS <= 4 * (os.cpu_count() or 1)


def test_csv_to_a_directory_or_a_missing_directory_fails_before_work(tmp_path, no_training, capsys):
    assert "directory" in one_line_error(capsys, *FAST, "--csv", str(tmp_path))
    assert "no such directory" in one_line_error(capsys, *FAST, "--csv", str(tmp_path / "nope" / "t.csv"))
    assert list(tmp_path.iterdir()) == []


#: As root, the command runs as root WITHOUT the capabilities that let root ignore a directory's mode
#: (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, dropped from the bounding set so the exec'd python never has them):
#: a 0555 directory then stops it like any user, while it still reads the checkout and its .venv as their owner,
#: wherever they live (a clone inside a 0700 directory, root's home), which ``nobody`` could not.
WITHOUT_DAC_OVERRIDE = ("setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all")


@pytest.mark.skipif(os.geteuid() == 0 and not shutil.which("setpriv"), reason="root writes anywhere; needs setpriv")
def test_csv_in_a_read_only_directory_fails_before_work(tmp_path):
    prefix = WITHOUT_DAC_OVERRIDE if os.geteuid() == 0 else ()
    if prefix:
        probe = subprocess.run([*prefix, "true"], capture_output=True, text=True, timeout=60)
        if probe.returncode != 0:
            pytest.skip(f"root cannot drop CAP_DAC_OVERRIDE here, so it writes anywhere: {probe.stderr.strip()}")
        can_import = run("--version", prefix=prefix)
        if can_import.returncode != 0:  # the checkout belongs to another user and is private: root without the cap
            pytest.skip(f"without CAP_DAC_OVERRIDE root cannot read this checkout: {can_import.stderr.strip()[-200:]}")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o555)
    try:
        env = {"HOME": str(tmp_path), "MPLCONFIGDIR": str(tmp_path / "mpl")}
        if prefix:  # the probe's premise: this process really cannot write there
            touch = subprocess.run([*prefix, "touch", str(locked / "probe")], capture_output=True, timeout=60)
            assert touch.returncode != 0, "root without CAP_DAC_OVERRIDE could still write into a 0555 directory"
        result = run(*FAST, "--csv", str(locked / "t.csv"), env=env, prefix=prefix)
        assert result.returncode == 2 and "not writable" in result.stderr, result.stderr
        assert "Traceback" not in result.stderr and result.stdout == ""  # nothing trained, nothing printed
        assert list(locked.iterdir()) == []
    finally:
        locked.chmod(0o755)


def test_existing_file_is_written_in_place(tmp_path, capsys):
    path = tmp_path / "table.csv"
    path.write_text("old\n" * 1000)
    path.chmod(0o664)
    before = path.stat()
    assert main([*FAST, "--csv", str(path)]) == 0
    after = path.stat()
    assert (after.st_ino, after.st_mode, after.st_uid, after.st_gid) == (
        before.st_ino,
        before.st_mode,
        before.st_uid,
        before.st_gid,
    )
    assert path.read_text().splitlines()[0] == ",".join(HEADER) and "old" not in path.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["table.csv"]  # no temporary file left beside it


def test_symlink_is_written_through(tmp_path, capsys):
    target, link = tmp_path / "real.csv", tmp_path / "link.csv"
    target.write_text("old\n")
    link.symlink_to(target)
    assert main([*FAST, "--csv", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text().splitlines()[0] == ",".join(HEADER)


def test_fifo_is_written_through(tmp_path, capsys):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    received = []
    reader = threading.Thread(target=lambda: received.append(fifo.read_text()), daemon=True)
    reader.start()
    assert main([*FAST, "--csv", str(fifo)]) == 0
    reader.join(timeout=30)
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not a regular file put in its place
    assert received and received[0].splitlines()[0] == ",".join(HEADER)


def test_dev_null_stays_a_device(capsys):
    before = os.stat("/dev/null")
    assert main([*FAST, "--csv", "/dev/null"]) == 0
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and (after.st_ino, after.st_mode) == (before.st_ino, before.st_mode)


def test_failed_sweep_leaves_the_old_csv_untouched(tmp_path, monkeypatch, capsys):
    path = tmp_path / "table.csv"
    path.write_text("precious\n")

    def fails(*args, **kwargs):
        raise ValueError("train must be a float tensor")

    monkeypatch.setattr(experiments, "beta_sweep", fails)
    assert main([*FAST, "--csv", str(path)]) == 2
    assert path.read_text() == "precious\n"


def test_ascii_stdout_gets_ascii_names_and_the_csv(tmp_path):
    path = tmp_path / "table.csv"
    result = run(*FAST, "--csv", str(path), env={"PYTHONIOENCODING": "ascii"})
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["beta", "<C>", "<U>", "<S>", "-<V>", "ratio"]
    assert lines[1].split()[0] == "0.000"
    assert path.read_text(encoding="utf-8").splitlines()[0] == ",".join(HEADER)


def test_help_under_ascii_stdout():
    for args in (("--help",), ("beta-table", "--help")):
        result = run(*args, env={"PYTHONIOENCODING": "ascii"})
        assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
        assert "--csv" in result.stdout or "beta-table" in result.stdout


def test_version_is_kept_in_one_place(capsys):
    tomllib = pytest.importorskip("tomllib")  # Python >= 3.11

    import vaetut

    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "vaetut.__version__"}
    with pytest.raises(SystemExit):
        main(["--version"])
    assert capsys.readouterr().out.strip() == f"vaetut {vaetut.__version__}"


def test_seeds_print_mean_and_sd_per_beta_and_write_every_row(tmp_path):
    path = tmp_path / "table.csv"
    args = ("beta-table", "--betas", "0", "1", "--epochs", "1", "--latent-dim", "2", "--jobs", "1")
    result = run(*args, "--seeds", "0", "1", "--csv", str(path))
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    assert list(rows[0]) == ["beta", "seed", *HEADER[1:]]
    assert [(float(r["beta"]), int(r["seed"])) for r in rows] == [(0, 0), (0, 1), (1, 0), (1, 1)]
    lines = result.stdout.splitlines()
    shown = lines[2].split()  # β = 1: "1.000  C ± sd  U ± sd  S ± sd  −V ± sd  ratio ± sd"
    for k, name in enumerate(["C", "U", "S", "V", "ratio"]):
        values = [float(r[name]) for r in rows[2:]]
        mean, sd = sum(values) / 2, abs(values[0] - values[1]) / 2**0.5  # the sample sd of two values
        sign = -1 if name == "V" else 1  # the screen shows −⟨V⟩
        assert shown[1 + 3 * k + 1] == "±"
        assert abs(float(shown[1 + 3 * k]) - sign * mean) < 5e-4 and abs(float(shown[1 + 3 * k + 2]) - sd) < 5e-4
    assert "2 trainings" in result.stdout  # β = 0 is set, not trained: 1 β × 2 seeds


def test_beta_zero_alone_is_no_training(capsys):
    assert main(list(FAST)) == 0
    assert "\n0 trainings in" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, named",
    [
        (("--jobs", "2", "--scheduler", "tcp://127.0.0.1:8786"), "not both"),
        (("--seed", "1", "--seeds", "1", "2"), "--seeds"),
        (("--seeds", "1", "1"), "repeat"),
        (("--seeds", "-1"), "--seed"),
        (("--data", "cifar"), "--data"),
    ],
)
def test_bad_engine_or_seed_arguments_are_one_line(argv, named, capsys):
    assert named in one_line_error(capsys, "beta-table", "--betas", "0", *argv)
