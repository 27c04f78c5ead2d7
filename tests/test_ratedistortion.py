"""Reverse water-filling against the linear VAE's closed form, and against a numerical rate–distortion optimum.

Oracles: `linear_vae_theory` computes each direction's optimal bubble (σ² = s²/λ, ⟨μ²⟩ = 1 − s²/λ)
and sums C, U and S from it, never a water level or a rate; scipy minimises the distortion of
independent Gaussian sources at a given rate numerically (Shannon's R(D) = ½ log(λ/d) per
direction, with the distortion d of each direction as the unknowns).
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import minimize

from vaetut.experiments import SLIDES_BETAS, linear_vae_theory
from vaetut.ratedistortion import distortion_at_rate, rate_distortion

SPECTRA = {
    "four": ((4.0, 1.6, 0.9, 0.25), None),
    "decaying, D = 5": (tuple(3.0 * 0.7 ** np.arange(12)), 5),
    "ties": ((2.0, 2.0, 1.0, 0.5, 0.5), 3),
}
BETAS = np.concatenate([SLIDES_BETAS, np.linspace(0.05, 12, 40)])


@pytest.mark.parametrize("name", SPECTRA)
def test_water_filling_is_the_linear_vae_optimum(name):
    variances, latent_dim = SPECTRA[name]
    curve = rate_distortion(variances, BETAS, latent_dim=latent_dim)
    theory = linear_vae_theory(variances, BETAS, latent_dim=latent_dim)
    np.testing.assert_array_equal(curve["beta"], theory["beta"])
    np.testing.assert_allclose(curve["distortion"], theory["C"], rtol=1e-12)
    np.testing.assert_allclose(curve["rate"], theory["U"] + theory["S"], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name", SPECTRA)
def test_distortion_at_rate_inverts_the_curve(name):
    variances, latent_dim = SPECTRA[name]
    theory = linear_vae_theory(variances, BETAS, latent_dim=latent_dim)
    for rate, c in zip(theory["U"] + theory["S"], theory["C"]):
        assert distortion_at_rate(variances, float(rate), latent_dim=latent_dim) == pytest.approx(c, rel=1e-12)


def _numerical_distortion(variances, rate, latent_dim):
    """min Σ d_i/2 over per-direction squared errors d_i ≤ λ_i, subject to Σ ½ log(λ_i/d_i) ≤ rate (coded ones only)."""
    lam = np.sort(np.asarray(variances))[::-1]
    coded, rest = lam[:latent_dim], lam[latent_dim:]
    # unknowns: t_i = log(λ_i/d_i) ≥ 0, the rate of each direction (twice)
    result = minimize(
        lambda t: 0.5 * np.sum(coded * np.exp(-t)),
        x0=np.full(len(coded), 2 * rate / len(coded)),
        jac=lambda t: -0.5 * coded * np.exp(-t),
        bounds=[(0, None)] * len(coded),
        constraints=[{"type": "ineq", "fun": lambda t: rate - 0.5 * t.sum(), "jac": lambda t: -0.5 * np.ones_like(t)}],
        method="SLSQP",
        options={"ftol": 1e-14, "maxiter": 1000},
    )
    assert result.success, result.message
    return result.fun + 0.5 * rest.sum()


@pytest.mark.parametrize("rate", [0.1, 0.7, 2.0, 5.5])
@pytest.mark.parametrize("name", SPECTRA)
def test_distortion_at_rate_is_the_rate_distortion_optimum(name, rate):
    variances, latent_dim = SPECTRA[name]
    latent_dim = latent_dim or len(variances)
    expected = _numerical_distortion(variances, rate, latent_dim)
    assert distortion_at_rate(variances, rate, latent_dim=latent_dim) == pytest.approx(expected, rel=1e-6)


def test_the_slope_is_minus_the_water_level():
    variances = (4.0, 1.6, 0.9, 0.25)
    for beta in (0.5, 1.5, 3.0):  # no threshold 1/λ within ±1e-4 of these
        h = 1e-4
        points = rate_distortion(variances, [beta - h, beta + h])
        slope = np.diff(points["distortion"]).item() / np.diff(points["rate"]).item()
        assert slope == pytest.approx(-1 / beta, rel=1e-6)


def test_collapse_and_the_uncoded_directions():
    assert distortion_at_rate([3.0, 1.0], 0.0) == 2.0  # nothing coded: half the total variance
    # One latent dimension: the second direction is never described, whatever the rate.
    assert distortion_at_rate([3.0, 1.0], 10.0, latent_dim=1) == pytest.approx(0.5 * 3 * np.exp(-20) + 0.5)
    assert rate_distortion([3.0, 1.0], [0.0])["rate"].item() == 0.0


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: rate_distortion([1.0, -1.0]), "variances"),
        (lambda: rate_distortion("abc"), "variances"),
        (lambda: rate_distortion([1.0], [-1.0]), "beta"),
        (lambda: rate_distortion([1.0], latent_dim=0), "latent_dim"),
        (lambda: distortion_at_rate([1.0], -0.5), "rate"),
        (lambda: distortion_at_rate([1.0], float("nan")), "rate"),
        (lambda: distortion_at_rate([1.0], True), "rate"),
    ],
)
def test_bad_input_is_named(call, match):
    with pytest.raises((ValueError, TypeError), match=match):
        call()


def test_rate_distortion_plot_draws_the_curve_and_the_points():
    import matplotlib.pyplot as plt
    import pandas as pd

    from vaetut import plots

    curve = rate_distortion((4.0, 1.6, 0.9), np.linspace(0, 3, 31))
    measured = pd.DataFrame({"beta": [1.0, 2.0], "rate": [1.5, 2.5], "distortion": [1.2, 0.8]})
    seeds = measured.assign(rate=measured["rate"] + 0.1)
    fig = plots.rate_distortion_plot(curve, {"MLP": measured}, seeds=seeds)
    (ax,) = fig.axes
    assert plt.get_fignums() == []
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["linear VAE, closed form"].get_xdata(), curve["rate"])
    np.testing.assert_array_equal(lines["MLP"].get_ydata(), measured["distortion"])
    assert "rate" in ax.get_xlabel() and "nats" in ax.get_xlabel() and "distortion" in ax.get_ylabel()
    assert [t.get_text() for t in ax.texts] == ["β=1", "β=2"]
    with pytest.raises(ValueError, match="measured"):
        plots.rate_distortion_plot(curve, {"MLP": measured.drop(columns="beta")})
    with pytest.raises(ValueError, match="theory"):
        plots.rate_distortion_plot(measured.drop(columns="rate"), {})
