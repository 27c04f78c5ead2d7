"""The linear probe: the Bayes accuracy on Gaussian classes, blind to each dimension's scale, named errors;
the shipped probe table over seeds (`python -m vaetut.probe PATH`) recomputed in part.

Oracle: two classes N(±m e₁, I) in a few dimensions have a linear Bayes classifier, the sign
of the first coordinate, whose accuracy is Φ(m); a fitted probe must reach it within the
sampling error of its test set.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaetut import load_mnist
from vaetut.experiments import SLIDES_BETAS, beta_sweep
from vaetut.probe import autoencoders, linear_probe, pca_codes, shipped_probe_seeds


def _gaussian_classes(n: int, m: float, dims: int, seed: int):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    codes = rng.standard_normal((n, dims))
    codes[:, 0] += np.where(labels == 1, m, -m)
    return codes, labels


def test_probe_reaches_the_bayes_accuracy_of_gaussian_classes():
    m = 1.0
    train = _gaussian_classes(4000, m, 5, seed=0)
    test = _gaussian_classes(20000, m, 5, seed=1)
    bayes = 0.5 * (1 + math.erf(m / math.sqrt(2)))  # Φ(m) = 0.841
    accuracy = linear_probe(*train, *test)
    assert accuracy == pytest.approx(bayes, abs=4 * math.sqrt(bayes * (1 - bayes) / 20000) + 0.005)
    # the Bayes rule itself on the same test set, an independent number the probe cannot beat by much
    assert accuracy <= np.mean((test[0][:, 0] > 0) == (test[1] == 1)) + 0.005


def test_labels_unrelated_to_the_codes_give_chance():
    rng = np.random.default_rng(0)
    codes, test_codes = rng.standard_normal((3000, 4)), rng.standard_normal((3000, 4))
    accuracy = linear_probe(codes, rng.integers(0, 10, 3000), test_codes, rng.integers(0, 10, 3000))
    assert accuracy == pytest.approx(0.1, abs=0.03)


def test_each_dimension_is_standardised_so_its_scale_does_not_matter():
    train = _gaussian_classes(1000, 0.7, 3, seed=2)
    test = _gaussian_classes(1000, 0.7, 3, seed=3)
    scale = np.array([1e3, 1e-3, 7.0])
    plain = linear_probe(*train, *test)
    scaled = linear_probe(train[0] * scale, train[1], test[0] * scale, test[1])
    assert scaled == pytest.approx(plain, abs=0.002)
    assert linear_probe(torch.from_numpy(train[0]), torch.from_numpy(train[1]), *test) == plain  # tensors too


@pytest.mark.parametrize(
    "args, match",
    [
        ((np.zeros(5), np.zeros(5), np.zeros((2, 1)), np.zeros(2)), "train_codes"),
        ((np.zeros((5, 2)), np.zeros(4), np.zeros((2, 2)), np.zeros(2)), "train_labels"),
        ((np.zeros((5, 2)), np.arange(5), np.zeros((2, 3)), np.zeros(2)), "test_codes"),
        ((np.zeros((5, 2)), np.arange(5), np.zeros((2, 2)), np.zeros(3)), "test_labels"),
        ((np.full((5, 2), np.nan), np.arange(5), np.zeros((2, 2)), np.zeros(2)), "train_codes"),
        ((np.zeros((5, 2)), np.zeros(5), np.zeros((2, 2)), np.zeros(2)), "two classes"),
    ],
)
def test_bad_input_is_named(args, match):
    with pytest.raises(ValueError, match=match):
        linear_probe(*args)


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(split="train", dtype=torch.float64), load_mnist(split="test", dtype=torch.float64)


def _shipped(code, seed, beta=None):
    rows = shipped_probe_seeds()
    match = (rows["code"] == code) & (rows["seed"] == seed)
    match &= rows["beta"].isna() if beta is None else rows["beta"] == beta
    (accuracy,) = rows.loc[match, "accuracy"]
    return accuracy


def test_shipped_probe_table_has_every_code_and_seed():
    rows = shipped_probe_seeds()
    assert list(rows.columns) == ["code", "beta", "seed", "accuracy"]
    assert len(rows) == 5 * (3 + len(SLIDES_BETAS))
    assert rows["accuracy"].between(0, 1).all()
    vae = rows[rows["code"] == "VAE"]
    assert (vae.loc[vae["beta"] == 0, "accuracy"] < 0.2).all()  # total collapse: the codes carry nothing


def test_pca_row_recomputed_with_numpy(mnist):
    (y_train, labels_train), (y_test, labels_test) = mnist
    # oracle for the codes: numpy's eigenvectors of the covariance, not torch's SVD (signs do not matter)
    y, t = y_train.numpy(), y_test.numpy()
    mean = y.mean(axis=0)
    _, vectors = np.linalg.eigh(np.cov(y - mean, rowvar=False))
    top = vectors[:, ::-1][:, :20]
    accuracy = linear_probe((y - mean) @ top, labels_train, (t - mean) @ top, labels_test)
    assert accuracy == pytest.approx(_shipped("PCA", 0), abs=0.002)
    train, test = pca_codes(y_train, y_test)
    assert linear_probe(train, labels_train, test, labels_test) == _shipped("PCA", 3)


@pytest.mark.slow
def test_two_trained_rows_recomputed(mnist):
    (y_train, labels_train), (y_test, labels_test) = mnist
    dae = autoencoders(y_train, seeds=(2,), n_jobs=1)[("DAE", 2)]
    with torch.no_grad():
        codes = dae.encode(y_train), dae.encode(y_test)
    assert linear_probe(codes[0], labels_train, codes[1], labels_test) == _shipped("DAE", 2)
    _, vaes = beta_sweep([1.5], seed=4, n_jobs=1, return_models=True)
    with torch.no_grad():
        codes = vaes[1.5].encode(y_train)[0], vaes[1.5].encode(y_test)[0]
    assert linear_probe(codes[0], labels_train, codes[1], labels_test) == _shipped("VAE", 4, beta=1.5)
