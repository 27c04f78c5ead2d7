"""The linear probe: the Bayes accuracy on Gaussian classes, blind to each dimension's scale, named errors.

Oracle: two classes N(±m e₁, I) in a few dimensions have a linear Bayes classifier, the sign
of the first coordinate, whose accuracy is Φ(m); a fitted probe must reach it within the
sampling error of its test set.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from vaetut.probe import linear_probe


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
