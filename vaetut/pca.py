"""Principal component analysis, the autoencoder's linear baseline, and the seed spread of the autoencoder's lead.

PCA (Hotelling 1933) keeps the D directions in which the centred training images vary most;
its reconstruction is the best rank-D linear one in the squared error (Eckart & Young 1936).
Chapter 1 compares it with two MLP autoencoders (D = 2 and 16) trained from seed 0. How much
of that comparison survives another seed is `ae_against_pca`'s table, run once by

    python -m vaetut.pca --seeds 0 1 2 3 4

which writes the package data file ``vaetut/_data/ae_pca_seeds.csv`` that `ae_pca_seeds` reads.
"""

from __future__ import annotations

import argparse
import importlib.resources
import io
from collections.abc import Iterable
from pathlib import Path

import pandas as pd
import torch

from .data import load_mnist
from .energies import reconstruction_cost
from .models import Autoencoder, positive_int
from .train import _check_seed, check_images, evaluate, fit, reproducible

__all__ = ["principal_directions", "pca_reconstruct", "ae_against_pca", "ae_pca_seeds", "CHAPTER_RECIPE"]

# Chapter 1's two autoencoders: built in this order after `reproducible(seed)`, then each trained by `fit`.
CHAPTER_RECIPE = dict(latent_dims=(2, 16), hidden_dims=(512, 128), epochs=20, lr=2e-3)
DATA_FILE = "ae_pca_seeds.csv"
COLUMNS = ("D", "seed", "C_ae", "C_pca", "C_pca_clipped")


def principal_directions(y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The mean image (784,) and the principal directions of ``y`` (N, 784), one unit vector per row, largest first."""
    y = check_images(y, name="y")
    y_mean = y.mean(dim=0)  # (784,)
    _, _, directions = torch.linalg.svd(y - y_mean, full_matrices=False)  # (min(N, 784), 784)
    return y_mean, directions


def pca_reconstruct(
    y: torch.Tensor, y_mean: torch.Tensor, directions: torch.Tensor, latent_dim: int, clip: bool = False
) -> torch.Tensor:
    """ỹ = ȳ + QQᵀ(y − ȳ), Q the first ``latent_dim`` directions; ``clip=True`` clips ỹ to [0, 1]. Shape of y."""
    latent_dim = positive_int("latent_dim", latent_dim)
    if latent_dim > len(directions):
        raise ValueError(f"latent_dim must be at most {len(directions)} (the number of directions), got {latent_dim}")
    q = directions[:latent_dim]  # (D, 784)
    y_tilde = y_mean + ((y - y_mean) @ q.T) @ q  # (N, 784)
    return y_tilde.clamp(0.0, 1.0) if clip else y_tilde


def _pairs(cells, latent_dims, seeds) -> set[tuple[int, int]]:
    if cells is None:
        return {(d, s) for d in latent_dims for s in seeds}
    if isinstance(cells, (str, bytes)) or not isinstance(cells, Iterable):
        raise TypeError(f"cells must be a sequence of (D, seed) pairs, got {cells!r}")
    pairs = {(positive_int("cells D", d), _check_seed(s)) for d, s in cells}
    unknown = {pair for pair in pairs if pair[0] not in latent_dims or pair[1] not in seeds}
    if unknown:
        raise ValueError(f"cells must be among latent_dims x seeds, got {sorted(unknown)}")
    return pairs


def ae_against_pca(seeds=(0, 1, 2, 3, 4), *, cells=None, progress: bool = False) -> pd.DataFrame:
    """Held-out ⟨C⟩ of chapter 1's autoencoders and of PCA (unclipped and clipped), one row per (D, seed).

    For each seed s: `reproducible(s)`, build the autoencoders of ``CHAPTER_RECIPE`` in order
    (D = 2, then 16: their initial weights are drawn in that order, as in the chapter), and
    train each with ``fit(..., seed=s)`` on the 4,000 embedded training images in float64,
    with the squared-error cost C = ½‖y − ỹ‖² (as the chapter does).
    Seed 0 is the chapter's own pair. ``cells``: train only these (D, seed) pairs (every
    model is still initialised, so each row is the same as in the full table). The caller's
    RNGs are reseeded. Columns: D, seed, C_ae, C_pca, C_pca_clipped (PCA does not depend on
    the seed).
    """
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of integers, got {seeds!r}")
    seeds = [_check_seed(s) for s in seeds]
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence without repeats, got {seeds}")
    recipe = CHAPTER_RECIPE
    pairs = _pairs(cells, recipe["latent_dims"], seeds)
    y_train = load_mnist(split="train", dtype=torch.float64)[0]
    y_test = load_mnist(split="test", dtype=torch.float64)[0]
    y_mean, directions = principal_directions(y_train)
    rows = []
    for seed in seeds:
        reproducible(seed, threads=1)
        models = {}  # initialised in the chapter's order, trained or not
        for d in recipe["latent_dims"]:
            models[d] = Autoencoder(latent_dim=d, hidden_dims=recipe["hidden_dims"], cost="mse", dtype=torch.float64)
        for d, model in models.items():
            if (d, seed) not in pairs:
                continue
            fit(model, y_train, epochs=recipe["epochs"], lr=recipe["lr"], seed=seed, cost="mse", progress=progress)
            pca = {clip: pca_reconstruct(y_test, y_mean, directions, d, clip=clip) for clip in (False, True)}
            c_pca = {clip: reconstruction_cost(y_test, y_tilde).mean().item() for clip, y_tilde in pca.items()}
            rows.append((d, seed, evaluate(model, y_test, cost="mse")["C"], c_pca[False], c_pca[True]))
    return pd.DataFrame(rows, columns=list(COLUMNS)).sort_values(["D", "seed"], ignore_index=True)


def ae_pca_seeds() -> pd.DataFrame:
    """The committed table of `ae_against_pca` (``python -m vaetut.pca``), read from the package's data."""
    text = importlib.resources.files("vaetut").joinpath("_data", DATA_FILE).read_text(encoding="utf-8")
    return pd.read_csv(io.StringIO(text))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m vaetut.pca", description=ae_against_pca.__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "_data" / DATA_FILE)
    args = parser.parse_args(argv)
    table = ae_against_pca(args.seeds, progress=True)
    table.to_csv(args.out, index=False, float_format="%.17g")
    summary = table.groupby("D").agg(["mean", "std"]).drop(columns="seed")
    print(summary.round(4).to_string())
    print(f"wrote {len(table)} rows to {args.out}")


if __name__ == "__main__":
    main()
