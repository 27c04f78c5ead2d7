"""Benchmark: the default β sweep (7 values of β, latent 20, 20 epochs, embedded MNIST), timed.

Run: ``python benchmarks/bench_sweep.py``. Target: under 60 s on 2 cores.
"""

import time

from vaetut.experiments import beta_sweep


def main():
    start = time.perf_counter()
    table = beta_sweep()
    elapsed = time.perf_counter() - start
    print(table.round(3).to_string(index=False))
    print(f"\nβ sweep, {len(table)} trainings (one thread): {elapsed:.1f} s")


if __name__ == "__main__":
    main()
