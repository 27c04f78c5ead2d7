"""Benchmark: the β × seed sweep on a local Dask cluster (a real scheduler and two workers) against one process.

Starts ``dask scheduler`` and ``--workers`` (default 2) ``dask worker ADDRESS --nthreads 1`` processes on
127.0.0.1, each a separate process as on a real cluster, then for each of ``--repeats`` rounds
(default 3) times ``beta_sweep(seeds=…, n_jobs=1)`` and ``beta_sweep(seeds=…, scheduler=ADDRESS)``,
checks the tables are identical and reports the median and spread (min–max) of each time and of the
per-round speed-up. The cluster's workers are warmed by a first, untimed-in-the-rounds call (reported).
Everything is torn down at the end.

    python benchmarks/bench_cluster.py                                     # 7 betas x 2 seeds x 20 epochs
    python benchmarks/bench_cluster.py --repeats 1 --epochs 1 --seeds 0    # a check that it runs
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

from vaetut.experiments import SLIDES_BETAS, beta_sweep


@contextlib.contextmanager
def local_cluster(workers: int):
    """The address of a `dask scheduler` with ``workers`` single-threaded `dask worker` processes on 127.0.0.1."""
    dask = str(Path(sys.executable).with_name("dask"))
    repo = str(Path(__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([repo, os.environ.get("PYTHONPATH", "")])}
    processes = []
    with tempfile.TemporaryDirectory(prefix="vaetut-cluster-") as folder:
        info = Path(folder, "scheduler.json")
        quiet = dict(env=env, cwd=folder, start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            processes.append(
                subprocess.Popen(
                    [dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard"]
                    + ["--scheduler-file", str(info)],
                    **quiet,
                )
            )
            while not info.exists() or not info.read_text().strip():
                if processes[0].poll() is not None:
                    raise RuntimeError("dask scheduler did not start")
                time.sleep(0.2)
            address = json.loads(info.read_text())["address"]
            for _ in range(workers):
                processes.append(
                    subprocess.Popen([dask, "worker", address, "--nthreads", "1", "--no-dashboard"], **quiet)
                )
            yield address
        finally:
            for p in reversed(processes):
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
            for p in processes:
                p.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    args = parser.parse_args()
    sweep = dict(epochs=args.epochs, seeds=args.seeds)
    n = sum(1 for b in SLIDES_BETAS if b != 0) * len(args.seeds)
    with local_cluster(args.workers) as address:
        start = time.perf_counter()
        beta_sweep(SLIDES_BETAS, scheduler=address, **sweep)  # the workers import torch: reported, not in the rounds
        cold = time.perf_counter() - start
        serial, cluster, speedup = [], [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            one = beta_sweep(SLIDES_BETAS, n_jobs=1, **sweep)
            serial.append(time.perf_counter() - start)
            start = time.perf_counter()
            many = beta_sweep(SLIDES_BETAS, scheduler=address, **sweep)
            cluster.append(time.perf_counter() - start)
            pd.testing.assert_frame_equal(one, many, check_exact=True)
            speedup.append(serial[-1] / cluster[-1])

    def spread(v, unit=" s", digits=1):
        return f"{statistics.median(v):.{digits}f}{unit} ({min(v):.{digits}f}-{max(v):.{digits}f})"

    print(
        f"beta sweep, {len(SLIDES_BETAS)} betas x {len(args.seeds)} seeds ({n} trainings x {args.epochs} epochs), "
        f"{os.cpu_count()} cores; median (min-max) of {args.repeats} rounds"
    )
    print(f"  first call on the cluster (workers import torch, data sent): {cold:.1f} s")
    print(f"  n_jobs=1 (this process)             {spread(serial)}")
    print(f"  Dask, {args.workers} workers x 1 thread          {spread(cluster)}")
    print(f"  speed-up                            {spread(speedup, 'x', 2)} per round, tables identical")


if __name__ == "__main__":
    main()
