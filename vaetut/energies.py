"""The slides' energies: C, U, S, V, P and the β-weighted VAE loss.

Kingma & Welling (2014), *Auto-Encoding Variational Bayes*, appendix B gives the
closed-form KL between a diagonal Gaussian q(ζ|y) = N(μ, diag σ²) and the prior
p(z) = N(0, I). The slides split it in two:

    D_KL[q(ζ|y) ‖ p(z)] = U(μ) + S(σ)
    U(μ) = ½ Σ_d μ_d²                     (potential energy: a spring pulling μ to 0)
    S(σ) = ½ Σ_d (σ_d² − log σ_d² − 1)    (entropy penalty: a well holding σ at 1)

Every function here takes a batch whose first axis is the sample and returns **one value
per sample**, summed over features (C) or latent dimensions (U, S, V, P). `total_loss`
combines a model's per-sample terms into L; only `vae_loss` averages, over the batch.
Encoders output log σ² (`logvar`), not σ.
"""

from __future__ import annotations

import math
import numbers

import torch
import torch.nn.functional as F

__all__ = [
    "reconstruction_cost",
    "gaussian_cost",
    "potential_energy",
    "entropy_penalty",
    "log_volume",
    "kl_divergence",
    "prior_energy",
    "vae_loss",
    "total_loss",
    "check_beta",
    "COSTS",
]

COSTS = ("mse", "bce")


def _batch(name: str, x: torch.Tensor) -> torch.Tensor:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() != 2:
        raise ValueError(f"{name} must have shape (N, D), got {tuple(x.shape)}")
    if not x.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {x.dtype}")
    return x


def _same_batch(names: tuple[str, str], a: torch.Tensor, b: torch.Tensor) -> None:
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{names[0]} and {names[1]} must hold the same number of samples, got {a.shape[0]} and {b.shape[0]}"
        )


def reconstruction_cost(y: torch.Tensor, y_tilde: torch.Tensor, kind: str = "mse") -> torch.Tensor:
    """C(y, ỹ): ``"mse"`` is ½‖y − ỹ‖², ``"bce"`` is −Σ[y log ỹ + (1−y) log(1−ỹ)]; summed over features, shape (N,)."""
    if not isinstance(kind, str) or kind not in COSTS:
        raise ValueError(f"unknown reconstruction cost kind {kind!r}; choose one of {COSTS}")
    _batch("y", y)
    _batch("y_tilde", y_tilde)
    if y.shape != y_tilde.shape:
        raise ValueError(f"y and y_tilde must have the same shape, got {tuple(y.shape)} and {tuple(y_tilde.shape)}")
    if kind == "mse":
        return 0.5 * (y - y_tilde).pow(2).sum(dim=1)
    if kind == "bce":
        # binary_cross_entropy clamps log at -100, so ỹ = 0 or 1 exactly stays finite.
        if y_tilde.dtype != y.dtype:
            raise TypeError(f"y and y_tilde must have the same dtype, got {y.dtype} and {y_tilde.dtype}")
        if not (((y_tilde >= 0) & (y_tilde <= 1)).all() and ((y >= 0) & (y <= 1)).all()):
            raise ValueError('the "bce" cost needs y and y_tilde in [0, 1]')
        return F.binary_cross_entropy(y_tilde, y, reduction="none").sum(dim=1)


def gaussian_cost(y: torch.Tensor, y_tilde: torch.Tensor, log_s2: torch.Tensor) -> torch.Tensor:
    """C = ½‖y − ỹ‖²/s² + (n/2)·log(2π s²), the full −log N(y; ỹ, s² I) over n features; summed, shape (N,).

    ``log_s2`` is log s², a scalar tensor (the decoder's learned variance, gradients flow to it).
    """
    _batch("y", y)
    _batch("y_tilde", y_tilde)
    if y.shape != y_tilde.shape:
        raise ValueError(f"y and y_tilde must have the same shape, got {tuple(y.shape)} and {tuple(y_tilde.shape)}")
    if not isinstance(log_s2, torch.Tensor) or log_s2.dim() != 0:
        raise TypeError(f"log_s2 must be a scalar tensor, got {log_s2!r}")
    n = y.shape[1]
    return 0.5 * (y - y_tilde).pow(2).sum(dim=1) * torch.exp(-log_s2) + 0.5 * n * (math.log(2 * math.pi) + log_s2)


def potential_energy(mu: torch.Tensor) -> torch.Tensor:
    """U(μ) = ½ Σ_d μ_d²; summed over latent dimensions, shape (N,)."""
    return 0.5 * _batch("mu", mu).pow(2).sum(dim=1)


def entropy_penalty(logvar: torch.Tensor) -> torch.Tensor:
    """S(σ) = ½ Σ_d (σ_d² − log σ_d² − 1), from logvar = log σ²; summed over latent dimensions, shape (N,)."""
    logvar = _batch("logvar", logvar)
    return 0.5 * (logvar.exp() - logvar - 1).sum(dim=1)


def log_volume(logvar: torch.Tensor) -> torch.Tensor:
    """V(σ) = Σ_d log σ_d² = log det Σ, the bubble's log volume (0 for the unit prior bubble); summed, shape (N,).

    The slides' "log volume" is that of the covariance: the ellipsoid's own volume ratio to
    the unit bubble is Π_d σ_d, whose log is ½V.
    """
    return _batch("logvar", logvar).sum(dim=1)


def kl_divergence(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """D_KL[N(μ, σ²) ‖ N(0, I)] = U(μ) + S(σ), in nats; summed over latent dimensions, shape (N,)."""
    _batch("mu", mu)
    _batch("logvar", logvar)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    return potential_energy(mu) + entropy_penalty(logvar)


def prior_energy(z: torch.Tensor) -> torch.Tensor:
    """P(z) = ½‖z‖², the prior's energy: −log p(z) up to the constant (D/2) log 2π; shape (N,)."""
    return 0.5 * _batch("z", z).pow(2).sum(dim=1)


def check_beta(beta: float) -> float:
    """Return β as a float, or raise if it is not a real number, or negative, NaN or infinite."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real):
        raise TypeError(f"beta must be a number, got {beta!r}")
    beta = float(beta)
    if math.isnan(beta) or math.isinf(beta) or beta < 0:
        raise ValueError(f"beta must be a finite number >= 0, got {beta}")
    return beta


def vae_loss(
    y: torch.Tensor,
    y_tilde: torch.Tensor,
    mu: torch.Tensor,
    logvar: torch.Tensor,
    beta: float = 1.0,
    cost: str = "mse",
) -> torch.Tensor:
    """L = ⟨C(y, ỹ) + (1/β)(U + S)⟩, the batch mean of the per-sample loss; a scalar.

    β = 0 is the limit β → 0⁺, not a division by zero: (U + S)/β → +∞ wherever the
    KL is positive, so the loss is +∞ unless every bubble is the prior (U + S = 0),
    where it is ⟨C⟩. That limit is *total posterior collapse*; `vaetut.train.fit`
    sets its optimum directly instead of descending an infinite loss.
    """
    beta = check_beta(beta)
    _batch("y", y)
    _batch("mu", mu)
    _same_batch(("y", "mu"), y, mu)
    terms = {"C": reconstruction_cost(y, y_tilde, cost), "U": potential_energy(mu), "S": entropy_penalty(logvar)}
    kl_divergence(mu, logvar)  # raises if mu and logvar do not match
    return total_loss(terms, beta).mean()


def total_loss(terms: dict[str, torch.Tensor], beta: float = 1.0) -> torch.Tensor:
    """The per-sample loss L = C + (1/β)(U + S) from a model's per-sample terms; shape (N,).

    ``terms`` maps names to (N,) tensors, as a model's ``terms`` method returns them: "C"
    always, "U" and "S" for a model with a KL term (without them the KL is 0; any other
    term, such as V, is reported but not part of the loss).

    β = 0 is the limit β → 0⁺, not a division by zero: (U + S)/β → +∞ wherever the KL is
    positive, so L is +∞ unless the bubble is the prior (U + S = 0), where it is C. That
    limit is *total posterior collapse*; `vaetut.train.fit` sets its optimum directly.
    """
    beta = check_beta(beta)
    if not isinstance(terms, dict) or "C" not in terms:
        raise TypeError("terms must be a dict of per-sample tensors with at least a 'C' entry")
    c = terms["C"]
    kl = sum((terms[name] for name in ("U", "S") if name in terms), torch.zeros_like(c))
    if c.shape != kl.shape or c.dim() != 1:
        raise ValueError(
            f"terms must be per-sample tensors of one shape (N,), got C {tuple(c.shape)}, KL {tuple(kl.shape)}"
        )
    if beta == 0:
        return torch.where(kl > 0, torch.full_like(kl, math.inf), c)
    return c + kl / beta
