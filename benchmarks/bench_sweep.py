"""Benchmark: the default β sweep (7 values of β, latent 20, 20 epochs, float64), serial against parallel.

For each of ``--repeats`` rounds (default 3) it times ``beta_sweep(n_jobs=1)`` and
``beta_sweep(n_jobs=N)`` back to back, checks that the two tables are identical, and reports
the median and spread (min–max) of each time and of the per-round speed-up:
``python benchmarks/bench_sweep.py [--jobs N]`` (about 5 minutes on 2 cores).
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pandas as pd

from vaetut.experiments import beta_sweep


def timed(n_jobs: int) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    table = beta_sweep(n_jobs=n_jobs)
    return time.perf_counter() - start, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    args = parser.parse_args()
    serial, parallel, speedup = [], [], []
    for _ in range(args.repeats):
        t1, table1 = timed(1)
        tn, tablen = timed(args.jobs)
        pd.testing.assert_frame_equal(table1, tablen, check_exact=True)  # same table, any scheduling
        serial.append(t1)
        parallel.append(tn)
        speedup.append(t1 / tn)
    print(f"default beta sweep (7 trainings), {os.cpu_count()} cores; median (min-max) of {args.repeats} rounds")
    print(f"  n_jobs=1          {statistics.median(serial):6.1f} s ({min(serial):.1f}-{max(serial):.1f})")
    print(f"  n_jobs={args.jobs:<10} {statistics.median(parallel):6.1f} s ({min(parallel):.1f}-{max(parallel):.1f})")
    print(
        f"  speed-up          {statistics.median(speedup):6.2f}x ({min(speedup):.2f}-{max(speedup):.2f}), tables equal"
    )


if __name__ == "__main__":
    main()
