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
"""

from __future__ import annotations

import numpy as np
import torch

__all__ = ["linear_probe"]


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
