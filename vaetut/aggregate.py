"""The aggregate posterior q(z), the mixture of all the bubbles, and the ELBO surgery of its KL from the prior.

Hoffman & Johnson (2016), *ELBO surgery: yet another way to carve up the variational
evidence lower bound*, NIPS Workshop on Advances in Approximate Bayesian Inference.
For N images y_n with bubbles q(z|y_n) = N(μ_n, diag σ_n²), the aggregate posterior is
the mixture q(z) = (1/N) Σ_n q(z|y_n), and the average KL of the bubbles from the prior
p(z) = N(0, I) splits exactly in two:

    ⟨KL[q(z|y) ‖ p(z)]⟩ = I(y; z) + KL[q(z) ‖ p(z)],

where I(y; z) is the mutual information between the image index n (uniform over the N
images) and the code z under q. Since I(y; z) ≤ H(y) = log N,

    KL[q(z) ‖ p(z)] ≥ ⟨KL⟩ − log N,

a bound that needs no sampling. KL[q(z) ‖ p(z)] itself is estimated by Monte Carlo with
codes drawn from the mixture. It splits again, because −log p(z) = ½‖z‖² + (D/2) log 2π:

    KL[q(z) ‖ p(z)] = (⟨½‖z‖²⟩_q − D/2) + (H[p] − H[q]),

an excess of the codes' second moment over the prior's (exact, from the bubbles'
moments: ½ Σ_d (⟨μ_d²⟩ + ⟨σ_d²⟩) − D/2) plus an entropy deficit of q (Monte Carlo).
"""

from __future__ import annotations

import math

import torch

__all__ = ["log_mixture_density", "sample_mixture", "elbo_surgery"]

ROWS = 4_000_000  # codes × bubbles scored per step, to bound memory


def _check_bubbles(mu, logvar) -> None:
    for name, value in (("mu", mu), ("logvar", logvar)):
        if not isinstance(value, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(value).__name__}")
    if mu.dim() != 2 or mu.shape[0] == 0 or mu.shape[1] == 0:
        raise ValueError(f"mu must have shape (N, D) with N, D > 0, got {tuple(mu.shape)}")
    if logvar.shape != mu.shape:
        raise ValueError(f"logvar must have the shape of mu {tuple(mu.shape)}, got {tuple(logvar.shape)}")
    if not (torch.isfinite(mu).all() and torch.isfinite(logvar).all()):
        raise ValueError("mu and logvar must be finite")


@torch.no_grad()
def log_mixture_density(z: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """log q(z) = log (1/N) Σ_n N(z; μ_n, diag σ_n²) at each code; z (M, D), mu and logvar (N, D) → (M,) nats."""
    _check_bubbles(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.dim() != 2 or z.shape[1] != mu.shape[1]:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        raise ValueError(f"z must be a tensor of shape (M, {mu.shape[1]}), got {shape}")
    z = z.to(mu.dtype)
    n, d = mu.shape
    precision = (-logvar).exp()  # (N, D), 1/σ²
    # ‖(z − μ_n)/σ_n‖² = Σ_d z_d²/σ_nd² − 2 z_d μ_nd/σ_nd² + μ_nd²/σ_nd², as matrix products; the constant per bubble:
    constant = -0.5 * (logvar.sum(dim=1) + d * math.log(2 * math.pi) + (mu.pow(2) * precision).sum(dim=1))  # (N,)
    parts = []
    for chunk in z.split(max(1, ROWS // n)):
        cross = chunk.pow(2) @ precision.T - 2 * chunk @ (mu * precision).T  # (m, N)
        parts.append(torch.logsumexp(constant - 0.5 * cross, dim=1) - math.log(n))  # (m,)
    return torch.cat(parts)


@torch.no_grad()
def sample_mixture(
    samples: int, mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Codes drawn from q(z): a bubble n uniformly at random, then z ~ N(μ_n, diag σ_n²); z (M, D) and n (M,)."""
    _check_bubbles(mu, logvar)
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    pick = torch.randint(len(mu), (samples,), generator=generator)  # (M,)
    eps = torch.randn(samples, mu.shape[1], generator=generator, dtype=mu.dtype)  # (M, D)
    return mu[pick] + (0.5 * logvar[pick]).exp() * eps, pick


@torch.no_grad()
def elbo_surgery(mu: torch.Tensor, logvar: torch.Tensor, *, samples: int = 10_000, seed: int = 0) -> dict[str, float]:
    """The two terms of ⟨KL⟩ = I(y; z) + KL[q(z) ‖ p(z)] for the bubbles (μ_n, log σ_n²), in nats.

    "I" is the Monte Carlo average of log q(z|y_n) − log q(z) over ``samples`` codes z drawn
    from q(z) (bubble n, then a point in it; a generator seeded with ``seed``), with its
    standard error "I se"; each term lies below log N, so the estimate is a steady one.
    "mean KL" is ⟨KL⟩ = ⟨U + S⟩ (exact), and "KL(q||p)" = ⟨KL⟩ − I (standard error "I se").
    Also "log N" (the bound I ≤ log N), "bound" (⟨KL⟩ − log N ≤ KL(q||p), no sampling), and
    KL(q||p)'s two parts: "second-moment excess" (½ Σ_d (⟨μ_d²⟩ + ⟨σ_d²⟩) − D/2, exact) and
    "entropy deficit" (H[p] − H[q], the rest).
    """
    _check_bubbles(mu, logvar)
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    n, d = mu.shape
    var = logvar.exp()
    kl_each = 0.5 * (mu.pow(2) + var - logvar - 1).sum(dim=1)  # (N,), U + S of each bubble
    z, pick = sample_mixture(samples, mu, logvar, torch.Generator().manual_seed(seed))  # (M, D), (M,)
    log_q = log_mixture_density(z, mu, logvar)  # (M,)
    log_own = -0.5 * (((z - mu[pick]).pow(2) / var[pick] + logvar[pick]).sum(dim=1) + d * math.log(2 * math.pi))
    info = log_own - log_q  # (M,), each ≤ log N; its mean estimates I(y; z)
    mean_kl, mean_info = kl_each.mean().item(), info.mean().item()
    excess = 0.5 * (mu.pow(2) + var).sum(dim=1).mean().item() - 0.5 * d
    return {
        "mean KL": mean_kl,
        "I": mean_info,
        "I se": info.std().item() / math.sqrt(samples),
        "KL(q||p)": mean_kl - mean_info,
        "log N": math.log(n),
        "bound": mean_kl - math.log(n),
        "second-moment excess": excess,
        "entropy deficit": mean_kl - mean_info - excess,
    }
