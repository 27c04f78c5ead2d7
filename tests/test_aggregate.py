"""The aggregate posterior and ELBO surgery against a small case computed exactly: three 1-D bubbles, by quadrature."""

import math

import numpy as np
import pytest
import torch
from scipy import integrate, stats
from torch.distributions import Normal, kl_divergence

from vaetut.aggregate import elbo_surgery, log_mixture_density, sample_mixture

MU = torch.tensor([[-1.5], [0.3], [2.0]], dtype=torch.float64)  # (3, 1): three bubbles in one dimension
SIGMA = torch.tensor([[0.4], [0.9], [0.25]], dtype=torch.float64)
LOGVAR = 2 * SIGMA.log()


def q_pdf(z: float) -> float:
    """The mixture's density at z, with scipy: (1/3) Σ_n N(z; μ_n, σ_n²)."""
    return float(np.mean(stats.norm.pdf(z, MU[:, 0].numpy(), SIGMA[:, 0].numpy())))


def quad(f) -> float:
    """∫ f(z) dz over the real line, split at the bubbles' centres so that quad sees every peak."""
    points = [-12.0, *sorted(MU[:, 0].tolist()), 12.0]
    return sum(integrate.quad(f, a, b, limit=200, epsabs=1e-13)[0] for a, b in zip(points, points[1:]))


def exact_terms() -> dict[str, float]:
    """KL(q‖p), I = ⟨KL⟩ − KL(q‖p), and H[q], all by quadrature, and ⟨KL⟩ from torch.distributions."""
    kl_q = quad(lambda z: q_pdf(z) * (math.log(q_pdf(z)) - stats.norm.logpdf(z)))
    entropy_q = quad(lambda z: -q_pdf(z) * math.log(q_pdf(z)))
    mean_kl = kl_divergence(Normal(MU[:, 0], SIGMA[:, 0]), Normal(0.0, 1.0)).mean().item()
    return {"KL(q||p)": kl_q, "I": mean_kl - kl_q, "mean KL": mean_kl, "H[q]": entropy_q}


def test_log_mixture_density_matches_scipy_in_two_dimensions():
    generator = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 2, generator=generator, dtype=torch.float64)
    logvar = torch.randn(5, 2, generator=generator, dtype=torch.float64) - 1.0
    z = 2 * torch.randn(7, 2, generator=generator, dtype=torch.float64)
    sd = (0.5 * logvar).exp().numpy()
    expected = [
        math.log(np.mean([stats.multivariate_normal.pdf(point, mu[n].numpy(), np.diag(sd[n] ** 2)) for n in range(5)]))
        for point in z.numpy()
    ]
    torch.testing.assert_close(log_mixture_density(z, mu, logvar), torch.tensor(expected, dtype=torch.float64))


def test_log_mixture_density_is_chunked_without_changing_the_result(monkeypatch):
    z = torch.linspace(-3, 3, 11, dtype=torch.float64)[:, None]
    whole = log_mixture_density(z, MU, LOGVAR)
    monkeypatch.setattr("vaetut.aggregate.ROWS", 4)  # one code per step
    torch.testing.assert_close(log_mixture_density(z, MU, LOGVAR), whole, rtol=0, atol=1e-14)


def test_sample_mixture_draws_from_the_mixture():
    z, pick = sample_mixture(200_000, MU, LOGVAR, torch.Generator().manual_seed(1))
    counts = torch.bincount(pick, minlength=3) / len(pick)
    torch.testing.assert_close(counts, torch.full((3,), 1 / 3, dtype=counts.dtype), atol=0.005, rtol=0)
    statistic = stats.kstest(
        z[:2000, 0].numpy(), lambda x: np.mean(stats.norm.cdf(np.asarray(x)[:, None], MU[:, 0], SIGMA[:, 0]), axis=1)
    )
    assert statistic.pvalue > 0.01


def test_elbo_surgery_matches_the_exact_terms():
    exact = exact_terms()
    got = elbo_surgery(MU, LOGVAR, samples=200_000, seed=0)
    assert got["mean KL"] == pytest.approx(exact["mean KL"], rel=1e-12)
    assert abs(got["I"] - exact["I"]) < 4 * got["I se"]
    assert abs(got["KL(q||p)"] - exact["KL(q||p)"]) < 4 * got["I se"]
    assert got["I se"] < 0.01  # the comparison above is a sharp one
    assert got["log N"] == pytest.approx(math.log(3))
    assert 0 < exact["I"] < math.log(3)  # the bound, for the exact values
    assert got["bound"] <= exact["KL(q||p)"]
    # the split: E_q[½z²] − ½ from the moments, and H[p] − H[q] by quadrature
    second_moment = quad(lambda z: q_pdf(z) * z * z)
    assert got["second-moment excess"] == pytest.approx(0.5 * second_moment - 0.5, rel=1e-9)
    entropy_p = 0.5 * math.log(2 * math.pi * math.e)
    assert abs(got["entropy deficit"] - (entropy_p - exact["H[q]"])) < 4 * got["I se"]


def test_one_bubble_carries_no_information_and_far_apart_bubbles_carry_log_n():
    one = elbo_surgery(MU[:1], LOGVAR[:1], samples=1000)
    assert one["I"] == pytest.approx(0.0, abs=1e-12)
    assert one["KL(q||p)"] == pytest.approx(one["mean KL"], abs=1e-12)
    apart = elbo_surgery(torch.tensor([[-30.0], [0.0], [30.0]], dtype=torch.float64), LOGVAR, samples=1000)
    assert apart["I"] == pytest.approx(math.log(3), abs=1e-9)  # the bound I ≤ log N is reached
    assert apart["KL(q||p)"] == pytest.approx(apart["bound"], abs=1e-9)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: log_mixture_density(torch.zeros(4, 2), MU, LOGVAR), "z must be a tensor of shape"),
        (lambda: log_mixture_density(torch.zeros(4, 1), MU, LOGVAR[:2]), "logvar must have the shape of mu"),
        (lambda: sample_mixture(0, MU, LOGVAR), "samples must be a positive integer"),
        (lambda: elbo_surgery(MU.numpy(), LOGVAR), "mu must be a torch.Tensor"),
        (lambda: elbo_surgery(MU, LOGVAR * math.inf), "must be finite"),
        (lambda: elbo_surgery(MU, LOGVAR, seed=0.5), "seed must be an integer"),
    ],
)
def test_bad_input_is_named(call, message):
    with pytest.raises((TypeError, ValueError), match=message):
        call()
