"""The autoencoder and the variational autoencoder, as small multilayer perceptrons.

The VAE follows Kingma & Welling (2014), *Auto-Encoding Variational Bayes*,
arXiv:1312.6114: the encoder maps y to a bubble (μ, log σ²) instead of a point, a code
ζ = μ + σ·ε (ε ~ N(0, I)) is drawn from it by the reparameterisation trick, and the
decoder maps the code back to ỹ. ``hidden_dims=()`` makes encoder and decoder linear.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Autoencoder", "VAE", "OUTPUTS"]

OUTPUTS = ("sigmoid", "linear")


def _check_dims(input_dim: int, latent_dim: int, hidden_dims, output: str) -> tuple[int, ...]:
    for name, value in (("input_dim", input_dim), ("latent_dim", latent_dim)):
        if not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    hidden_dims = tuple(hidden_dims)
    if any(not isinstance(h, int) or h < 1 for h in hidden_dims):
        raise ValueError(f"hidden_dims must be positive integers, got {hidden_dims!r}")
    if output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {OUTPUTS}")
    return hidden_dims


def _mlp(sizes: list[int]) -> nn.Sequential:
    """Linear layers between consecutive sizes, ReLU after every one: the hidden stack."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out), nn.ReLU()]
    return nn.Sequential(*layers)


class _Decoder(nn.Module):
    """z ↦ ỹ: hidden ReLU layers, a last linear layer, then sigmoid (pixels in [0, 1]) or nothing."""

    def __init__(self, latent_dim: int, hidden_dims: tuple[int, ...], input_dim: int, output: str):
        super().__init__()
        sizes = [latent_dim, *hidden_dims]
        self.hidden = _mlp(sizes)
        self.out = nn.Linear(sizes[-1], input_dim)
        self.output = output

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        logits = self.out(self.hidden(z))  # (N, input_dim)
        return torch.sigmoid(logits) if self.output == "sigmoid" else logits

    @torch.no_grad()
    def constant_(self, y_mean: torch.Tensor) -> None:
        """Make the decoder ignore z and output y_mean (clamped away from 0 and 1 under a sigmoid)."""
        self.out.weight.zero_()
        if self.output == "sigmoid":
            # sigmoid(±30) is 1e-13 from 0 or 1: exact in any printed digit.
            self.out.bias.copy_(torch.logit(y_mean.clamp(0, 1)).clamp(-30, 30))
        else:
            self.out.bias.copy_(y_mean)


def _check_input(model: nn.Module, y: torch.Tensor) -> None:
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    if y.dim() != 2 or y.shape[1] != model.input_dim:
        raise ValueError(f"y must have shape (N, {model.input_dim}), got {tuple(y.shape)}")


class Autoencoder(nn.Module):
    """A deterministic autoencoder: y ↦ z = encode(y) ↦ ỹ = decode(z)."""

    def __init__(self, input_dim: int = 784, latent_dim: int = 2, hidden_dims=(256,), output: str = "sigmoid"):
        super().__init__()
        hidden_dims = _check_dims(input_dim, latent_dim, hidden_dims, output)
        self.input_dim, self.latent_dim, self.hidden_dims = input_dim, latent_dim, hidden_dims
        width = ([input_dim, *hidden_dims])[-1]
        self.encoder = nn.Sequential(_mlp([input_dim, *hidden_dims]), nn.Linear(width, latent_dim))
        self.decoder = _Decoder(latent_dim, hidden_dims[::-1], input_dim, output)

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        """The code z of each input; (N, input_dim) → (N, latent_dim)."""
        _check_input(self, y)
        return self.encoder(y)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction ỹ of each code; (N, latent_dim) → (N, input_dim)."""
        return self.decoder(z)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """ỹ = decode(encode(y))."""
        return self.decode(self.encode(y))


class VAE(nn.Module):
    """A variational autoencoder with a diagonal Gaussian encoder q(ζ|y) = N(μ(y), diag σ²(y))."""

    def __init__(self, input_dim: int = 784, latent_dim: int = 20, hidden_dims=(400,), output: str = "sigmoid"):
        super().__init__()
        hidden_dims = _check_dims(input_dim, latent_dim, hidden_dims, output)
        self.input_dim, self.latent_dim, self.hidden_dims = input_dim, latent_dim, hidden_dims
        width = ([input_dim, *hidden_dims])[-1]
        self.encoder = _mlp([input_dim, *hidden_dims])
        self.to_mu = nn.Linear(width, latent_dim)
        self.to_logvar = nn.Linear(width, latent_dim)
        self.decoder = _Decoder(latent_dim, hidden_dims[::-1], input_dim, output)

    def encode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The bubble of each input: (μ, log σ²), each (N, latent_dim)."""
        _check_input(self, y)
        h = self.encoder(y)
        return self.to_mu(h), self.to_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        """ζ = μ + σ·ε with ε ~ N(0, I): a sample from the bubble that gradients flow through."""
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction ỹ of each code; (N, latent_dim) → (N, input_dim)."""
        return self.decoder(z)

    def forward(self, y: torch.Tensor, sample: bool | None = None, generator: torch.Generator | None = None):
        """(ỹ, μ, log σ²). ζ is sampled in training mode or when ``sample=True``; else ζ = μ."""
        mu, logvar = self.encode(y)
        if sample is None:
            sample = self.training
        z = self.reparameterize(mu, logvar, generator) if sample else mu
        return self.decode(z), mu, logvar

    @torch.no_grad()
    def collapse_(self, y_mean: torch.Tensor) -> VAE:
        """Set the β = 0 optimum: every bubble is the prior (μ = 0, σ = 1) and ỹ = y_mean for every input."""
        for layer in (self.to_mu, self.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
        self.decoder.constant_(y_mean)
        return self
