"""Benchmark: the β sweep, serial against parallel (local loky workers), small and default.

Two sweeps, float64, latent 20: the small one (β 0.5, 1, 2, 3 × 4 epochs: 4 trainings) and the
default one (β 0, 0.5, …, 3 × 20 epochs: 6 trainings, β = 0 is set). For each of ``--repeats``
rounds (default 3) it times ``beta_sweep(n_jobs=1)`` and ``beta_sweep(n_jobs=N)`` back to back,
checks that the two tables are identical, and reports the median and spread (min–max) of each time
and of the per-round speed-up. The workers are started once, before the rounds, by a first
parallel call that is timed and reported on its own (a cold start: processes, importing torch);
the rounds use them warm, as every parallel call of a session after the first does.

    python benchmarks/bench_sweep.py [--jobs N] [--repeats 3] [--float32]   # about 6 minutes on 2 cores
    python benchmarks/bench_sweep.py --repeats 1 --epochs 1                  # a check that it runs

``--epochs E`` overrides both sweeps' epochs; ``--float32`` also times the default serial sweep in
float32, to show what float64 costs.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import pandas as pd
import torch

from vaetut.experiments import SLIDES_BETAS, beta_sweep

SWEEPS = {"small": dict(betas=(0.5, 1.0, 2.0, 3.0), epochs=4), "default": dict(betas=SLIDES_BETAS, epochs=20)}


def timed(sweep: dict, n_jobs: int, dtype=torch.float64) -> tuple[float, pd.DataFrame]:
    start = time.perf_counter()
    table = beta_sweep(sweep["betas"], epochs=sweep["epochs"], n_jobs=n_jobs, dtype=dtype)
    return time.perf_counter() - start, table


def spread(values: list[float], unit: str = " s", digits: int = 1) -> str:
    return f"{statistics.median(values):.{digits}f}{unit} ({min(values):.{digits}f}-{max(values):.{digits}f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=os.cpu_count())
    parser.add_argument("--epochs", type=int, default=None, help="override both sweeps' epochs (a quick check)")
    parser.add_argument("--float32", action="store_true", help="also time the default serial sweep in float32")
    args = parser.parse_args()
    sweeps = {name: dict(s, epochs=args.epochs or s["epochs"]) for name, s in SWEEPS.items()}
    cold, _ = timed(sweeps["small"], args.jobs)  # starts the workers: reported, not in the rounds
    print(
        f"{os.cpu_count()} cores, torch {torch.__version__}, n_jobs=1 against n_jobs={args.jobs}; "
        f"median (min-max) of {args.repeats} rounds"
    )
    print(f"first parallel call of the session (cold workers), small sweep: {cold:.1f} s")
    for name, sweep in sweeps.items():
        serial, parallel, speedup, single = [], [], [], []
        for _ in range(args.repeats):
            if args.float32 and name == "default":
                single.append(timed(sweep, 1, torch.float32)[0])
            t1, table1 = timed(sweep, 1)
            tn, tablen = timed(sweep, args.jobs)
            pd.testing.assert_frame_equal(table1, tablen, check_exact=True)  # same table, any scheduling
            serial.append(t1)
            parallel.append(tn)
            speedup.append(t1 / tn)
        trained = sum(1 for b in sweep["betas"] if b != 0)
        print(f"{name} sweep ({len(sweep['betas'])} betas, {trained} trainings x {sweep['epochs']} epochs)")
        print(f"  n_jobs=1          {spread(serial)}")
        print(f"  n_jobs={args.jobs:<10} {spread(parallel)}")
        print(f"  speed-up          {spread(speedup, 'x', 2)} per round, tables identical")
        if single:
            cost = [a / b for a, b in zip(serial, single)]
            print(f"  n_jobs=1, float32 {spread(single)}: float64 takes {spread(cost, 'x', 2)} as long")


if __name__ == "__main__":
    main()
