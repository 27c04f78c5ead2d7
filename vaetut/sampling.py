"""Sampling with a score: Langevin dynamics, and the score that a denoiser implies.

Langevin dynamics draws samples from a density p knowing only its score ∇log p: repeat

    x ← x + (η/2)·∇log p(x) + √η·ξ,    ξ ~ N(0, I),

a step up the slope of log p plus fresh noise. For a small step η the chain's distribution
approaches p; with a finite η it is slightly wider (the unadjusted Langevin algorithm;
Roberts & Tweedie 1996). A denoiser r trained on Gaussian noise of level ℓ supplies the score:
by Tweedie's formula (Robbins 1956; Miyasawa 1961; Efron 2011) the best denoiser has
r(x) − x = ℓ²∇log p_ℓ(x), p_ℓ the density of the corrupted inputs, and training a denoising
autoencoder is score matching for p_ℓ (Vincent 2011). Langevin steps with learned scores,
annealed from large to small noise, are the sampler of Song & Ermon (2019), *Generative
Modeling by Estimating Gradients of the Data Distribution*, NeurIPS, arXiv:1907.05600.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable

import torch

from .models import positive_int

__all__ = ["langevin", "denoiser_score"]


def _positive(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a finite number > 0, got {value!r}")
    return float(value)


def denoiser_score(denoiser: Callable[[torch.Tensor], torch.Tensor], level: float) -> Callable:
    """The score that a denoiser of Gaussian noise of standard deviation ``level`` implies: x ↦ (r(x) − x)/ℓ²."""
    if not callable(denoiser):
        raise TypeError(f"denoiser must be callable (x ↦ r(x)), got {type(denoiser).__name__}")
    level = _positive("level", level)

    def score(x: torch.Tensor) -> torch.Tensor:
        return (denoiser(x) - x) / level**2  # (N, d)

    return score


@torch.no_grad()
def langevin(
    score: Callable[[torch.Tensor], torch.Tensor],
    x: torch.Tensor,
    *,
    step_size: float,
    steps: int,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """``steps`` Langevin steps x ← x + (η/2)·score(x) + √η·ξ from the points ``x`` (N, d); returns the last x (N, d).

    η is ``step_size``; ξ ~ N(0, I) is drawn from ``generator`` (the global RNG when None).
    ``score`` maps (N, d) points to their scores ∇log p, (N, d). ``x`` is not changed.
    """
    if not callable(score):
        raise TypeError(f"score must be callable (x ↦ ∇log p(x)), got {type(score).__name__}")
    if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.dim() != 2 or x.shape[0] == 0:
        raise ValueError(f"x must be a float tensor of shape (N, d) with N > 0, got {getattr(x, 'shape', x)!r}")
    if not torch.isfinite(x).all():
        raise ValueError("x contains NaN or inf values")
    step_size = _positive("step_size", step_size)
    steps = positive_int("steps", steps)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
    for step in range(steps):
        drift = score(x)  # (N, d)
        if step == 0 and (not isinstance(drift, torch.Tensor) or drift.shape != x.shape):
            raise ValueError(f"score must return a tensor of the shape of x, {tuple(x.shape)}, got {drift!r:.80}")
        noise = torch.randn(x.shape, generator=generator, dtype=x.dtype, device=x.device)  # (N, d)
        x = x + 0.5 * step_size * drift + math.sqrt(step_size) * noise
    return x
