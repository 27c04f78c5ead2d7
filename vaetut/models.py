"""The autoencoder and the variational autoencoder, as small multilayer perceptrons.

The VAE follows Kingma & Welling (2014), *Auto-Encoding Variational Bayes*,
arXiv:1312.6114: the encoder maps y to a bubble (μ, log σ²) instead of a point, a code
ζ = μ + σ·ε (ε ~ N(0, I)) is drawn from it by the reparameterisation trick, and the
decoder maps the code back to ỹ. ``hidden_dims=()`` makes encoder and decoder linear.

Each model says what its per-sample terms are (`terms`): C for the autoencoder, and C, U,
S, V for the VAE with ζ sampled from each bubble. The training loop (`vaetut.train`)
combines them into the loss and knows nothing else about the model. A model also knows how
it is scored (``cost``): by default the cost that matches its output, the binary
cross-entropy for a sigmoid output and the squared error for a linear one.
"""

from __future__ import annotations

import numbers
from collections.abc import Iterable

import torch
from torch import nn

from .energies import entropy_penalty, log_volume, potential_energy, reconstruction_cost
from .latent import GaussianLatent, check_cost

__all__ = ["Autoencoder", "VAE", "OUTPUTS"]

OUTPUTS = ("sigmoid", "linear")


def positive_int(name: str, value) -> int:
    """Return value as an int if it is a positive integer (numpy integers too, bools not); raise otherwise."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name} must be a positive integer, got {value!r}")
    if value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def check_dtype(dtype) -> torch.dtype:
    """Return dtype (None: torch's default dtype) if it is a floating-point torch.dtype; raise otherwise."""
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype such as torch.float64, got {dtype!r}")
    return dtype


def check_output(output) -> str:
    """Return output if it is one of `OUTPUTS`; raise otherwise."""
    if not isinstance(output, str) or output not in OUTPUTS:
        raise ValueError(f"unknown output {output!r}; choose one of {OUTPUTS}")
    return output


def _check_dims(input_dim, latent_dim, hidden_dims, output) -> tuple[int, int, tuple[int, ...]]:
    input_dim, latent_dim = positive_int("input_dim", input_dim), positive_int("latent_dim", latent_dim)
    if isinstance(hidden_dims, (str, bytes)) or not isinstance(hidden_dims, Iterable):
        raise TypeError(f"hidden_dims must be a sequence of positive integers, got {hidden_dims!r}")
    hidden_dims = tuple(positive_int("hidden_dims", h) for h in hidden_dims)
    check_output(output)
    return input_dim, latent_dim, hidden_dims


def _mlp(sizes: list[int], dtype: torch.dtype) -> nn.Sequential:
    """Linear layers between consecutive sizes, ReLU after every one: the hidden stack."""
    layers: list[nn.Module] = []
    for n_in, n_out in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(n_in, n_out, dtype=dtype), nn.ReLU()]
    return nn.Sequential(*layers)


class _Decoder(nn.Module):
    """z ↦ ỹ: hidden ReLU layers, a last linear layer, then sigmoid (pixels in [0, 1]) or nothing."""

    def __init__(self, latent_dim: int, hidden_dims: tuple[int, ...], input_dim: int, output: str, dtype):
        super().__init__()
        sizes = [latent_dim, *hidden_dims]
        self.hidden = _mlp(sizes, dtype)
        self.out = nn.Linear(sizes[-1], input_dim, dtype=dtype)
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


def check_input(model: nn.Module, y: torch.Tensor, name: str = "y", width: int | None = None) -> None:
    """Raise unless y is a float tensor (N, width) (default width: model.input_dim) in the model's dtype."""
    width = model.input_dim if width is None else width
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(y).__name__}")
    if y.dim() != 2 or y.shape[1] != width:
        raise ValueError(f"{name} must have shape (N, {width}), got {tuple(y.shape)}")
    if not y.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor, got {y.dtype}")
    dtype = next(model.parameters()).dtype
    if y.dtype != dtype:
        raise TypeError(f"{name} must have the model's dtype {dtype}, got {y.dtype} (convert it with .to({dtype}))")


class Autoencoder(nn.Module):
    """A deterministic autoencoder: y ↦ z = encode(y) ↦ ỹ = decode(z).

    Args:
        input_dim: pixels per image D_y (784 for MNIST); images are flat, (N, input_dim).
        latent_dim: size of the code z.
        hidden_dims: widths of the hidden layers, each followed by a ReLU; the decoder mirrors
            the encoder. ``()`` makes encoder and decoder affine (a linear autoencoder).
        output: ``"sigmoid"`` (ỹ in (0, 1), for pixel intensities) or ``"linear"`` (ỹ any real).
        cost: the reconstruction cost C the model is trained and scored with, ``"mse"``
            (½‖y − ỹ‖²) or ``"bce"`` (binary cross-entropy, needs ``output="sigmoid"``). None:
            the one matching the output, "bce" for sigmoid and "mse" for linear. `fit`,
            `evaluate` and `terms` use it unless given another.
        dtype: the parameters' floating-point dtype (None: torch's default dtype). The
            initial weights are drawn from torch's global RNG, in this dtype.
    """

    def __init__(
        self,
        input_dim: int = 784,
        latent_dim: int = 2,
        hidden_dims=(256,),
        output: str = "sigmoid",
        dtype=None,
        cost: str | None = None,
    ):
        super().__init__()
        input_dim, latent_dim, hidden_dims = _check_dims(input_dim, latent_dim, hidden_dims, output)
        dtype = check_dtype(dtype)
        self.output, self.cost = output, check_cost(cost, output, ("mse", "bce"))
        self.input_dim, self.latent_dim, self.hidden_dims = input_dim, latent_dim, hidden_dims
        width = ([input_dim, *hidden_dims])[-1]
        # Built in dtype, not converted after: the initial draws are made in it too.
        self.encoder = nn.Sequential(_mlp([input_dim, *hidden_dims], dtype), nn.Linear(width, latent_dim, dtype=dtype))
        self.decoder = _Decoder(latent_dim, hidden_dims[::-1], input_dim, output, dtype)

    def config(self) -> dict:
        """The constructor's arguments, as JSON-ready values: enough to rebuild the model (see `vaetut.save`)."""
        dtype = str(next(self.parameters()).dtype).removeprefix("torch.")
        return dict(input_dim=self.input_dim, latent_dim=self.latent_dim, hidden_dims=list(self.hidden_dims),
                    output=self.output, cost=self.cost, dtype=dtype)  # fmt: skip

    def check_cost(self, cost: str | None = None) -> str:
        """The cost to score with: ``cost`` if it suits this model, the model's own if None; raise otherwise."""
        return self.cost if cost is None else check_cost(cost, self.output, ("mse", "bce"))

    def encode(self, y: torch.Tensor) -> torch.Tensor:
        """The code z of each input; (N, input_dim) → (N, latent_dim)."""
        check_input(self, y)
        return self.encoder(y)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction ỹ of each code; (N, latent_dim) → (N, input_dim)."""
        check_input(self, z, "z", self.latent_dim)
        return self.decoder(z)

    def forward(self, y: torch.Tensor) -> torch.Tensor:
        """ỹ = decode(encode(y))."""
        return self.decode(self.encode(y))

    def terms(self, y_input: torch.Tensor, y: torch.Tensor, cost: str | None = None, generator=None) -> dict:
        """The per-sample terms of the loss: {"C": C(y, ỹ)} with ỹ decoded from y_input; each (N,).

        ``y_input`` is what goes in (a corrupted y for a denoising AE), ``y`` the target;
        ``cost`` is C's kind (None: the model's own). There is no randomness: ``generator``
        is accepted for the common interface.
        """
        return {"C": reconstruction_cost(y, self(y_input), self.check_cost(cost))}


class VAE(GaussianLatent):
    """A variational autoencoder with a diagonal Gaussian encoder q(ζ|y) = N(μ(y), diag σ²(y)), as MLPs.

    Args:
        input_dim: pixels per image D_y (784 for MNIST); images are flat, (N, input_dim).
        latent_dim: size D of the code ζ; the prior is p(z) = N(0, I_D).
        hidden_dims: widths of the hidden layers, each followed by a ReLU; the decoder mirrors
            the encoder. ``()`` makes μ(y), log σ²(y) and the decoder affine (the linear VAE
            of the book's closed form).
        output: ``"sigmoid"`` (ỹ in (0, 1), for pixel intensities) or ``"linear"`` (ỹ any real).
        cost: the reconstruction cost C, one of
            ``"mse"``: ½‖y − ỹ‖², a Gaussian decoder N(ỹ, I/β) up to a constant;
            ``"bce"``: the binary cross-entropy, a Bernoulli decoder (needs ``output="sigmoid"``);
            ``"gaussian"``: ½‖y − ỹ‖²/s² + (n/2)·log(2π s²), the full negative log-likelihood of
            a decoder N(ỹ, s² I) whose variance s² is one learned number (`decoder_variance`).
            None: the one matching the output, "bce" for sigmoid and "mse" for linear. `fit`,
            `evaluate`, `log_likelihood` and `terms` use it unless given another.
        dtype: the parameters' floating-point dtype (None: torch's default dtype). The
            initial weights are drawn from torch's global RNG, in this dtype.
    """

    def __init__(
        self,
        input_dim: int = 784,
        latent_dim: int = 20,
        hidden_dims=(400,),
        output: str = "sigmoid",
        dtype=None,
        cost: str | None = None,
    ):
        super().__init__()
        input_dim, latent_dim, hidden_dims = _check_dims(input_dim, latent_dim, hidden_dims, output)
        dtype = check_dtype(dtype)
        self.output, self.cost = output, check_cost(cost, output)
        self.input_dim, self.latent_dim, self.hidden_dims = input_dim, latent_dim, hidden_dims
        width = ([input_dim, *hidden_dims])[-1]
        # Built in dtype, not converted after: the initial draws are made in it too.
        self.encoder = _mlp([input_dim, *hidden_dims], dtype)
        self.to_mu = nn.Linear(width, latent_dim, dtype=dtype)
        self.to_logvar = nn.Linear(width, latent_dim, dtype=dtype)
        self.decoder = _Decoder(latent_dim, hidden_dims[::-1], input_dim, output, dtype)
        self._learn_variance(dtype)  # after every layer: the initial draws do not depend on cost

    def config(self) -> dict:
        """The constructor's arguments, as JSON-ready values: enough to rebuild the model (see `vaetut.save`)."""
        dtype = str(next(self.parameters()).dtype).removeprefix("torch.")
        return dict(input_dim=self.input_dim, latent_dim=self.latent_dim, hidden_dims=list(self.hidden_dims),
                    output=self.output, cost=self.cost, dtype=dtype)  # fmt: skip

    def encode(self, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The bubble of each input: (μ, log σ²), each (N, latent_dim)."""
        check_input(self, y)
        h = self.encoder(y)
        return self.to_mu(h), self.to_logvar(h)

    @staticmethod
    def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None):
        """ζ = μ + σ·ε with ε ~ N(0, I): a sample from the bubble that gradients flow through."""
        if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor):
            raise TypeError("mu and logvar must be torch.Tensors")
        if mu.shape != logvar.shape:
            raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
        eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype, device=mu.device)
        return mu + torch.exp(0.5 * logvar) * eps

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """The reconstruction ỹ of each code; (N, latent_dim) → (N, input_dim)."""
        check_input(self, z, "z", self.latent_dim)
        return self.decoder(z)

    def forward(self, y: torch.Tensor, sample: bool | None = None, generator: torch.Generator | None = None):
        """(ỹ, μ, log σ²). ζ is sampled in training mode or when ``sample=True``; else ζ = μ."""
        mu, logvar = self.encode(y)
        if sample is None:
            sample = self.training
        z = self.reparameterize(mu, logvar, generator) if sample else mu
        return self.decode(z), mu, logvar

    def terms(self, y_input: torch.Tensor, y: torch.Tensor, cost: str | None = None, generator=None) -> dict:
        """The per-sample terms of the loss, each (N,), with ζ sampled from each bubble of y_input.

        C(y, ỹ) the reconstruction cost (``cost``, None: the model's own), U(μ) the potential
        energy, S(σ) the entropy penalty (KL = U + S) and V(σ) the log volume, which is
        reported but not part of the loss.
        """
        y_tilde, mu, logvar = self(y_input, sample=True, generator=generator)
        return {
            "C": self.reconstruction_cost(y, y_tilde, cost),
            "U": potential_energy(mu),
            "S": entropy_penalty(logvar),
            "V": log_volume(logvar),
        }

    @torch.no_grad()
    def collapse_(self, y_mean: torch.Tensor) -> VAE:
        """Set the β = 0 optimum: every bubble is the prior (μ = 0, σ = 1) and ỹ = y_mean for every input.

        With ``cost="gaussian"`` the decoder's variance s² is left as it is.
        """
        for layer in (self.to_mu, self.to_logvar):
            layer.weight.zero_()
            layer.bias.zero_()
        self.decoder.constant_(y_mean)
        return self
