"""What every VAE here shares, whatever its network: the prior it samples from, the KL per latent dimension,
and the decoder's density, the reconstruction cost C that the model is scored with.

The decoder's density is what C means (Kingma & Welling 2014, appendix C): ``"mse"``,
C = ½‖y − ỹ‖², is a Gaussian N(ỹ, I/β) up to a constant; ``"bce"`` is a Bernoulli decoder;
``"gaussian"`` is the Gaussian N(ỹ, s² I) with its variance s² learned, one number for every
pixel, and C its full negative log-likelihood ½‖y − ỹ‖²/s² + (n/2)·log(2π s²). Trained
with β = 1 that is a true ELBO. A linear VAE with a learned s² is probabilistic PCA: s²
reaches the mean of the discarded eigenvalues of the data's covariance (Tipping & Bishop
1999; Lucas, Tucker, Grosse & Norouzi 2019). Dividing its loss by 1/s² gives the "mse"
loss with β = 1/s²: the β that the mse model leaves to be chosen is the decoder's precision.
"""

from __future__ import annotations

import math
import numbers

import torch
from torch import nn

from .energies import gaussian_cost, reconstruction_cost

__all__ = ["GaussianLatent", "check_cost", "MODEL_COSTS"]

MODEL_COSTS = ("mse", "bce", "gaussian")


def check_cost(cost, output: str, allowed: tuple[str, ...] = MODEL_COSTS) -> str:
    """The cost for a model with this output: ``cost`` if it is one of ``allowed`` and suits the output,
    the one matching the output if None ("bce" for sigmoid, "mse" for linear); raise otherwise."""
    if cost is None:
        return "bce" if output == "sigmoid" else "mse"
    if not isinstance(cost, str) or cost not in allowed:
        raise ValueError(f"unknown reconstruction cost kind {cost!r}; choose one of {allowed}")
    if cost == "bce" and output != "sigmoid":
        raise ValueError(
            'cost="bce" needs outputs in [0, 1]: build the model with output="sigmoid" (or use cost="mse")'
        )
    return cost


class GaussianLatent(nn.Module):
    """The shared half of a VAE: prior N(0, I), `sample`, `latent_kl`, and the decoder's cost and learned variance.

    A subclass sets ``input_dim``, ``latent_dim``, ``output`` and ``cost``, builds its
    networks, then calls ``_learn_variance(dtype)``, and gives ``decode``.
    """

    input_dim: int
    latent_dim: int
    output: str
    cost: str

    def _learn_variance(self, dtype: torch.dtype) -> None:
        """With cost="gaussian": the decoder's learned log s², one scalar parameter, starting at s² = 1."""
        if self.cost == "gaussian":
            self.decoder_log_s2 = nn.Parameter(torch.zeros((), dtype=dtype))

    def check_cost(self, cost: str | None = None) -> str:
        """The cost to score with: ``cost`` if it suits this model, the model's own if None; raise otherwise."""
        if cost is None:
            return self.cost
        cost = check_cost(cost, self.output)
        if cost == "gaussian" and self.cost != "gaussian":
            raise ValueError('cost="gaussian" needs a learned decoder variance: build the model with cost="gaussian"')
        return cost

    def reconstruction_cost(self, y: torch.Tensor, y_tilde: torch.Tensor, cost: str | None = None) -> torch.Tensor:
        """C(y, ỹ) of this model's decoder (``cost``, None: the model's own); summed over pixels, shape (N,)."""
        cost = self.check_cost(cost)
        if cost == "gaussian":
            return gaussian_cost(y, y_tilde, self.decoder_log_s2)
        return reconstruction_cost(y, y_tilde, cost)

    @property
    def decoder_variance(self) -> float:
        """s², the learned variance of the decoder N(ỹ, s² I) (cost="gaussian"); the mse model's implied β is 1/s²."""
        if self.cost != "gaussian":
            raise ValueError(
                f'decoder_variance: this model has cost="{self.cost}"; only cost="gaussian" learns s² '
                '(a cost="mse" model trained at β has s² = 1/β)'
            )
        return math.exp(self.decoder_log_s2.item())

    @torch.no_grad()
    def sample(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n decoded draws from the prior: ỹ = decode(z) with z ~ N(0, I); shape (n, input_dim).

        These are the decoder's means, the images the model expects for each z, not draws
        from p(y|z): a draw would add the decoder's noise (pixel noise of variance s² or 1/β
        for a Gaussian decoder, independent coin flips for a Bernoulli one). ``generator``
        (a torch.Generator) makes them reproducible without touching the global RNG.
        """
        if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        if generator is not None and not isinstance(generator, torch.Generator):
            raise TypeError(f"generator must be a torch.Generator or None, got {type(generator).__name__}")
        parameter = next(self.parameters())
        z = torch.randn((int(n), self.latent_dim), generator=generator, dtype=parameter.dtype, device=parameter.device)
        return self.decode(z)  # (n, input_dim)

    @torch.no_grad()
    def latent_kl(self, y: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
        """⟨KL_d⟩, the KL of each latent dimension averaged over the images y: ½⟨μ_d² + σ_d² − log σ_d² − 1⟩.

        Shape (latent_dim,), float64; it sums to ⟨U⟩ + ⟨S⟩. A dimension whose ⟨KL_d⟩ is ~0
        has collapsed: its bubbles are the prior whatever y is, so it carries no information.
        """
        total = torch.zeros(self.latent_dim, dtype=torch.float64)
        for batch in y.split(batch_size):
            mu, logvar = self.encode(batch)  # (B, D) each
            total += (0.5 * (mu.pow(2) + logvar.exp() - logvar - 1)).double().sum(dim=0).cpu()
        return total / len(y)
