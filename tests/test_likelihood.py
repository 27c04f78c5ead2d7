"""log_likelihood against independent oracles: the exact marginal of a linear-Gaussian VAE, and the ELBO."""

import math

import pytest
import torch
from torch.distributions import Bernoulli, MultivariateNormal, Normal, kl_divergence

import vaetut
from vaetut import log_likelihood

INPUT, LATENT, BETA = 5, 2, 2.0


def linear_vae(exact: bool = True) -> tuple[vaetut.VAE, torch.Tensor, torch.Tensor]:
    """A linear VAE, y = W z + b + noise of variance 1/β, with the exact posterior as encoder (or a worse one).

    W has orthogonal columns, so the exact posterior N(Σ β Wᵀ(y − b), Σ), Σ = (I + β WᵀW)⁻¹, is diagonal.
    """
    generator = torch.Generator().manual_seed(0)
    q, _ = torch.linalg.qr(torch.randn(INPUT, LATENT, generator=generator, dtype=torch.float64))
    w = q * torch.tensor([2.0, 0.7], dtype=torch.float64)  # (5, 2), orthogonal columns
    b = torch.randn(INPUT, generator=generator, dtype=torch.float64)
    model = vaetut.VAE(INPUT, LATENT, hidden_dims=(), output="linear").double()
    sigma = torch.linalg.inv(torch.eye(LATENT, dtype=torch.float64) + BETA * w.T @ w)  # (2, 2), diagonal
    to_mu = sigma @ (BETA * w.T)  # (2, 5)
    with torch.no_grad():
        model.decoder.out.weight.copy_(w)
        model.decoder.out.bias.copy_(b)
        model.to_mu.weight.copy_(to_mu)
        model.to_mu.bias.copy_(-to_mu @ b)
        model.to_logvar.weight.zero_()
        model.to_logvar.bias.copy_(torch.diagonal(sigma).log())
        if not exact:  # a worse encoder: centres shifted, bubbles too wide
            model.to_mu.bias.add_(0.5)
            model.to_logvar.bias.add_(1.0)
    marginal = MultivariateNormal(b, w @ w.T + torch.eye(INPUT, dtype=torch.float64) / BETA)
    return model, marginal, w


def gaussian_elbo(model: vaetut.VAE, y: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    """The linear model's ELBO in closed form: E_q[log N(y; Wζ + b, I/β)] − KL[q ‖ N(0, I)], shape (N,)."""
    with torch.no_grad():
        mu, logvar = model.encode(y)
        residual = y - model.decode(mu)  # (N, 5)
        expected_sq = residual.pow(2).sum(dim=1) + (w.pow(2) * logvar.exp()[:, None, :]).sum(dim=(1, 2))
        log_p = -0.5 * BETA * expected_sq - 0.5 * INPUT * math.log(2 * math.pi / BETA)
        q = Normal(mu, (0.5 * logvar).exp())
        return log_p - kl_divergence(q, Normal(0.0, 1.0)).sum(dim=1)


def images(marginal: MultivariateNormal, n: int) -> torch.Tensor:
    torch.manual_seed(1)
    return marginal.sample((n,))  # (n, 5)


@pytest.mark.parametrize("samples", [1, 7, 1000])
def test_exact_posterior_gives_log_p_for_any_k(samples):
    model, marginal, _ = linear_vae(exact=True)
    y = images(marginal, 150)  # more than one batch of images
    estimate = log_likelihood(model, y, samples=samples, beta=BETA)
    assert estimate.shape == (150,) and estimate.dtype == torch.float64
    torch.testing.assert_close(estimate, marginal.log_prob(y), rtol=0, atol=1e-9)


def test_worse_encoder_k1_averages_to_the_elbo_and_rises_towards_log_p():
    model, marginal, w = linear_vae(exact=False)
    y = images(marginal, 3)
    copies = y.repeat_interleave(4000, dim=0)  # (12000, 5): each copy gets its own draws
    means, errors = {}, {}
    for k in (1, 10, 100):
        estimate = log_likelihood(model, copies, samples=k, beta=BETA, seed=k).reshape(3, 4000)
        means[k], errors[k] = estimate.mean(dim=1), estimate.std(dim=1) / math.sqrt(4000)
    log_p, elbo = marginal.log_prob(y), gaussian_elbo(model, y, w)
    assert (log_p - elbo > 0.5).all()  # the worse encoder leaves a real gap
    assert ((means[1] - elbo).abs() < 5 * errors[1]).all()  # K = 1: the ELBO, in expectation
    assert ((means[10] > means[1]) & (means[100] > means[10])).all()  # rises with K
    assert (means[100] < log_p + 5 * errors[100]).all()  # ... and stays below log p(y)
    gap_1000 = log_p - log_likelihood(model, y, samples=1000, beta=BETA)
    assert (gap_1000.abs() < 0.2 * (log_p - elbo)).all()  # most of the gap is closed at K = 1000


@pytest.mark.parametrize("cost", ["mse", "bce"])
def test_k1_averages_to_the_elbo_of_a_nonlinear_vae(cost):
    """A small MLP VAE: ELBO = E_q[log p(y|ζ)] (torch.distributions, many draws) − KL (closed form)."""
    torch.manual_seed(0)
    output = "sigmoid" if cost == "bce" else "linear"
    model = vaetut.VAE(6, 3, hidden_dims=(8,), output=output).double()
    y = torch.bernoulli(torch.full((2, 6), 0.4, dtype=torch.float64))  # binary pixels: a Bernoulli density
    beta = 1.0 if cost == "bce" else 0.5
    with torch.no_grad():
        mu, logvar = model.encode(y)
        zeta = mu + (0.5 * logvar).exp() * torch.randn(200_000, 2, 3, dtype=torch.float64)  # (200000, 2, 3)
        y_tilde = model.decode(zeta.reshape(-1, 3)).reshape(200_000, 2, 6)  # (200000, 2, 6)
        if cost == "bce":
            log_p = Bernoulli(probs=y_tilde).log_prob(y).sum(dim=-1)
        else:
            log_p = Normal(y_tilde, beta**-0.5).log_prob(y).sum(dim=-1)
        kl = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(dim=-1)
    elbo = log_p.mean(dim=0) - kl  # (2,)
    estimate = log_likelihood(model, y.repeat_interleave(20_000, dim=0), samples=1, beta=beta, cost=cost)
    estimate = estimate.reshape(2, 20_000)
    error = estimate.std(dim=1) / math.sqrt(20_000) + log_p.std(dim=0) / math.sqrt(200_000)
    assert ((estimate.mean(dim=1) - elbo).abs() < 5 * error).all()
    assert (log_likelihood(model, y, samples=500, beta=beta, cost=cost) > elbo).all()


def test_seeded_local_generator_and_mode_restored():
    model, marginal, _ = linear_vae(exact=False)
    y = images(marginal, 4)
    model.train()
    state = torch.random.get_rng_state()
    first = log_likelihood(model, y, samples=20, beta=BETA, seed=3)
    assert torch.equal(torch.random.get_rng_state(), state)  # the global RNG is untouched
    assert model.training  # handed back in training mode
    assert torch.equal(first, log_likelihood(model, y, samples=20, beta=BETA, seed=3))
    assert not torch.equal(first, log_likelihood(model, y, samples=20, beta=BETA, seed=4))


def test_images_are_cast_to_the_model_dtype():
    model, marginal, _ = linear_vae(exact=True)
    y = images(marginal, 3)
    estimate = log_likelihood(model, y.float(), samples=2, beta=BETA)
    assert estimate.dtype == torch.float64
    torch.testing.assert_close(estimate, marginal.log_prob(y.float().double()), rtol=0, atol=1e-9)


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"samples": 0}, ValueError, "samples"),
        ({"samples": 2.5}, ValueError, "samples"),
        ({"samples": True}, ValueError, "samples"),
        ({"beta": 0.0}, ValueError, "beta"),
        ({"beta": -1.0}, ValueError, "beta"),
        ({"beta": float("nan")}, ValueError, "beta"),
        ({"beta": "big"}, TypeError, "beta"),
        ({"cost": "l1"}, ValueError, "cost"),
        ({"cost": "bce"}, ValueError, 'output="sigmoid"'),  # the model's output is linear
        ({"seed": 1.5}, TypeError, "seed"),
    ],
)
def test_bad_arguments_are_named(kwargs, error, match):
    model, marginal, _ = linear_vae()
    with pytest.raises(error, match=match):
        log_likelihood(model, images(marginal, 2), **kwargs)


def test_bad_model_and_images_are_named():
    model, marginal, _ = linear_vae()
    with pytest.raises(TypeError, match="model"):
        log_likelihood(vaetut.Autoencoder(INPUT, LATENT), images(marginal, 2))
    with pytest.raises(TypeError, match="images"):
        log_likelihood(model, [[0.0] * INPUT])
    with pytest.raises(ValueError, match="images"):
        log_likelihood(model, torch.zeros(2, INPUT + 1, dtype=torch.float64))
    sigmoid = vaetut.VAE(INPUT, LATENT, hidden_dims=(), dtype=torch.float64)  # its own cost: "bce"
    with pytest.raises(ValueError, match=r"images must lie in \[0, 1\]"):
        log_likelihood(sigmoid, torch.full((2, INPUT), 2.0, dtype=torch.float64))
    with pytest.raises(ValueError, match="beta"):
        log_likelihood(sigmoid, torch.full((2, INPUT), 0.5, dtype=torch.float64), beta=2.0)
