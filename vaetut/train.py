"""Training: one loop for the autoencoder, the denoising autoencoder and the VAE.

The three differ only in the loss and the data: a VAE's forward returns (ỹ, μ, log σ²)
and is trained on L = ⟨C + (U + S)/β⟩ (`vaetut.energies.vae_loss`); an autoencoder's
returns ỹ and is trained on ⟨C⟩; a denoising autoencoder is an autoencoder fed a
corrupted y and scored against the clean y (Vincent et al. 2008).

The data set lives as one tensor on the device and is batched by index: no per-item
Dataset/DataLoader work. All randomness in `fit` and `evaluate` (initial shuffles,
ε, corruption) comes from their ``seed``; the caller's global RNG is left as it was.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch
from tqdm.auto import trange

from .data import corrupt
from .energies import check_beta, entropy_penalty, log_volume, potential_energy, reconstruction_cost, vae_loss

__all__ = ["reproducible", "fit", "evaluate", "History", "check_images", "TERMS"]

TERMS = ("C", "U", "S", "V")


def reproducible(seed: int = 0, threads: int = 1) -> None:
    """Seed Python, NumPy and torch and fix torch's CPU thread count, so that reruns give identical numbers."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    # Float sums are reduced in a thread-count-dependent order: fix it for bit-identical results.
    torch.set_num_threads(threads)


def check_images(images: torch.Tensor, input_dim: int | None = None, name: str = "images") -> torch.Tensor:
    """Return images if it is a finite float tensor of shape (N, input_dim); raise a clear error otherwise."""
    if not isinstance(images, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(images).__name__}")
    if images.dim() != 2 or images.shape[0] == 0:
        raise ValueError(f"{name} must have shape (N, D) with N > 0, got {tuple(images.shape)}")
    if input_dim is not None and images.shape[1] != input_dim:
        raise ValueError(f"{name} must have shape (N, {input_dim}) for this model, got {tuple(images.shape)}")
    if not images.is_floating_point():
        raise TypeError(f"{name} must be a float tensor, got {images.dtype}")
    if not torch.isfinite(images).all():
        bad = int((~torch.isfinite(images)).any(dim=1).sum())
        raise ValueError(f"{name} contain NaN or inf values (in {bad} rows)")
    return images


def _is_variational(model: torch.nn.Module) -> bool:
    return hasattr(model, "reparameterize")


def _check_options(model, beta, cost, corruption):
    if _is_variational(model):
        beta = 1.0 if beta is None else check_beta(beta)
    elif beta is not None:
        raise ValueError(f"beta is for a VAE; {type(model).__name__} has no KL term (got beta={beta})")
    reconstruction_cost(torch.zeros(1, 1), torch.full((1, 1), 0.5), cost)  # raises on an unknown cost
    if corruption is not None:
        kind, level = corruption
        corrupt(torch.zeros(1, 1), kind, level)  # raises on an unknown kind or a bad level
    return beta


def _device(device: str) -> torch.device:
    if device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(device)


def _terms(model, y_input, y, cost) -> dict[str, torch.Tensor]:
    """Per-sample C (and U, S, V for a VAE, with ζ sampled from each bubble), each (N,), plus the outputs."""
    if _is_variational(model):
        y_tilde, mu, logvar = model(y_input, sample=True)
        terms = {"C": reconstruction_cost(y, y_tilde, cost), "U": potential_energy(mu),
                 "S": entropy_penalty(logvar), "V": log_volume(logvar)}
        return terms, (y_tilde, mu, logvar)
    y_tilde = model(y_input)
    return {"C": reconstruction_cost(y, y_tilde, cost)}, (y_tilde,)


@dataclass
class History:
    """Per-epoch training averages: ``loss`` and, for a VAE, ⟨C⟩ ⟨U⟩ ⟨S⟩ ⟨V⟩ (ζ sampled, as in the loss)."""

    rows: list[dict] = field(default_factory=list)
    collapsed: bool = False  # True when β = 0 set the collapse optimum instead of training

    @property
    def loss(self) -> list[float]:
        return [row["loss"] for row in self.rows]

    def to_frame(self) -> pd.DataFrame:
        """The history as a DataFrame indexed by epoch (1, 2, …)."""
        frame = pd.DataFrame(self.rows)
        frame.index = pd.RangeIndex(1, len(frame) + 1, name="epoch")
        return frame.rename(columns={t: f"⟨{t}⟩" for t in TERMS})


def _collapse(model, images, cost) -> History:
    """β = 0: (U + S)/β is infinite unless every bubble is the prior, so set that optimum directly."""
    model.collapse_(images.mean(dim=0))
    with torch.no_grad(), torch.random.fork_rng(devices=[]):  # ζ is drawn but ignored: leave the RNG alone
        terms, _ = _terms(model, images, images, cost)
    row = {"loss": terms["C"].mean().item(), **{t: terms[t].mean().item() for t in TERMS}}
    return History(rows=[row], collapsed=True)


def fit(
    model: torch.nn.Module,
    images: torch.Tensor,
    *,
    epochs: int = 10,
    batch_size: int = 128,
    lr: float = 1e-3,
    seed: int = 0,
    beta: float | None = None,
    cost: str = "mse",
    corruption: tuple[str, float] | None = None,
    progress: bool = True,
    device: str = "auto",
) -> History:
    """Train ``model`` on ``images`` (N, D) with Adam and return its per-epoch `History`.

    ``beta`` weighs a VAE's KL as L = ⟨C + (U + S)/β⟩ (None means β = 1; β = 0 sets the
    collapse optimum: μ = 0, σ = 1 and ỹ = the mean image). ``corruption=(kind, level)``
    trains a denoising AE: a fresh `vaetut.data.corrupt` of each batch goes in, the
    clean batch is the target. Same seed, torch version and thread count → same history.
    """
    images = check_images(images, getattr(model, "input_dim", None))
    beta = _check_options(model, beta, cost, corruption)
    if not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive integer, got {epochs!r}")
    if not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    if not lr > 0:
        raise ValueError(f"lr must be > 0, got {lr!r}")
    device = _device(device)
    model.to(device)
    data = images.to(device)  # (N, D), the whole set on the device once
    if beta == 0:
        return _collapse(model, data, cost)

    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    history = History()
    n = len(data)
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        model.train()
        for _ in trange(epochs, disable=not progress, desc=type(model).__name__, leave=False):
            sums = dict.fromkeys(("loss", *TERMS), 0.0)
            for index in torch.randperm(n, device=device).split(batch_size):
                y = data[index]  # (B, D)
                y_input = corrupt(y, *corruption) if corruption is not None else y
                terms, outputs = _terms(model, y_input, y, cost)
                loss = terms["C"].mean() if beta is None else vae_loss(y, *outputs, beta, cost)
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()
                sums["loss"] += loss.item() * len(index)
                for name, value in terms.items():
                    sums[name] += value.detach().sum().item()
            row = {name: total / n for name, total in sums.items() if name == "loss" or name in terms}
            if not math.isfinite(row["loss"]):
                raise FloatingPointError(f"training diverged: loss is {row['loss']} at epoch {len(history.rows) + 1}")
            history.rows.append(row)
    return history


@torch.no_grad()
def evaluate(
    model: torch.nn.Module,
    images: torch.Tensor,
    *,
    beta: float | None = None,
    cost: str = "mse",
    corruption: tuple[str, float] | None = None,
    seed: int = 0,
    batch_size: int = 1000,
) -> dict[str, float]:
    """Averages over ``images`` of the loss and C (and U, S, V for a VAE), with ζ sampled from each bubble.

    Sampled ζ, not z = μ: ⟨C⟩ is the expectation under q(ζ|y) that the loss contains.
    With ``corruption`` the input is corrupted and C is measured against the clean images.
    """
    images = check_images(images, getattr(model, "input_dim", None))
    beta = _check_options(model, beta, cost, corruption)
    device = next(model.parameters()).device
    sums: dict[str, float] = {}
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        for y in images.to(device).split(batch_size):
            y_input = corrupt(y, *corruption) if corruption is not None else y
            terms, _ = _terms(model, y_input, y, cost)
            for name, value in terms.items():
                sums[name] = sums.get(name, 0.0) + value.double().sum().item()
    means = {name: total / len(images) for name, total in sums.items()}
    if beta is None:
        means["loss"] = means["C"]
    elif beta == 0:
        means["loss"] = means["C"] if means["U"] + means["S"] == 0 else math.inf
    else:
        means["loss"] = means["C"] + (means["U"] + means["S"]) / beta
    return {"loss": means.pop("loss"), **means}
