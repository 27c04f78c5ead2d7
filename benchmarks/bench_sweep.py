"""Benchmark: the default β sweep (7 values of β, latent 20, 20 epochs, float64), serial against parallel.

For each of ``--repeats`` rounds (default 3) it times ``beta_sweep(n_jobs=1)`` and
``beta_sweep(n_jobs=N)`` back to back, checks that the two tables are identical, and reports
the median and spread (min–max) of each time and of the per-round speed-up:
``python benchmarks/bench_sweep.py [--jobs N]`` (about 5 minutes on 2 cores). With
``--float32`` each round also times the serial sweep in float32, to show what float64 costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pandas as pd
import torch

from vaetut.experiments import beta_sweep


def timed(n_jobs: int, dtype=torch.float64) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    table = beta_sweep(n_jobs=n_jobs, dtype=dtype)
    return time.perf_counter() - start, table


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--float32", action="store_true", help="also time the serial sweep in float32")
    args = parser.parse_args()
    serial, parallel, speedup, single, cost = [], [], [], [], []
    for _ in range(args.repeats):
        if args.float32:
            single.append(timed(1, torch.float32)[0])
        t1, table1 = timed(1)
        tn, tablen = timed(args.jobs)
        pd.testing.assert_frame_equal(table1, tablen, check_exact=True)  # same table, any scheduling
        serial.append(t1)
        parallel.append(tn)
        speedup.append(t1 / tn)
        if args.float32:
            cost.append(t1 / single[-1])
    print(f"default beta sweep (7 trainings), {os.cpu_count()} cores; median (min-max) of {args.repeats} rounds")
    if args.float32:
        print(f"  n_jobs=1, float32 {statistics.median(single):6.1f} s ({min(single):.1f}-{max(single):.1f})")
    print(f"  n_jobs=1          {statistics.median(serial):6.1f} s ({min(serial):.1f}-{max(serial):.1f})")
    print(f"  n_jobs={args.jobs:<10} {statistics.median(parallel):6.1f} s ({min(parallel):.1f}-{max(parallel):.1f})")
    print(
        f"  speed-up          {statistics.median(speedup):6.2f}x ({min(speedup):.2f}-{max(speedup):.2f}), tables equal"
    )
    if args.float32:
        print(f"  float64 / float32 {statistics.median(cost):6.2f}x ({min(cost):.2f}-{max(cost):.2f}), serial")


if __name__ == "__main__":
    main()
