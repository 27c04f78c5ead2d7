"""The β table as a rate–distortion curve, and its closed form for a linear VAE: reverse water-filling.

Read a row of the β table as a point (rate, distortion): the rate is the average KL,
⟨U⟩ + ⟨S⟩, in nats (what the code says about each y, and an upper bound on the mutual
information between y and its code), and the distortion is ⟨C⟩. Every β picks one point;
Alemi, Poole, Fischer, Dillon, Saurous & Murphy (2018), *Fixing a Broken ELBO*, ICML, read
β-VAEs this way. For the optimal linear VAE on zero-mean Gaussian data (see
`vaetut.experiments.linear_vae_theory`) the curve is *reverse water-filling*, the
rate–distortion function of independent Gaussian sources (Cover & Thomas, *Elements of
Information Theory*, 2nd ed. 2006, section 10.3.3): at the water level s² = 1/β, a
direction of variance λ among the ``latent_dim`` largest contributes min(λ, s²)/2 to ⟨C⟩
and, when λ > s², ½ log(λ/s²) to the rate; every other direction contributes λ/2 to ⟨C⟩
and nothing to the rate. Along the curve d⟨C⟩/d(rate) = −s² = −1/β.
"""

from __future__ import annotations

import math
import numbers

import numpy as np
import pandas as pd

from .experiments import SLIDES_BETAS, _check_betas
from .models import positive_int

__all__ = ["distortion_at_rate", "rate_distortion"]


def _variances(variances) -> np.ndarray:
    """The variances as a float array, largest first; else a one-line error naming them."""
    try:
        lam = np.asarray(variances, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"variances must be a 1-D sequence of numbers, got {variances!r}") from None
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"variances must be a non-empty 1-D sequence of finite values > 0, got {variances!r}")
    return np.sort(lam)[::-1]


def _coded(lam: np.ndarray, latent_dim) -> int:
    """How many of the largest directions a code of ``latent_dim`` dimensions can describe."""
    return lam.size if latent_dim is None else min(lam.size, positive_int("latent_dim", latent_dim))


def rate_distortion(variances, betas=SLIDES_BETAS, latent_dim: int | None = None) -> pd.DataFrame:
    """The optimal linear VAE's (rate, distortion) at each β, by reverse water-filling at s² = 1/β.

    Columns: beta, rate (⟨U⟩ + ⟨S⟩, nats, summed over the latent dimensions) and distortion
    (⟨C⟩ = ½⟨‖y − ỹ‖²⟩ with ζ sampled, summed over the directions), one row per β.
    variances: the per-direction variances λ of zero-mean data (any order); latent_dim: the
    code size D (None: one latent dimension per direction).
    """
    lam = _variances(variances)
    coded = np.arange(lam.size) < _coded(lam, latent_dim)
    rows = []
    for beta in _check_betas(betas):
        s2 = math.inf if beta == 0 else 1.0 / beta  # the water level
        active = coded & (lam > s2)
        distortion = 0.5 * np.where(coded, np.minimum(lam, s2), lam).sum()
        rate = 0.5 * np.log(lam[active] / s2).sum()
        rows.append({"beta": beta, "rate": rate + 0.0, "distortion": distortion})
    return pd.DataFrame(rows, columns=["beta", "rate", "distortion"])


def distortion_at_rate(variances, rate, latent_dim: int | None = None) -> float:
    """The optimal linear VAE's ⟨C⟩ at this rate (nats): the inverse of `rate_distortion`, exact.

    With the k largest directions active, rate = ½ Σ_{i≤k} log(λ_i/s²) gives the water level
    log s² = (Σ_{i≤k} log λ_i − 2·rate)/k; k is the one for which λ_{k+1} ≤ s² < λ_k.
    At rate 0 every direction is collapsed: ⟨C⟩ = ½ Σ λ.
    """
    lam = _variances(variances)
    coded = _coded(lam, latent_dim)
    if isinstance(rate, bool) or not isinstance(rate, numbers.Real) or not math.isfinite(rate) or rate < 0:
        raise ValueError(f"rate must be a finite number >= 0 (nats), got {rate!r}")
    if rate == 0:
        return 0.5 * float(lam.sum())
    log_lam = np.log(lam[:coded])
    for k in range(1, coded + 1):
        s2 = math.exp((log_lam[:k].sum() - 2 * rate) / k)
        if k == coded or s2 >= lam[k]:  # the water covers direction k + 1: exactly k are active
            return 0.5 * (k * s2 + float(lam[k:].sum()))
    raise AssertionError("unreachable: the last k always returns")
