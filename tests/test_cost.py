"""A model knows how it is scored: its cost, the defaults, the refusals, and who uses it."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import Bernoulli, Normal

import vaetut
from vaetut import VAE, Autoencoder, ConvVAE, evaluate, fit, log_likelihood


@pytest.mark.parametrize("cls", [Autoencoder, VAE])
def test_the_default_cost_matches_the_output(cls):
    assert cls(input_dim=6, latent_dim=2, hidden_dims=(4,)).cost == "bce"  # sigmoid by default
    assert cls(input_dim=6, latent_dim=2, hidden_dims=(4,), output="linear").cost == "mse"
    assert cls(input_dim=6, latent_dim=2, hidden_dims=(4,), cost="mse").cost == "mse"  # told otherwise
    assert ConvVAE(4, image_shape=(6, 6), channels=(2,)).cost == "bce"


@pytest.mark.parametrize("cls", [Autoencoder, VAE])
def test_bce_on_a_linear_output_is_refused_pointing_to_the_sigmoid(cls):
    with pytest.raises(ValueError, match='output="sigmoid"'):
        cls(input_dim=6, latent_dim=2, output="linear", cost="bce")
    linear = cls(input_dim=6, latent_dim=2, hidden_dims=(4,), output="linear")
    with pytest.raises(ValueError, match='output="sigmoid"'):
        fit(linear, torch.rand(8, 6), epochs=1, cost="bce", progress=False)
    with pytest.raises(ValueError, match='output="sigmoid"'):
        evaluate(linear, torch.rand(8, 6), cost="bce")


def test_unknown_costs_are_refused_and_gaussian_only_where_the_variance_is_learned():
    with pytest.raises(ValueError, match="unknown reconstruction cost"):
        VAE(input_dim=6, latent_dim=2, cost="l1")
    with pytest.raises(ValueError, match="unknown reconstruction cost"):
        Autoencoder(input_dim=6, latent_dim=2, cost="gaussian")  # an autoencoder has no decoder density
    mse = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), output="linear")
    with pytest.raises(ValueError, match='build the model with cost="gaussian"'):
        evaluate(mse, torch.rand(8, 6), cost="gaussian")
    with pytest.raises(ValueError, match="decoder_variance"):
        mse.decoder_variance  # noqa: B018


@pytest.mark.parametrize("output", ["sigmoid", "linear"])
def test_data_outside_0_1_are_refused_for_bce_or_a_sigmoid_output(output):
    model = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), output=output, cost="mse")
    y = torch.rand(8, 6) * 3 - 1  # in [-1, 2]
    if output == "linear":  # mse on a linear output takes any real data
        fit(model, y, epochs=1, progress=False)
        evaluate(model, y)
        return
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\] for a sigmoid output"):
        fit(model, y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\]"):
        evaluate(model, y)
    with pytest.raises(ValueError, match=r"validation must lie in \[0, 1\]"):
        fit(model, torch.rand(8, 6), validation=y, epochs=1, progress=False)
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\]"):
        log_likelihood(model, y.double().float(), samples=2)


def test_evaluate_and_log_likelihood_use_the_models_cost():
    # The trap: a model trained with bce was scored with mse. Now its own cost scores it.
    torch.manual_seed(0)
    y = (torch.rand(40, 6, generator=torch.Generator().manual_seed(1)) > 0.5).double()
    model = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), dtype=torch.float64)  # bce by default
    fit(model, y, epochs=3, progress=False)
    assert evaluate(model, y) == evaluate(model, y, cost="bce") != evaluate(model, y, cost="mse")
    torch.testing.assert_close(log_likelihood(model, y, samples=5), log_likelihood(model, y, samples=5, cost="bce"))


def test_the_collapsed_models_bce_is_the_bernoulli_entropy_of_the_mean():
    # Oracle: with ỹ = ȳ for every input, ⟨C⟩ = −⟨Σ_i y_i log ȳ_i + (1 − y_i) log(1 − ȳ_i)⟩ (numpy).
    y = torch.rand(50, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * 0.8 + 0.1
    model = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), dtype=torch.float64)
    history = fit(model, y, beta=0, progress=False)
    a, m = y.numpy(), y.numpy().mean(0)
    expected = -(a * np.log(m) + (1 - a) * np.log(1 - m)).sum(1).mean()
    assert history.rows[0]["C"] == pytest.approx(expected, rel=1e-9)
    assert evaluate(model, y, beta=0)["C"] == pytest.approx(expected, rel=1e-9)


def test_the_models_terms_match_torch_distributions():
    # C of each cost against torch.distributions, ζ redrawn from the same generator.
    y = torch.rand(7, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    for cost, output in (("bce", "sigmoid"), ("mse", "linear"), ("gaussian", "linear")):
        torch.manual_seed(0)
        model = VAE(input_dim=6, latent_dim=3, hidden_dims=(5,), output=output, cost=cost, dtype=torch.float64)
        if cost == "gaussian":
            with torch.no_grad():
                model.decoder_log_s2.fill_(math.log(0.3))
        terms = model.terms(y, y, generator=torch.Generator().manual_seed(4))
        mu, logvar = model.encode(y)
        y_tilde = model.decode(model.reparameterize(mu, logvar, torch.Generator().manual_seed(4)))
        if cost == "bce":
            expected = -Bernoulli(probs=y_tilde, validate_args=False).log_prob(y).sum(1)
        elif cost == "mse":  # −log N(y; ỹ, I) without its constant
            expected = -Normal(y_tilde, 1.0).log_prob(y).sum(1) - 3 * math.log(2 * math.pi)
        else:
            expected = -Normal(y_tilde, math.sqrt(0.3)).log_prob(y).sum(1)
            assert model.decoder_variance == pytest.approx(0.3)
        torch.testing.assert_close(terms["C"], expected)


def test_beta_sweep_refuses_your_train_without_your_test():
    from vaetut.experiments import beta_sweep

    with pytest.raises(ValueError, match="test must be given with train"):
        beta_sweep([1.0], train=torch.rand(20, 64, dtype=torch.float64))


def test_beta_sweep_builds_its_models_with_its_cost():
    from vaetut.experiments import beta_sweep

    y = torch.rand(30, 6, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    common = dict(train=y, test=y, latent_dim=2, hidden_dims=(4,), epochs=1, n_jobs=1, return_models=True)
    _, models = beta_sweep([1.0], output="sigmoid", **common)
    assert models[1.0].cost == "bce"  # None: the cost matching the output
    with pytest.raises(ValueError, match='output="sigmoid"'):
        beta_sweep([1.0], cost="bce", **common)  # the default output is linear


def test_corrupt_refuses_data_outside_0_1_where_it_would_clip():
    y = torch.tensor([[-0.5, 0.2, 1.5]])
    for kind in ("gaussian", "salt_pepper"):
        with pytest.raises(ValueError, match=r"y must lie in \[0, 1\]"):
            vaetut.corrupt(y, kind, 0.1)
    masked = vaetut.corrupt(y, "mask", 1.0)  # masking sets entries to 0, on any scale
    assert torch.equal(masked, torch.zeros_like(y))
    model = Autoencoder(input_dim=3, latent_dim=2, hidden_dims=(), output="linear")
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\] for 'gaussian' corruption"):
        fit(model, y, corruption=("gaussian", 0.1), epochs=1, progress=False)
