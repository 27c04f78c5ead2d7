"""A small convolutional VAE: the same bubbles, terms and training loop as `vaetut.VAE`, other networks.

The encoder is a stack of 3 × 3 convolutions of stride 2, each halving the image's height
and width, then the two linear maps to μ and log σ²; the decoder mirrors it with transposed
convolutions (the architecture of Kingma & Welling's successors, e.g. the DCGAN-style VAEs
of pytorch/examples, kept small). Images stay flat, (N, H·W), as everywhere in vaetut: the
model reshapes them itself, so `vaetut.fit`, `evaluate` and `log_likelihood` train and
score it without a change. Every method is `vaetut.VAE`'s: only the networks differ.
"""

from __future__ import annotations

import torch
from torch import nn

from .latent import check_cost
from .models import VAE, _check_dims, check_dtype, positive_int

__all__ = ["ConvVAE"]


def _image_shape(image_shape) -> tuple[int, int]:
    if not isinstance(image_shape, (tuple, list)) or len(image_shape) != 2:
        raise TypeError(f"image_shape must be a (height, width) pair of positive integers, got {image_shape!r}")
    return positive_int("image_shape", image_shape[0]), positive_int("image_shape", image_shape[1])


def _halvings(size: int, steps: int) -> list[int]:
    """The sizes after each stride-2 convolution: size, ⌈size/2⌉, ⌈size/4⌉, …; steps + 1 values."""
    sizes = [size]
    for _ in range(steps):
        sizes.append((sizes[-1] + 1) // 2)
    return sizes


class _ConvDecoder(nn.Module):
    """z ↦ ỹ: a linear map to the smallest feature maps, transposed convolutions back to (1, H, W), a bias per pixel."""

    def __init__(self, latent_dim, channels, heights, widths, output, dtype):
        super().__init__()
        self.first = nn.Linear(latent_dim, channels[-1] * heights[-1] * widths[-1], dtype=dtype)
        self.grid = (channels[-1], heights[-1], widths[-1])
        layers: list[nn.Module] = []
        sizes = list(zip(heights, widths))
        for k in range(len(channels) - 1, -1, -1):  # back up the encoder's stack
            c_out = channels[k - 1] if k > 0 else 1
            (h, w), (h_in, w_in) = sizes[k], sizes[k + 1]
            padding = (h - 2 * h_in + 1, w - 2 * w_in + 1)  # 1 where the size was even, 0 where odd
            last = k == 0
            layers.append(nn.ConvTranspose2d(channels[k], c_out, 3, 2, 1, padding, bias=not last, dtype=dtype))
            if not last:
                layers.append(nn.ReLU())
        self.deconv = nn.Sequential(*layers)
        self.pixel_bias = nn.Parameter(torch.zeros(heights[0] * widths[0], dtype=dtype))
        self.output = output

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        h = torch.relu(self.first(z)).view(len(z), *self.grid)  # (N, C, h, w)
        logits = self.deconv(h).flatten(1) + self.pixel_bias  # (N, H·W)
        return torch.sigmoid(logits) if self.output == "sigmoid" else logits

    @torch.no_grad()
    def constant_(self, y_mean: torch.Tensor) -> None:
        """Make the decoder ignore z and output y_mean (clamped away from 0 and 1 under a sigmoid)."""
        self.deconv[-1].weight.zero_()
        if self.output == "sigmoid":
            self.pixel_bias.copy_(torch.logit(y_mean.clamp(0, 1)).clamp(-30, 30))
        else:
            self.pixel_bias.copy_(y_mean)


class ConvVAE(VAE):
    """A convolutional VAE on flat (N, H·W) single-channel images; the interface of `vaetut.VAE`.

    Args:
        latent_dim: size D of the code ζ; the prior is p(z) = N(0, I_D).
        image_shape: (height, width) of an image; ``input_dim`` is height · width.
        channels: feature maps of each convolution of the encoder, each of stride 2 (so
            each halves height and width, rounding up); the decoder mirrors them.
        output: ``"sigmoid"`` (ỹ in (0, 1)) or ``"linear"``.
        cost: ``"mse"``, ``"bce"`` or ``"gaussian"``, as for `vaetut.VAE` (None: the one
            matching the output).
        dtype: the parameters' floating-point dtype (None: torch's default dtype).
    """

    def __init__(
        self,
        latent_dim: int = 16,
        image_shape=(28, 28),
        channels=(16, 32),
        output: str = "sigmoid",
        cost: str | None = None,
        dtype=None,
    ):
        nn.Module.__init__(self)  # VAE's methods, not its MLPs
        height, width = _image_shape(image_shape)
        input_dim, latent_dim, _ = _check_dims(height * width, latent_dim, (), output)
        if isinstance(channels, (str, bytes)) or not isinstance(channels, (tuple, list)) or not channels:
            raise TypeError(f"channels must be a non-empty sequence of positive integers, got {channels!r}")
        channels = tuple(positive_int("channels", c) for c in channels)
        dtype = check_dtype(dtype)
        self.output, self.cost = output, check_cost(cost, output)
        self.input_dim, self.latent_dim, self.image_shape, self.channels = (
            input_dim,
            latent_dim,
            (height, width),
            channels,
        )
        heights, widths = _halvings(height, len(channels)), _halvings(width, len(channels))
        layers: list[nn.Module] = [nn.Unflatten(1, (1, height, width))]
        for c_in, c_out in zip((1, *channels[:-1]), channels):
            layers += [nn.Conv2d(c_in, c_out, 3, 2, 1, dtype=dtype), nn.ReLU()]
        self.encoder = nn.Sequential(*layers, nn.Flatten())  # (N, H·W) → (N, C·h·w)
        features = channels[-1] * heights[-1] * widths[-1]
        self.to_mu = nn.Linear(features, latent_dim, dtype=dtype)
        self.to_logvar = nn.Linear(features, latent_dim, dtype=dtype)
        self.decoder = _ConvDecoder(latent_dim, channels, heights, widths, output, dtype)
        self._learn_variance(dtype)

    def config(self) -> dict:
        """The constructor's arguments, as JSON-ready values: enough to rebuild the model (see `vaetut.save`)."""
        dtype = str(next(self.parameters()).dtype).removeprefix("torch.")
        return dict(latent_dim=self.latent_dim, image_shape=list(self.image_shape), channels=list(self.channels),
                    output=self.output, cost=self.cost, dtype=dtype)  # fmt: skip
