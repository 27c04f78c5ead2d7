"""model.sample (decoder means of prior draws) and fit(..., validation=...) (a held-out curve that changes nothing)."""

import numpy as np
import pytest
import torch

import vaetut
from vaetut import VAE, evaluate, fit, load_mnist


def test_samples_are_decoder_means_of_prior_draws():
    # A linear decoder ỹ = W z + b with z ~ N(0, I): the samples have mean b and covariance W Wᵀ exactly,
    # without the decoder's noise (which would add s² I): the oracle is the closed form, by Monte Carlo.
    torch.manual_seed(0)
    model = VAE(3, 2, hidden_dims=(), output="linear", cost="gaussian", dtype=torch.float64)
    w = torch.tensor([[1.0, 0.0], [0.5, 2.0], [0.0, -1.0]], dtype=torch.float64)
    b = torch.tensor([0.3, -1.0, 2.0], dtype=torch.float64)
    with torch.no_grad():
        model.decoder.out.weight.copy_(w)
        model.decoder.out.bias.copy_(b)
        model.decoder_log_s2.fill_(1.0)  # s² = e: large, and absent from the samples
    torch.manual_seed(5)
    expected_rng = torch.rand(2)
    torch.manual_seed(5)
    samples = model.sample(200_000, generator=torch.Generator().manual_seed(0))
    assert torch.equal(torch.rand(2), expected_rng)  # the global RNG is not used
    assert samples.shape == (200_000, 3) and not samples.requires_grad
    np.testing.assert_allclose(samples.mean(0).numpy(), b.numpy(), atol=0.01)
    np.testing.assert_allclose(np.cov(samples.numpy(), rowvar=False), (w @ w.T).numpy(), atol=0.03)
    first, again = (model.sample(5, generator=torch.Generator().manual_seed(1)) for _ in range(2))
    assert torch.equal(first, again)  # the same generator, the same draws


def test_sample_refuses_bad_arguments():
    model = VAE(4, 2, (3,))
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="n must be a positive integer"):
            model.sample(bad)
    with pytest.raises(TypeError, match="generator"):
        model.sample(2, generator=0)


@pytest.fixture(scope="module")
def digits():
    return load_mnist(dtype=torch.float64)[0][:300], load_mnist(split="test", dtype=torch.float64)[0][:100]


@pytest.mark.parametrize("corruption", [None, ("mask", 0.3)])
def test_validation_adds_held_out_rows_and_changes_nothing_else(digits, corruption):
    y, y_val = digits
    runs = {}
    for validation in (None, y_val):
        vaetut.reproducible(0)
        model = VAE(latent_dim=3, hidden_dims=(16,), dtype=torch.float64)
        history = fit(model, y, epochs=3, seed=2, corruption=corruption, validation=validation, progress=False)
        runs[validation is None] = (history, model)
    (plain, plain_model), (held, held_model) = runs[True], runs[False]
    for row, plain_row in zip(held.rows, plain.rows):
        assert {k: v for k, v in row.items() if not k.startswith("val_")} == plain_row  # training unchanged
    assert all(torch.equal(a, b) for a, b in zip(plain_model.state_dict().values(), held_model.state_dict().values()))
    frame = held.to_frame()
    assert list(frame.columns) == ["loss", "C", "U", "S", "V", "val_loss", "val_C", "val_U", "val_S", "val_V"]
    # The last epoch's held-out averages are `evaluate` of the final model with the same seed.
    final = evaluate(held_model, y_val, seed=2, corruption=corruption)
    assert {k: frame[f"val_{k}"].iloc[-1] for k in final} == pytest.approx(final, rel=1e-12)
    assert frame["val_loss"].nunique() == 3  # one value per epoch, as the weights move


def test_validation_is_checked_before_training(digits):
    model = VAE(latent_dim=2, hidden_dims=(4,))
    with pytest.raises(ValueError, match=r"validation must have shape \(N, 784\)"):
        fit(model, digits[0], validation=torch.zeros(3, 5), progress=False)
    history = fit(VAE(latent_dim=2, hidden_dims=(4,)), digits[0], beta=0, validation=digits[1], progress=False)
    assert history.collapsed and "val_C" in history.rows[0]
