"""Langevin sampling against densities with a known score, and a denoiser's score against Tweedie's formula."""

import math

import pytest
import torch
from torch.distributions import MultivariateNormal, Normal

from vaetut.sampling import denoiser_score, langevin


def autograd_score(distribution):
    """∇log p by autograd from a torch.distributions object: an oracle independent of any closed form."""

    def score(x):
        with torch.enable_grad():
            x = x.detach().requires_grad_(True)
            (grad,) = torch.autograd.grad(distribution.log_prob(x).sum(), x)
        return grad

    return score


def test_langevin_samples_a_gaussian_with_the_discrete_chain_stationary_covariance():
    """For N(m, Σ) the unadjusted chain is Gaussian with mean m and, along each eigendirection of variance v,
    variance v / (1 − η/4v) (solve V = (1 − η/2v)² V + η); compare within Monte Carlo error."""
    mean = torch.tensor([1.0, -2.0], dtype=torch.float64)
    covariance = torch.tensor([[2.0, 0.6], [0.6, 0.5]], dtype=torch.float64)
    target = MultivariateNormal(mean, covariance)
    eta, n = 0.1, 20_000
    start = torch.full((n, 2), 6.0, dtype=torch.float64)  # far from the mean: the chain has to get there
    x = langevin(autograd_score(target), start, step_size=eta, steps=400, generator=torch.Generator().manual_seed(0))
    variances, vectors = torch.linalg.eigh(covariance)
    stationary = vectors @ torch.diag(variances / (1 - eta / (4 * variances))) @ vectors.T  # (2, 2)
    standard_error = (stationary.diagonal() / n).sqrt()  # of each coordinate's mean
    assert ((x.mean(dim=0) - mean).abs() < 4 * standard_error).all()
    sample_covariance = torch.cov(x.T)
    # Var of a sample (co)variance of Gaussians: (Σ_ij² + Σ_ii Σ_jj) / n.
    se_cov = ((stationary**2 + stationary.diagonal()[:, None] * stationary.diagonal()[None, :]) / n).sqrt()
    assert ((sample_covariance - stationary).abs() < 4 * se_cov).all()
    # And the test can tell: the exact covariance Σ itself is outside those bounds for the larger direction.
    assert ((sample_covariance - covariance).abs() > 4 * se_cov).any()


def test_small_steps_approach_the_density_itself():
    target = Normal(torch.tensor(0.5, dtype=torch.float64), torch.tensor(0.2, dtype=torch.float64))
    start = torch.zeros(40_000, 1, dtype=torch.float64)
    x = langevin(autograd_score(target), start, step_size=1e-3, steps=600, generator=torch.Generator().manual_seed(1))
    assert abs(x.mean().item() - 0.5) < 4 * 0.2 / math.sqrt(len(x))
    assert abs(x.std().item() - 0.2) < 4 * 0.2 / math.sqrt(2 * len(x)) + 0.2 * (1 / math.sqrt(1 - 1e-3 / 0.16) - 1)


def test_langevin_is_reproducible_and_leaves_its_input_alone():
    score = autograd_score(Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(1.0, dtype=torch.float64)))
    x0 = torch.ones(5, 3, dtype=torch.float64)
    a = langevin(score, x0, step_size=0.1, steps=7, generator=torch.Generator().manual_seed(3))
    b = langevin(score, x0, step_size=0.1, steps=7, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)
    assert torch.equal(x0, torch.ones(5, 3, dtype=torch.float64))
    assert not torch.equal(a, x0)


@pytest.mark.parametrize("level", [0.1, 0.5, 2.0])
def test_the_best_denoiser_gives_the_score_of_the_noisy_density(level):
    """Data N(0, λI): the posterior mean is r(x) = λx/(λ + ℓ²), and (r(x) − x)/ℓ² is the score of N(0, (λ + ℓ²)I)."""
    lam = 0.7
    x = torch.randn(50, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    score = denoiser_score(lambda x: lam * x / (lam + level**2), level)
    noisy = Normal(torch.tensor(0.0, dtype=torch.float64), torch.tensor(math.sqrt(lam + level**2), dtype=torch.float64))
    torch.testing.assert_close(score(x), autograd_score(noisy)(x))


def test_bad_arguments_fail_in_one_line_naming_them():
    score = lambda x: -x
    x = torch.zeros(4, 2, dtype=torch.float64)
    with pytest.raises(ValueError, match="step_size"):
        langevin(score, x, step_size=0.0, steps=3)
    with pytest.raises(ValueError, match="steps"):
        langevin(score, x, step_size=0.1, steps=0)
    with pytest.raises(TypeError, match="score"):
        langevin("not a function", x, step_size=0.1, steps=3)
    with pytest.raises(ValueError, match="x must be"):
        langevin(score, torch.zeros(4), step_size=0.1, steps=3)
    with pytest.raises(ValueError, match="score must return"):
        langevin(lambda x: x[:, :1], x, step_size=0.1, steps=3)
    with pytest.raises(TypeError, match="generator"):
        langevin(score, x, step_size=0.1, steps=3, generator=0)
    with pytest.raises(ValueError, match="level"):
        denoiser_score(lambda x: x, level=-1.0)
    with pytest.raises(TypeError, match="denoiser"):
        denoiser_score(3, level=0.1)


def test_sample_panels_draws_one_labelled_panel_per_set():
    from vaetut.plots import sample_panels

    data = torch.rand(30, 2, dtype=torch.float64)
    figure = sample_panels(data, {"start": torch.rand(10, 2), "end": torch.rand(10, 2)}, title="t")
    assert [ax.get_title() for ax in figure.axes] == ["start", "end"]
    assert figure.axes[0].get_ylabel() and all(ax.get_xlabel() for ax in figure.axes)
    assert [len(ax.collections) for ax in figure.axes] == [2, 2]  # the data and the samples in each panel
    with pytest.raises(ValueError, match="samples"):
        sample_panels(data, {})
    with pytest.raises(ValueError, match="start"):
        sample_panels(data, {"start": torch.rand(10, 3)})
