"""The gap between a VAE's ELBO and log p(y), over training seeds: how many of its printed digits a seed can move.

The book's 20-D VAE (one hidden layer of 400, sigmoid output, the BCE, β = 1, 30 epochs
of Adam at 10⁻³ in batches of 128 on the 4,000 embedded training images, float64, one
thread) is trained once per seed; the seed sets the initial weights, the shuffles and
the training draws of ζ. Each trained model is scored on the first ``images`` held-out
images (20 of each digit for 200): the ELBO (`vaetut.evaluate`, one ζ per image, draws
seeded 0) and the importance-sampled estimate of log p(y) for each K in ``samples``
(`vaetut.log_likelihood`, draws seeded 1, so independent of the ELBO's; Burda, Grosse &
Salakhutdinov 2016). The gap at K is the estimate minus the ELBO. Each row also holds the
−ELBO on all 1,000 held-out images and on the 4,000 training images.

The committed table, ``vaetut/_data/elbo_gap.csv`` (read by `load_elbo_gap`), was made by

    python -m vaetut.elbo_gap --seeds 0 1 2 3 4

and a test recomputes two of its cells exactly.
"""

from __future__ import annotations

import argparse
import io
from importlib import resources
from pathlib import Path

import pandas as pd
import torch

from .data import load_mnist
from .likelihood import log_likelihood
from .models import VAE
from .train import _check_seed, evaluate, fit, reproducible

__all__ = ["elbo_gap", "elbo_gap_table", "load_elbo_gap", "SAMPLES", "DATA_FILE"]

SAMPLES = (1, 10, 100, 1000)
IMAGES = 200
DATA_FILE = "elbo_gap.csv"


def _check(images, samples) -> tuple[int, tuple[int, ...]]:
    if isinstance(images, bool) or not isinstance(images, int) or not 1 <= images <= 1000:
        raise ValueError(f"images must be an integer from 1 to 1000, got {images!r}")
    samples = tuple(samples)
    if not samples or any(isinstance(k, bool) or not isinstance(k, int) or k < 1 for k in samples):
        raise ValueError(f"samples must be positive integers, got {samples!r}")
    return images, samples


def elbo_gap(seed: int = 0, *, images: int = IMAGES, samples=SAMPLES) -> dict[str, float]:
    """One row: train the book's 20-D VAE with ``seed`` and score it (see the module docstring); nats per image.

    Keys: "seed", "ELBO" (on the first ``images`` held-out images), "log p(y), K=k" and
    "gap, K=k" for each k in ``samples``, "held-out -ELBO" (all 1,000) and "training -ELBO".
    """
    seed = _check_seed(seed)
    images, samples = _check(images, samples)
    dtype = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)
    try:
        y_train, _ = load_mnist(split="train")
        y_test, _ = load_mnist(split="test")
        reproducible(seed, threads=1)
        model = VAE(latent_dim=20, hidden_dims=(400,), output="sigmoid")
        fit(model, y_train, epochs=30, batch_size=128, lr=1e-3, seed=seed, beta=1.0, cost="bce", progress=False)
        subset = y_test[:images]  # (images, 784)
        elbo = -evaluate(model, subset, beta=1.0, cost="bce", seed=0)["loss"]
        row = {"seed": seed, "ELBO": elbo}
        for k in samples:
            log_p = log_likelihood(model, subset, samples=k, cost="bce", seed=1).mean().item()
            row[f"log p(y), K={k}"] = log_p
            row[f"gap, K={k}"] = log_p - elbo
        row["held-out -ELBO"] = evaluate(model, y_test, beta=1.0, cost="bce", seed=0)["loss"]
        row["training -ELBO"] = evaluate(model, y_train, beta=1.0, cost="bce", seed=0)["loss"]
    finally:
        torch.set_default_dtype(dtype)
    return row


def elbo_gap_table(seeds=(0, 1, 2, 3, 4), *, images: int = IMAGES, samples=SAMPLES) -> pd.DataFrame:
    """One `elbo_gap` row per seed, indexed by seed."""
    seeds = [_check_seed(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct and not empty, got {seeds!r}")
    return pd.DataFrame([elbo_gap(s, images=images, samples=samples) for s in seeds]).set_index("seed")


def load_elbo_gap() -> pd.DataFrame:
    """The committed `elbo_gap_table` (seeds 0–4, 200 images, K = 1, 10, 100, 1000), indexed by seed."""
    text = resources.files("vaetut").joinpath("_data", DATA_FILE).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text), index_col="seed")  # exact: the default parser round-trips %.17g


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vaetut.elbo_gap", description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--csv", type=Path, default=Path(__file__).parent / "_data" / DATA_FILE)
    args = parser.parse_args(argv)
    table = elbo_gap_table(args.seeds)
    table.to_csv(args.csv, float_format="%.17g")
    print(table.round(3).to_string())


if __name__ == "__main__":
    main()
