"""A decoder that learns its own variance (cost="gaussian"): the closed form of probabilistic PCA, and log p(y)."""

import math

import numpy as np
import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

import vaetut
from vaetut import VAE, fit, log_likelihood
from vaetut.energies import gaussian_cost

VARIANCES = (4.0, 2.0, 1.0, 0.5, 0.25)
LATENT = 2


def test_gaussian_cost_is_the_full_gaussian_negative_log_likelihood():
    g = torch.Generator().manual_seed(0)
    y, y_tilde = (
        torch.randn(5, 4, generator=g, dtype=torch.float64),
        torch.randn(5, 4, generator=g, dtype=torch.float64),
    )
    log_s2 = torch.tensor(math.log(0.7), dtype=torch.float64)
    expected = -Normal(y_tilde, math.sqrt(0.7)).log_prob(y).sum(1)
    torch.testing.assert_close(gaussian_cost(y, y_tilde, log_s2), expected)


def test_a_linear_vae_learns_the_mean_of_the_discarded_eigenvalues():
    # Tipping & Bishop (1999), Lucas et al. (2019): at the optimum of the ELBO (β = 1) of a linear VAE
    # with latent_dim k < n, s² is the mean of the n − k smallest eigenvalues of the sample covariance.
    y = vaetut.synthetic_gaussian(4000, VARIANCES, seed=0, dtype=torch.float64)  # (4000, 5)
    covariance = np.cov(y.numpy(), rowvar=False, bias=True)  # the decoder's bias takes the sample mean
    eigenvalues = np.linalg.eigvalsh(covariance)  # ascending
    closed_form = eigenvalues[: len(VARIANCES) - LATENT].mean()
    vaetut.reproducible(0)
    model = VAE(len(VARIANCES), LATENT, hidden_dims=(), output="linear", cost="gaussian", dtype=torch.float64)
    history = fit(model, y, epochs=1500, batch_size=4000, lr=2e-2, beta=1.0, progress=False)
    # Tolerance 1 %: the one-sample ζ of each full-batch step leaves a wobble, measured at 0.06 %, 0.09 % and
    # 0.24 % for seeds 0, 1 and 2 (closed form 0.5844).
    assert model.decoder_variance == pytest.approx(closed_form, rel=0.01)
    assert history.warnings == []
    # and the −ELBO reached is the exact negative log-likelihood of probabilistic PCA, within the same wobble
    n, k = len(VARIANCES), LATENT
    ppca = 0.5 * (np.log(eigenvalues[-k:]).sum() + (n - k) * np.log(closed_form) + n * (1 + np.log(2 * np.pi)))
    assert history.loss[-1] == pytest.approx(ppca, rel=0.01)


def test_log_likelihood_of_a_gaussian_decoder_with_the_exact_posterior_is_the_marginal():
    # y = W z + b + N(0, s² I) with orthogonal columns in W: the exact posterior is diagonal, so every
    # importance weight equals p(y) and the estimate is exact for any K (oracle: MultivariateNormal).
    s2, n = 0.4, 5
    g = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(n, LATENT, generator=g, dtype=torch.float64))
    w, b = q * torch.tensor([2.0, 0.7], dtype=torch.float64), torch.randn(n, generator=g, dtype=torch.float64)
    model = VAE(n, LATENT, hidden_dims=(), output="linear", cost="gaussian", dtype=torch.float64)
    sigma = torch.linalg.inv(torch.eye(LATENT, dtype=torch.float64) + w.T @ w / s2)  # (2, 2), diagonal
    to_mu = sigma @ w.T / s2
    with torch.no_grad():
        model.decoder.out.weight.copy_(w)
        model.decoder.out.bias.copy_(b)
        model.to_mu.weight.copy_(to_mu)
        model.to_mu.bias.copy_(-to_mu @ b)
        model.to_logvar.weight.zero_()
        model.to_logvar.bias.copy_(torch.diagonal(sigma).log())
        model.decoder_log_s2.fill_(math.log(s2))
    marginal = MultivariateNormal(b, w @ w.T + s2 * torch.eye(n, dtype=torch.float64))
    y = marginal.sample((6,))
    torch.testing.assert_close(log_likelihood(model, y, samples=3), marginal.log_prob(y), rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="beta"):
        log_likelihood(model, y, beta=2.0)  # the learned s² is the precision: β has no part


def test_decoder_variance_starts_at_one_and_is_one_parameter():
    mse = VAE(6, 2, (4,), output="linear")
    gaussian = VAE(6, 2, (4,), output="linear", cost="gaussian")
    assert gaussian.decoder_variance == 1.0
    assert sum(p.numel() for p in gaussian.parameters()) == sum(p.numel() for p in mse.parameters()) + 1
