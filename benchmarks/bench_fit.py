"""Benchmark: `vaetut.fit`'s arithmetic throughput against this machine's own matmul peak, one thread.

The β table's VAE (784 → 400 → 20 → 400 → 784, batch 100) spends its time in matrix
products. Their count is exact: a linear layer of n_in × n_out on a batch of B costs
2·B·n_in·n_out FLOP forward, as much again for the weight gradient, and as much again for
the input gradient (not needed for the first layer). The peak is the best single-thread
GEMM rate of this torch build on this CPU, measured in the same run: the larger of the
medians on a 1024³ product and on the model's own shapes. Both in float64 (the dtype the book trains in) and float32.

Every figure is the median and the spread (min–max) of ``--repeats`` runs (default 5):
``python benchmarks/bench_fit.py`` (about 1–2 minutes on a quiet machine).
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch

import vaetut

LAYERS = [(784, 400), (400, 20), (400, 20), (20, 400), (400, 784)]  # encoder, to_mu, to_logvar, decoder
BATCH, EPOCHS = 100, 3


def fit_flop(n_images: int) -> float:
    """Matmul FLOP of one epoch of fit on n_images: forward, weight gradients and input gradients."""
    forward = sum(2 * n_in * n_out for n_in, n_out in LAYERS) * n_images
    first_input_grad = 2 * 784 * 400 * n_images  # the images need no gradient
    return 3 * forward - first_input_grad


def gemm_rate(m: int, k: int, n: int, dtype, seconds: float = 0.5) -> float:
    """GFLOP/s of (m, k) @ (k, n), best of a stretch of repeated products."""
    a, b = torch.randn(m, k, dtype=dtype), torch.randn(k, n, dtype=dtype)
    best, end = 0.0, time.perf_counter() + seconds
    while time.perf_counter() < end:
        start = time.perf_counter()
        a @ b
        best = max(best, 2 * m * k * n / (time.perf_counter() - start) / 1e9)
    return best


def fit_rate(images: torch.Tensor, dtype) -> float:
    """GFLOP/s of `vaetut.fit` on the β table's VAE (β = 1, linear output), EPOCHS epochs."""
    vaetut.reproducible(0, 1)
    model = vaetut.VAE(latent_dim=20, hidden_dims=(400,), output="linear", dtype=dtype)
    start = time.perf_counter()
    vaetut.fit(model, images, epochs=EPOCHS, batch_size=BATCH, beta=1.0, progress=False)
    return fit_flop(len(images)) * EPOCHS / (time.perf_counter() - start) / 1e9


def summary(values: list[float]) -> str:
    return f"{statistics.median(values):6.1f} ({min(values):.1f}–{max(values):.1f})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    images = vaetut.load_mnist()[0]  # (4000, 784)
    vaetut.fit(vaetut.VAE(), images[:BATCH], epochs=1, progress=False)  # warm-up: lazy imports
    print(f"1 thread, torch {torch.__version__}, {len(images)} images x {EPOCHS} epochs, batch {BATCH}")
    print(f"matmul work per epoch: {fit_flop(len(images)) / 1e9:.2f} GFLOP")
    for dtype in (torch.float64, torch.float32):
        peak = [gemm_rate(1024, 1024, 1024, dtype) for _ in range(args.repeats)]
        shapes = [
            min(gemm_rate(BATCH, 784, 400, dtype), gemm_rate(BATCH, 400, 784, dtype)) for _ in range(args.repeats)
        ]
        best = max(statistics.median(peak), statistics.median(shapes))  # the machine's own single-thread peak
        fits = [fit_rate(images, dtype) for _ in range(args.repeats)]
        fraction = [f / best for f in fits]
        name = str(dtype).removeprefix("torch.")
        print(f"\n{name}: GFLOP/s, median (min–max) of {args.repeats} runs")
        print(f"  peak, 1024^3 GEMM         {summary(peak)}")
        print(f"  the model's GEMM shapes   {summary(shapes)}")
        print(f"  vaetut.fit                {summary(fits)}")
        print(
            f"  fit / peak (the larger)   {statistics.median(fraction):.0%} ({min(fraction):.0%}–{max(fraction):.0%})"
        )


if __name__ == "__main__":
    main()
