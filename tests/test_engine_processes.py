"""The sweep's processes, for real: Ctrl-C, a killed worker and a Dask cluster, each against the CLI in a subprocess.

Ctrl-C is sent as a terminal sends it, to the CLI's whole process group. Every CLI runs in a session
of its own, so whatever it started (loky workers, loky's resource tracker) is found by session id in
/proc (psutil) after it exits: nothing may be left. The cluster is a real ``dask scheduler`` and two
single-threaded ``dask worker`` processes on 127.0.0.1, each a separate process, torn down afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

psutil = pytest.importorskip("psutil")

REPO = Path(__file__).resolve().parents[1]
ENV = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONWARNINGS": "ignore"}
LONG = ("beta-table", "--betas", "0.5", "1", "1.5", "2", "--epochs", "500", "--latent-dim", "2")
# On a cluster a running task cannot be interrupted (Ctrl-C cancels the rest): short enough to finish soon.
LONG_ON_CLUSTER = (*LONG[: LONG.index("--epochs") + 1], "40", *LONG[LONG.index("--epochs") + 2 :])
TINY = ("beta-table", "--betas", "0", "1", "2", "--epochs", "1", "--latent-dim", "2", "--seeds", "0", "1")


STARTED: list[subprocess.Popen] = []


@pytest.fixture(autouse=True)
def _kill_leftovers():
    """Whatever a failed test leaves running is killed (its whole session)."""
    yield
    while STARTED:
        cli = STARTED.pop()
        for p in in_session(cli.pid):
            p.kill()


def start(*args) -> subprocess.Popen:
    STARTED.append(cli := _popen(*args))
    return cli


def _popen(*args) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vaetut", *args],
        env=ENV,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def in_session(sid: int) -> list:
    alive = []
    for p in psutil.process_iter(["pid", "status"]):
        try:
            if p.info["status"] != psutil.STATUS_ZOMBIE and os.getsid(p.info["pid"]) == sid:
                alive.append(p)
        except (ProcessLookupError, PermissionError, psutil.NoSuchProcess):
            pass
    return alive


def assert_nothing_left(sid: int, within: float = 15.0) -> None:
    end = time.monotonic() + within
    while in_session(sid) and time.monotonic() < end:
        time.sleep(0.2)
    left = in_session(sid)
    for p in left:
        p.kill()
    assert not left, f"left behind: {[p.cmdline() for p in left]}"
    # nor the data joblib memory-mapped for the workers (its folder is named after the caller's pid)
    shared = [
        f for d in ("/dev/shm", tempfile.gettempdir()) for f in Path(d).glob(f"joblib_memmapping_folder_{sid}_*/*")
    ]
    assert not shared, f"left behind: {shared}"


def still_running(cli: subprocess.Popen, end: float) -> None:
    """Fail (killing the CLI's session first, so that nothing waits for it) if it ended, or time is up."""
    if cli.poll() is None and time.monotonic() < end:
        return
    for p in in_session(cli.pid):
        p.kill()
    out, err = cli.communicate()
    raise AssertionError(f"status {cli.returncode}, or timed out; stderr: {err[-2000:]}")


def busy_workers(cli: subprocess.Popen, n: int, timeout: float = 240.0) -> list:
    """The CLI's worker processes, once n of them have each used a second of CPU (training, not starting)."""
    end = time.monotonic() + timeout
    while True:
        still_running(cli, end)
        workers = [
            c for c in psutil.Process(cli.pid).children(recursive=True) if "LokyProcess" in " ".join(c.cmdline())
        ]
        try:
            if len(workers) >= n and all(sum(w.cpu_times()[:2]) > 1.0 for w in workers[:n]):
                time.sleep(1.0)
                return workers
        except psutil.NoSuchProcess:
            pass
        time.sleep(0.3)


def busy(cli: subprocess.Popen, seconds: float = 4.0, timeout: float = 240.0) -> None:
    """Wait until the CLI itself has used ``seconds`` of CPU (torch imported, the sweep under way)."""
    process, end = psutil.Process(cli.pid), time.monotonic() + timeout
    while sum(process.cpu_times()[:2]) < seconds:
        still_running(cli, end)
        time.sleep(0.3)


def interrupt_and_check(cli: subprocess.Popen, csv: Path, before: bytes, how: int = signal.SIGINT) -> None:
    if how == signal.SIGINT:
        os.killpg(cli.pid, signal.SIGINT)  # Ctrl-C: the terminal signals the whole foreground group
    else:
        os.kill(cli.pid, how)  # `kill PID`: the CLI alone gets it, and must end its workers itself
    sent = time.monotonic()
    out, err = cli.communicate(timeout=60)
    took = time.monotonic() - sent
    assert cli.returncode == 128 + how, (cli.returncode, err)
    word = "interrupted" if how == signal.SIGINT else "terminated"
    assert err.strip().splitlines() == [f"python -m vaetut: {word}"], err
    assert took < 15, f"took {took:.1f} s to stop"
    assert csv.read_bytes() == before
    assert_nothing_left(cli.pid)


@pytest.fixture
def old_csv(tmp_path) -> tuple[Path, bytes]:
    path = tmp_path / "table.csv"
    path.write_bytes(b"beta,C\n0.5,precious\n")
    return path, path.read_bytes()


def test_ctrl_c_serial(old_csv):
    csv, before = old_csv
    cli = start(*LONG, "--jobs", "1", "--csv", str(csv))
    busy(cli)
    interrupt_and_check(cli, csv, before)


def test_ctrl_c_on_local_workers_terminates_them(old_csv):
    csv, before = old_csv
    cli = start(*LONG, "--jobs", "2", "--csv", str(csv))
    workers = busy_workers(cli, 2)
    interrupt_and_check(cli, csv, before)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_sigterm_on_local_workers_terminates_them(old_csv):
    csv, before = old_csv
    cli = start(*LONG, "--jobs", "2", "--csv", str(csv))
    workers = busy_workers(cli, 2)
    interrupt_and_check(cli, csv, before, how=signal.SIGTERM)
    assert not any(w.is_running() and w.status() != psutil.STATUS_ZOMBIE for w in workers)


def test_a_killed_worker_ends_the_sweep_with_one_clear_line(old_csv):
    csv, before = old_csv
    cli = start(*LONG, "--jobs", "2", "--csv", str(csv))
    workers = busy_workers(cli, 2)
    workers[0].kill()  # SIGKILL, as the out-of-memory killer does
    out, err = cli.communicate(timeout=60)
    assert cli.returncode == 1, (cli.returncode, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "worker process died" in lines[0], err
    assert csv.read_bytes() == before
    assert_nothing_left(cli.pid)


# --- a real Dask cluster -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    """A `dask scheduler` and two `dask worker --nthreads 1` processes on 127.0.0.1; its address."""
    pytest.importorskip("distributed")
    dask = str(Path(sys.executable).with_name("dask"))
    folder = tmp_path_factory.mktemp("cluster")
    info = folder / "scheduler.json"
    options = dict(env={**ENV, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}, cwd=folder, start_new_session=True)
    options.update(stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    scheduler = subprocess.Popen(
        [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard", "--scheduler-file", str(info)],
        **options,
    )
    processes = [scheduler]
    try:
        end = time.monotonic() + 120
        while not info.exists() or not info.read_text().strip():
            assert scheduler.poll() is None and time.monotonic() < end, "the scheduler did not start"
            time.sleep(0.2)
        address = json.loads(info.read_text())["address"]
        for _ in range(2):
            processes.append(
                subprocess.Popen(
                    [dask, "worker", address, "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], **options
                )
            )
        yield address, processes
    finally:
        for p in reversed(processes):
            if p.poll() is None:
                os.killpg(p.pid, signal.SIGTERM)
        for p in processes:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        for p in processes:
            assert_nothing_left(p.pid)


def test_cluster_table_equals_the_serial_one(cluster, tmp_path):
    address, _ = cluster
    serial, remote = tmp_path / "serial.csv", tmp_path / "cluster.csv"
    one = start(*TINY, "--jobs", "1", "--csv", str(serial))
    out, err = one.communicate(timeout=600)
    assert one.returncode == 0, err
    two = start(*TINY, "--scheduler", address, "--csv", str(remote))
    out_cluster, err = two.communicate(timeout=600)
    assert two.returncode == 0, err
    assert remote.read_bytes() == serial.read_bytes()  # every digit of every (beta, seed) row
    assert out_cluster.splitlines()[:4] == out.splitlines()[:4]  # the printed mean +- sd table
    assert "4 trainings" in out_cluster and f"scheduler={address}" in out_cluster
    assert_nothing_left(two.pid)


def dask_workers(processes, cli: subprocess.Popen, timeout: float = 240.0) -> list:
    """The cluster's worker processes (children of each `dask worker`'s nanny), once each has used a second of
    CPU more than before (training the CLI's tasks, not starting up)."""
    nannies = [psutil.Process(p.pid) for p in processes[1:]]
    workers = [c for n in nannies for c in n.children() if "spawn_main" in " ".join(c.cmdline())]
    assert len(workers) == len(nannies), [c.cmdline() for n in nannies for c in n.children()]
    before = [sum(w.cpu_times()[:2]) for w in workers]
    end = time.monotonic() + timeout
    while not all(sum(w.cpu_times()[:2]) - b > 1.0 for w, b in zip(workers, before)):
        still_running(cli, end)
        time.sleep(0.3)
    return workers


def test_ctrl_c_on_a_cluster(cluster, old_csv):
    address, processes = cluster
    csv, before = old_csv
    cli = start(*LONG_ON_CLUSTER, "--scheduler", address, "--csv", str(csv))
    dask_workers(processes, cli)
    interrupt_and_check(cli, csv, before)
    assert all(p.poll() is None for p in processes)  # the user's cluster stays up


@pytest.mark.slow  # ~80 s under load: a serial sweep, then a cluster sweep whose worker is killed and restarted
def test_a_killed_dask_worker_is_replaced_and_the_table_is_the_same(cluster, tmp_path):
    """Dask re-runs a dead worker's task elsewhere (its nanny restarts the worker): same table, bit for bit."""
    address, processes = cluster
    mid = (*TINY[: TINY.index("--epochs")], "--epochs", "3", *TINY[TINY.index("--epochs") + 2 :])
    serial, remote = tmp_path / "serial.csv", tmp_path / "cluster.csv"
    one = start(*mid, "--jobs", "1", "--csv", str(serial))
    assert one.wait(timeout=600) == 0, one.communicate()
    cli = start(*mid, "--scheduler", address, "--csv", str(remote))
    dask_workers(processes, cli)[0].kill()
    out, err = cli.communicate(timeout=600)
    assert cli.returncode == 0, err
    assert remote.read_bytes() == serial.read_bytes()


def test_scheduler_without_dask_says_how_to_install(tmp_path):
    hide = tmp_path / "hide"
    hide.mkdir()
    for name in ("distributed", "dask"):
        (hide / name).mkdir()
        (hide / name / "__init__.py").write_text("raise ImportError('hidden by the test')\n")
    env = {**ENV, "PYTHONPATH": os.pathsep.join([str(hide), str(REPO)])}
    result = subprocess.run(
        [sys.executable, "-m", "vaetut", *TINY, "--scheduler", "tcp://127.0.0.1:8786"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "pip install 'vaetut[dask]'" in lines[0], result.stderr


def test_fit_many_on_the_cluster_is_fit_in_turn_bit_for_bit(cluster):
    import torch
    from test_parallel import models_and_data, one_by_one

    from vaetut.parallel import fit_many

    address, _ = cluster
    jobs = models_and_data()
    expected = one_by_one(jobs)
    histories = fit_many(jobs, scheduler=address)
    for job, history, (history_1, model_1) in zip(jobs, histories, expected):
        model = job[0] if isinstance(job, tuple) else job.model
        assert history.rows == history_1.rows
        assert all(torch.equal(w, model_1.state_dict()[k]) for k, w in model.state_dict().items())
