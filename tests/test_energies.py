"""The energies against independent computations: torch.distributions and Monte Carlo."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

from vaetut import energies as E
from vaetut.energies import total_loss, vae_loss


def bubbles(n=64, d=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(n, d, generator=g, dtype=torch.float64) * 1.5
    logvar = torch.randn(n, d, generator=g, dtype=torch.float64)
    return mu, logvar


@pytest.mark.parametrize("d", [1, 2, 20])
def test_kl_matches_torch_distributions(d):
    mu, logvar = bubbles(d=d)
    oracle = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=1)
    torch.testing.assert_close(E.kl_divergence(mu, logvar), oracle)


def test_u_is_the_kl_of_a_unit_bubble_and_s_of_a_centred_one():
    mu, logvar = bubbles()
    unit = torch.zeros_like(logvar)
    torch.testing.assert_close(E.potential_energy(mu), kl_divergence(Normal(mu, 1.0), Normal(0.0, 1.0)).sum(1))
    std = (0.5 * logvar).exp()
    torch.testing.assert_close(E.entropy_penalty(logvar), kl_divergence(Normal(0.0, std), Normal(0.0, 1.0)).sum(1))
    assert torch.equal(E.entropy_penalty(unit), torch.zeros(len(mu), dtype=unit.dtype))


def test_kl_matches_monte_carlo():
    mu, logvar = bubbles(n=4, d=3, seed=1)
    q, p = Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)
    zeta = q.sample((200_000,))  # (K, N, D)
    log_ratio = (q.log_prob(zeta) - p.log_prob(zeta)).sum(-1)  # (K, N)
    estimate, stderr = log_ratio.mean(0), log_ratio.std(0) / math.sqrt(len(log_ratio))
    assert torch.all((estimate - E.kl_divergence(mu, logvar)).abs() < 4 * stderr)


def test_log_volume_is_twice_the_entropy_excess_of_the_bubble():
    mu, logvar = bubbles(d=4)
    d = logvar.shape[1]
    entropy = MultivariateNormal(mu, torch.diag_embed(logvar.exp())).entropy()
    oracle = 2 * (entropy - 0.5 * d * (1 + math.log(2 * math.pi)))  # log det Σ
    torch.testing.assert_close(E.log_volume(logvar), oracle)


def test_kl_is_minus_half_v_when_bubbles_fill_the_prior():
    # one bubble per dimension with μ² + σ² = 1: U + S = -V/2 exactly
    sigma2 = torch.tensor([[0.2, 0.5, 0.9, 1.0]], dtype=torch.float64)
    mu = (1 - sigma2).sqrt()
    torch.testing.assert_close(E.kl_divergence(mu, sigma2.log()), -0.5 * E.log_volume(sigma2.log()))


def test_prior_energy_is_the_negative_log_density_up_to_its_constant():
    z, _ = bubbles(d=3)
    oracle = -Normal(0.0, 1.0).log_prob(z).sum(1) - 1.5 * math.log(2 * math.pi)
    torch.testing.assert_close(E.prior_energy(z), oracle)


def test_reconstruction_costs_are_negative_log_likelihoods():
    g = torch.Generator().manual_seed(2)
    y = torch.rand(8, 784, generator=g, dtype=torch.float64)
    y_tilde = torch.rand(8, 784, generator=g, dtype=torch.float64).clamp(0.01, 0.99)
    gauss = -Normal(y_tilde, 1.0).log_prob(y).sum(1) - 392 * math.log(2 * math.pi)
    torch.testing.assert_close(E.reconstruction_cost(y, y_tilde), gauss)
    bernoulli = -Bernoulli(probs=y_tilde, validate_args=False).log_prob(y).sum(1)
    torch.testing.assert_close(E.reconstruction_cost(y, y_tilde, kind="bce"), bernoulli)


def test_vae_loss_is_the_batch_mean_of_c_plus_kl_over_beta():
    mu, logvar = bubbles(n=6, d=2)
    y = torch.rand(6, 10, dtype=torch.float64)
    y_tilde = torch.rand(6, 10, dtype=torch.float64)
    c = 0.5 * ((y - y_tilde) ** 2).sum(1)
    kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)
    for beta in (0.5, 1.0, 3.0):
        torch.testing.assert_close(E.vae_loss(y, y_tilde, mu, logvar, beta), (c + kl / beta).mean())


def test_beta_zero_is_the_collapse_limit():
    y, y_tilde = torch.rand(3, 4), torch.rand(3, 4)
    prior = torch.zeros(3, 2)
    assert E.vae_loss(y, y_tilde, prior, prior, 0) == E.reconstruction_cost(y, y_tilde).mean()
    assert E.vae_loss(y, y_tilde, prior + 0.1, prior, 0) == math.inf


@pytest.mark.parametrize("beta", [-0.5, float("nan"), float("inf")])
def test_bad_beta_is_refused(beta):
    with pytest.raises(ValueError, match="beta"):
        E.vae_loss(torch.rand(2, 3), torch.rand(2, 3), torch.zeros(2, 1), torch.zeros(2, 1), beta)


def test_shapes_are_checked_and_named():
    with pytest.raises(ValueError, match=r"\(N, D\)"):
        E.potential_energy(torch.zeros(5))
    with pytest.raises(ValueError, match="same shape"):
        E.reconstruction_cost(torch.zeros(2, 3), torch.zeros(2, 4))
    with pytest.raises(ValueError, match="same shape"):
        E.kl_divergence(torch.zeros(2, 3), torch.zeros(2, 2))
    with pytest.raises(ValueError, match="unknown reconstruction cost"):
        E.reconstruction_cost(torch.zeros(2, 3), torch.zeros(2, 3), kind="l1")


def test_a_batch_of_one_bubble_is_not_broadcast_over_many_images():
    y, y_tilde = torch.rand(5, 3), torch.rand(5, 3)
    with pytest.raises(ValueError, match="same number of samples"):
        vae_loss(y, y_tilde, torch.zeros(1, 2), torch.zeros(1, 2))


@pytest.mark.parametrize("beta", [True, "1.5", torch.tensor(1.0)])
def test_beta_must_be_a_real_number_not_a_bool_or_a_string(beta):
    with pytest.raises(TypeError, match="beta"):
        vae_loss(torch.rand(2, 3), torch.rand(2, 3), torch.zeros(2, 2), torch.zeros(2, 2), beta)


def test_total_loss_combines_the_terms_a_model_states():
    c, u, s = torch.tensor([1.0, 2.0]), torch.tensor([0.5, 0.0]), torch.tensor([0.25, 0.0])
    torch.testing.assert_close(total_loss({"C": c, "U": u, "S": s, "V": -c}, 2.0), c + (u + s) / 2)
    torch.testing.assert_close(total_loss({"C": c}, 0.0), c)  # no KL term: β does not matter
    assert total_loss({"C": c, "U": u, "S": s}, 0.0).tolist() == [math.inf, 2.0]  # β → 0⁺
