"""Experiments: the β sweep behind the slides' table, and its closed form for a linear VAE.

The table's columns are held-out averages ⟨·⟩ of C, U, S and −V (V = Σ_d log σ_d², the
log volume of a bubble), with ζ sampled from each bubble as in the loss, and the ratio
−⟨V⟩ / 2(⟨U⟩ + ⟨S⟩), which is 1 when the bubbles together fill the unit prior
(⟨μ_d²⟩ + ⟨σ_d²⟩ = 1 in every latent dimension): then ⟨U⟩ + ⟨S⟩ = −½⟨V⟩ exactly, as
averages over the data (not image by image).

The closed form is that of a linear VAE on zero-mean Gaussian data, the probabilistic
PCA of Tipping & Bishop (1999) with the observation noise fixed at s² = 1/β; see
Lucas, Tucker, Grosse & Norouzi (2019), *Don't Blame the ELBO! A Linear VAE Perspective
on Posterior Collapse*, NeurIPS.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from .data import load_mnist
from .energies import check_beta
from .models import VAE
from .train import check_images, evaluate, fit, reproducible

__all__ = ["beta_sweep", "linear_vae_theory", "COLUMNS", "SLIDES_BETAS"]

SLIDES_BETAS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
COLUMNS = ("β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩", "ratio")


def _row(beta: float, c: float, u: float, s: float, minus_v: float) -> dict[str, float]:
    kl = u + s
    ratio = minus_v / (2 * kl) if kl > 0 else math.nan  # 0/0 at total collapse
    return dict(zip(COLUMNS, (beta, c, u, s, minus_v, ratio)))


def _check_betas(betas) -> list[float]:
    betas = [check_beta(b) for b in betas]
    if not betas:
        raise ValueError("betas must not be empty")
    return betas


def beta_sweep(
    betas=SLIDES_BETAS,
    *,
    latent_dim: int = 20,
    hidden_dims=(400,),
    epochs: int = 20,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int = 1,
    train: torch.Tensor | None = None,
    test: torch.Tensor | None = None,
    output: str = "linear",
    cost: str = "mse",
    progress: bool = False,
    return_models: bool = False,
):
    """Train one VAE per β and return the table of held-out averages (columns `COLUMNS`), one row per β.

    Defaults: the embedded MNIST (4,000 train / 1,000 test images), an MLP with one
    hidden layer of 400, a linear output and C = ½‖y − ỹ‖². Each β starts from the same
    seed. β = 0 is total posterior collapse, set exactly (see `vaetut.train.fit`).
    With ``return_models=True`` returns (table, {β: model}).
    """
    betas = _check_betas(betas)
    if train is None:
        train = load_mnist(split="train")[0]
    if test is None:
        test = load_mnist(split="test")[0]
    train, test = check_images(train, name="train"), check_images(test, train.shape[1], name="test")
    rows, models = [], {}
    for beta in betas:
        reproducible(seed, threads)
        model = VAE(train.shape[1], latent_dim, hidden_dims, output=output)
        fit(model, train, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed, beta=beta, cost=cost,
            progress=progress, device="cpu")
        m = evaluate(model, test, beta=beta, cost=cost, seed=seed)
        rows.append(_row(beta, m["C"], m["U"], m["S"], 0.0 - m["V"]))  # 0.0 - : no "-0.000" at collapse
        models[beta] = model
    table = pd.DataFrame(rows, columns=list(COLUMNS))
    return (table, models) if return_models else table


def linear_vae_theory(variances, betas=SLIDES_BETAS, latent_dim: int | None = None) -> pd.DataFrame:
    """The β table of the optimal linear VAE on zero-mean Gaussian data with these per-direction variances.

    With s² = 1/β, a direction of variance λ is *active* when λ > s² (and it is among the
    ``latent_dim`` largest): its latent dimension then has σ² = s²/λ and ⟨μ²⟩ = 1 − s²/λ,
    so C = s²/2, U = ½(1 − s²/λ), S = ½(s²/λ − log(s²/λ) − 1), V = log(s²/λ). An inactive
    direction is collapsed: C = λ/2 and U = S = V = 0. Columns as in `beta_sweep`.
    """
    lam = np.sort(np.asarray(variances, dtype=np.float64))[::-1]
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"variances must be a non-empty 1-D sequence of finite values > 0, got {variances!r}")
    latent_dim = lam.size if latent_dim is None else latent_dim
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive integer, got {latent_dim!r}")
    rows = []
    for beta in _check_betas(betas):
        s2 = math.inf if beta == 0 else 1.0 / beta
        active = (lam > s2) & (np.arange(lam.size) < latent_dim)
        ratio = np.where(active, s2 / lam, 1.0)  # σ² of each direction's latent dimension
        c = 0.5 * np.where(active, s2, lam).sum()
        u = 0.5 * (1 - ratio).sum()
        s = 0.5 * (ratio - np.log(ratio) - 1).sum()
        rows.append(_row(beta, c, u, s, 0.0 - np.log(ratio).sum()))  # 0.0 - : no "-0.000" at collapse
    return pd.DataFrame(rows, columns=list(COLUMNS))
