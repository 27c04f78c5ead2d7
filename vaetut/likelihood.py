"""The log-likelihood log p(y) of a VAE, estimated by importance sampling with the encoder's bubble as proposal.

Burda, Grosse & Salakhutdinov (2016), *Importance Weighted Autoencoders*, arXiv:1509.00519:
with K draws ζ_k from the bubble q(ζ|y),

    log p(y) ≈ log (1/K) Σ_k  p(y|ζ_k) p(ζ_k) / q(ζ_k|y),

a lower bound on log p(y) in expectation that rises with K and reaches log p(y) as K → ∞.
K = 1 is the ELBO's one-sample estimate; the gap at K = 1 is, in expectation,
KL[q(ζ|y) ‖ p(z|y)]. The prior is p(z) = N(0, I). The decoder's density is the book's
reading of the reconstruction cost C:

- ``cost="mse"``: y ~ N(ỹ, I/β), so −log p(y|ζ) = β·C + (D/2) log(2π/β) with C = ½‖y − ỹ‖²
  and D pixels: β is the decoder's precision;
- ``cost="bce"``: each pixel is a coin with probability ỹ of ink, −log p(y|ζ) = C_bce (a
  density only for binary pixels; β plays no part);
- ``cost="gaussian"``: y ~ N(ỹ, s² I) with the decoder's learned s², −log p(y|ζ) = C, the
  full Gaussian negative log-likelihood (β plays no part).

The cost is the model's own unless the caller names another.
"""

from __future__ import annotations

import math

import torch

from .energies import check_beta, reconstruction_cost
from .train import check_images, check_range, model_cost

__all__ = ["log_likelihood"]

ROWS = 10_000  # decoded rows per step: K × images per batch, so that K = 1000 fits in memory
IMAGES_PER_BATCH = 100


def _check_arguments(model, samples, beta, cost, seed) -> tuple[float, str]:
    for method in ("encode", "decode", "reparameterize"):
        if not callable(getattr(model, method, None)):
            raise TypeError(
                f"model must be a VAE with encode, decode and reparameterize; {type(model).__name__} has no {method}"
            )
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise ValueError(f"samples must be a positive integer, got {samples!r}")
    cost = model_cost(model, cost)
    beta = check_beta(beta)
    if cost == "mse" and beta == 0:
        raise ValueError("beta must be > 0 for cost='mse': it is the decoder's precision, and 0 is no density")
    if cost != "mse" and beta != 1.0:
        raise ValueError(f"beta is the mse decoder's precision; cost={cost!r} has none, leave beta at 1 (got {beta})")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an integer, got {seed!r}")
    return beta, cost


def _log_weights(model, y, samples, beta, cost, generator) -> torch.Tensor:
    """log p(y|ζ_k) + log p(ζ_k) − log q(ζ_k|y) for K draws per image; y (B, D) → (K, B)."""
    n, d = y.shape
    mu, logvar = model.encode(y)  # (B, L) each
    latent = mu.shape[1]
    log_2pi = math.log(2 * math.pi)
    chunk = max(1, ROWS // n)  # draws per step
    parts = []
    for start in range(0, samples, chunk):
        k = min(chunk, samples - start)
        mu_k, logvar_k = mu.expand(k, n, latent), logvar.expand(k, n, latent)  # (k, B, L)
        zeta = model.reparameterize(mu_k, logvar_k, generator)  # (k, B, L)
        y_tilde = model.decode(zeta.reshape(k * n, latent))  # (k·B, D)
        if cost == "gaussian":
            c = model.reconstruction_cost(y.repeat(k, 1), y_tilde, cost).reshape(k, n)  # (k, B), the full −log p
        else:
            c = reconstruction_cost(y.repeat(k, 1), y_tilde, cost).reshape(k, n)  # (k, B)
        log_p_y = -beta * c - 0.5 * d * (log_2pi - math.log(beta)) if cost == "mse" else -c
        log_prior = -0.5 * (zeta.pow(2).sum(dim=-1) + latent * log_2pi)  # (k, B)
        log_q = -0.5 * (((zeta - mu_k).pow(2) / logvar_k.exp() + logvar_k).sum(dim=-1) + latent * log_2pi)
        parts.append(log_p_y + log_prior - log_q)
    return torch.cat(parts)  # (K, B)


@torch.no_grad()
def log_likelihood(
    model: torch.nn.Module,
    images: torch.Tensor,
    *,
    samples: int = 1000,
    beta: float = 1.0,
    cost: str | None = None,
    seed: int = 0,
) -> torch.Tensor:
    """Each image's importance-sampled estimate of log p(y) in nats, with K = ``samples`` draws from q(ζ|y); shape (N,).

    The decoder's density is that of the model's cost (or of ``cost``): N(ỹ, I/β) for
    "mse", Bernoulli(ỹ) for "bce", N(ỹ, s² I) for "gaussian" (see the module docstring).
    Images are cast to the model's dtype and device and processed in batches; the draws
    come from a local generator seeded with ``seed`` (the global RNG is left alone), and the
    model is scored in eval mode and handed back in the mode it came in. With ``samples=1``
    the mean over images is a one-sample estimate of the ELBO; as ``samples`` grows the
    estimate rises towards log p(y).
    """
    beta, cost = _check_arguments(model, samples, beta, cost, seed)
    images = check_images(images, getattr(model, "input_dim", None))
    check_range(model, images, cost)
    parameter = next(model.parameters())
    y_all = images.to(device=parameter.device, dtype=parameter.dtype)  # (N, D)
    generator = torch.Generator(device=parameter.device).manual_seed(seed)
    was_training = model.training
    model.eval()
    try:
        estimates = []
        for y in y_all.split(IMAGES_PER_BATCH):
            log_w = _log_weights(model, y, samples, beta, cost, generator)  # (K, B)
            estimates.append(torch.logsumexp(log_w, dim=0) - math.log(samples))  # (B,)
    finally:
        model.train(was_training)
    return torch.cat(estimates)
