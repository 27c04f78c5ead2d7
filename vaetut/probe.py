"""Codes as features: a linear probe scores how much of the digit's class a code carries in linear form.

A probe is a multinomial logistic regression (scikit-learn's `LogisticRegression`) trained on
the codes of the training images and scored by its accuracy on the codes of held-out
images. Its inputs are standardised first (each code dimension to mean 0 and variance 1 on
the training codes), so that codes on different scales, an autoencoder's and a VAE's μ,
compare. The probe is linear on purpose: it asks what a *linear* read-out finds in the code,
the usual test of representations (Alain & Bengio 2016, *Understanding intermediate layers
using linear classifier probes*, arXiv:1610.01644). A higher accuracy says that the classes
are more nearly linearly separable in that code; it does not say that the code is better for
anything else.

The chapter probes PCA, an autoencoder, a denoising autoencoder and the β sweep's VAEs (their
centres μ), all with 20-dimensional codes; `probe_seeds` repeats that for the seeds 0–4 and
``python -m vaetut.probe vaetut/_data/probe_seeds.csv`` writes the package's copy of it.
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pandas as pd
import torch

from .experiments import SLIDES_BETAS, beta_sweep
from .models import Autoencoder
from .parallel import fit_many
from .train import reproducible

__all__ = ["autoencoders", "linear_probe", "pca_codes", "probe_seeds", "shipped_probe_seeds"]

LATENT_DIM = 20  # the β sweep's code size
TRAINING = dict(epochs=20, batch_size=100, lr=1e-3)  # the β sweep's training
CORRUPTION = ("mask", 0.5)  # chapter 2's denoising AE
DATA = "probe_seeds.csv"


def _features(name: str, codes) -> np.ndarray:
    array = codes.detach().cpu().numpy() if isinstance(codes, torch.Tensor) else np.asarray(codes)
    if array.ndim != 2 or array.shape[0] == 0 or not np.issubdtype(array.dtype, np.number):
        raise ValueError(f"{name} must be a 2-D array of numbers (N, D) with N >= 1, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must hold finite values")
    return array.astype(np.float64)


def _labels(name: str, labels, n: int) -> np.ndarray:
    array = labels.detach().cpu().numpy() if isinstance(labels, torch.Tensor) else np.asarray(labels)
    if array.shape != (n,):
        raise ValueError(f"{name} must hold one label per code, shape ({n},), got shape {array.shape}")
    return array


def linear_probe(train_codes, train_labels, test_codes, test_labels, *, max_iter: int = 2000) -> float:
    """The held-out accuracy (a fraction) of a logistic regression fitted on standardised training codes.

    train_codes: (N, D) codes of the training images, train_labels: (N,) their classes;
    test_codes: (M, D), test_labels: (M,), scored. The fit is deterministic (L-BFGS from
    zero weights, default L2 penalty C = 1), so the same codes give the same accuracy.
    """
    x_train, x_test = _features("train_codes", train_codes), _features("test_codes", test_codes)
    if x_test.shape[1] != x_train.shape[1]:
        raise ValueError(f"test_codes must have the width of train_codes ({x_train.shape[1]}), got {x_test.shape[1]}")
    y_train = _labels("train_labels", train_labels, len(x_train))
    y_test = _labels("test_labels", test_labels, len(x_test))
    if len(np.unique(y_train)) < 2:
        raise ValueError("train_labels must hold at least two classes")
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler
    except ImportError:
        raise ImportError("linear_probe needs scikit-learn: pip install scikit-learn") from None
    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=max_iter))
    probe.fit(x_train, y_train)
    return float(probe.score(x_test, y_test))


def pca_codes(y_train: torch.Tensor, y_test: torch.Tensor, latent_dim: int = LATENT_DIM):
    """The coordinates of training and held-out images on the training images' top principal directions.

    Returns (train codes (N, latent_dim), test codes (M, latent_dim)), both centred on the training mean.
    """
    mean = y_train.mean(dim=0)
    directions = torch.linalg.svd(y_train - mean, full_matrices=False).Vh[:latent_dim].T  # (784, latent_dim)
    return (y_train - mean) @ directions, (y_test - mean) @ directions


def autoencoders(y_train: torch.Tensor, *, seeds=(0,), n_jobs: int | None = None, latent_dim: int = LATENT_DIM):
    """{(name, seed): model} for name "AE" and "DAE": autoencoders of the β sweep's shape and training.

    One hidden layer of 400 and a linear output, like the sweep's VAEs, trained as they are
    (20 epochs of Adam, batches of 100); the DAE on masked inputs (`CORRUPTION`). Each is built
    after `vaetut.reproducible(seed, threads=1)` and trained from ``seed``; ``n_jobs`` worker
    processes train them in parallel (`vaetut.parallel.fit_many`), with the same result as in turn.
    """
    models, jobs = {}, []
    for seed in seeds:
        for name, corruption in (("AE", None), ("DAE", CORRUPTION)):
            reproducible(seed, threads=1)
            model = Autoencoder(y_train.shape[1], latent_dim, (400,), "linear", dtype=y_train.dtype)
            models[(name, seed)] = model
            jobs.append((model, y_train, dict(seed=seed, corruption=corruption, progress=False, **TRAINING)))
    fit_many(jobs, n_jobs=n_jobs)
    return models


def probe_seeds(seeds=(0, 1, 2, 3, 4), *, n_jobs: int | None = None) -> pd.DataFrame:
    """The probe's held-out accuracy for each code and seed: columns code, beta, seed, accuracy.

    code: "PCA" (no seed: the same for every seed), "AE", "DAE" (`autoencoders`), "VAE" (the
    centres μ of `beta_sweep`'s model at ``beta``, with its defaults); beta is empty except for
    the VAE. All on the embedded MNIST, trained on its 4,000 training images, scored on its 1,000
    held-out ones.
    """
    from .data import load_mnist

    y_train, labels_train = load_mnist(split="train", dtype=torch.float64)
    y_test, labels_test = load_mnist(split="test", dtype=torch.float64)
    seeds = list(seeds)
    trained = autoencoders(y_train, seeds=seeds, n_jobs=n_jobs)
    _, vaes = beta_sweep(SLIDES_BETAS, seeds=seeds, n_jobs=n_jobs, return_models=True)
    rows = []
    for seed in seeds:
        codes = {("PCA", None): pca_codes(y_train, y_test)}
        with torch.no_grad():
            for name in ("AE", "DAE"):
                model = trained[(name, seed)]
                codes[(name, None)] = (model.encode(y_train), model.encode(y_test))
            for beta in SLIDES_BETAS:
                model = vaes[(beta, seed)]
                codes[("VAE", beta)] = (model.encode(y_train)[0], model.encode(y_test)[0])
        for (name, beta), (train, test) in codes.items():
            accuracy = linear_probe(train, labels_train, test, labels_test)
            rows.append({"code": name, "beta": beta, "seed": seed, "accuracy": accuracy})
    return pd.DataFrame(rows, columns=["code", "beta", "seed", "accuracy"])


def shipped_probe_seeds() -> pd.DataFrame:
    """The package's copy of `probe_seeds()` (seeds 0–4), read from its data."""
    with resources.files("vaetut").joinpath("_data", DATA).open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


if __name__ == "__main__":  # python -m vaetut.probe PATH: write the shipped data
    if len(sys.argv) != 2:
        sys.exit("usage: python -m vaetut.probe PATH (e.g. vaetut/_data/probe_seeds.csv)")
    probe_seeds().to_csv(sys.argv[1], index=False, float_format="%.17g")
