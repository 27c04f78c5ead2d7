"""The collapse warning, both ways: said for a collapsed VAE with its cause, never for β = 0 or the book's models."""

import json
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

import vaetut
from vaetut import VAE, fit
from vaetut.collapse import KL_THRESHOLD, collapse_warning, largest_variance

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def digits8():
    """scikit-learn's bundled 8 × 8 digits scaled to [0, 1]: the issue's example (largest variance 0.70)."""
    from sklearn.datasets import load_digits

    return torch.tensor(load_digits().data, dtype=torch.float64) / 16  # (1797, 64)


def test_largest_variance_is_the_top_eigenvalue_of_the_covariance(digits8):
    a = digits8.numpy()
    expected = np.linalg.eigvalsh(np.cov(a, rowvar=False, bias=True)).max()
    assert largest_variance(digits8) == pytest.approx(expected, rel=1e-10)
    assert round(expected, 2) == 0.70


def test_a_collapsed_mse_vae_warns_with_the_cause_and_the_cure(digits8):
    vaetut.reproducible(0)
    model = VAE(64, latent_dim=4, hidden_dims=(32,), output="linear", dtype=torch.float64)  # mse
    with pytest.warns(UserWarning, match="posterior collapse") as caught:
        history = fit(model, digits8, epochs=15, batch_size=64, beta=1.0, progress=False)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"is {largest_variance(digits8):.3g}, below 1/β = 1;" in message  # λ₁ = 0.70 against 1/β = 1
    assert "β above 1.4" in message and "rescale" in message  # the cure: β > 1/λ₁ = 1.43
    assert history.warnings == [message]
    assert max(history.latent_kl) < KL_THRESHOLD
    # Independent check that it did collapse: U + S from evaluate, and the sum of ⟨KL_d⟩ agrees with it.
    averages = vaetut.evaluate(model, digits8, beta=1.0)
    assert averages["U"] + averages["S"] < 0.02
    mu, logvar = model.encode(digits8)
    kl = torch.distributions.kl_divergence(
        torch.distributions.Normal(mu, (0.5 * logvar).exp()), torch.distributions.Normal(0.0, 1.0)
    )  # (N, D)
    np.testing.assert_allclose(history.latent_kl, kl.mean(0).detach().numpy(), rtol=1e-9, atol=1e-12)


def test_the_cure_works_and_beta_zero_never_warns(digits8):
    for beta in (0.0, 4.0):  # 0: collapse is the point; 4 > 1/λ₁: the top directions survive
        vaetut.reproducible(0)
        model = VAE(64, latent_dim=4, hidden_dims=(32,), output="linear", dtype=torch.float64)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            history = fit(model, digits8, epochs=15, batch_size=64, beta=beta, progress=False)
        assert history.warnings == []
        if beta:
            assert max(history.latent_kl) > 10 * KL_THRESHOLD


def test_an_autoencoder_is_never_checked(digits8):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        history = fit(vaetut.Autoencoder(64, 2, (8,)), digits8[:100], epochs=1, progress=False)
    assert history.latent_kl is None and history.warnings == []


def test_the_message_names_the_cause_of_each_cost():
    y = torch.randn(500, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64) * torch.tensor([2.0, 1, 1])
    lam = largest_variance(y)  # ≈ 4
    quiet = [1e-4, 2e-3]
    assert collapse_warning([1e-4, 2 * KL_THRESHOLD], y, 1.0, "mse") is None  # one dimension alive
    assert collapse_warning(quiet, y, 0.0, "mse") is None
    low = collapse_warning(quiet, y, 0.1, "mse")  # 1/β = 10 > λ₁
    assert f"{lam:.3g}" in low and "1/β = 10" in low and f"β above {1 / lam:.3g}" in low
    high = collapse_warning(quiet, y, 1.0, "mse")  # 1/β = 1 < λ₁: the theory does not predict it
    assert "does not predict it" in high
    learned = collapse_warning(quiet, y, 1.0, "gaussian", decoder_variance=5.0)  # s²/β = 5 > λ₁
    assert "s²/β = 5" in learned and "learned s² = 5" in learned
    assert 'cost="bce"' in collapse_warning(quiet, y, 1.0, "bce")


def test_no_chapter_output_holds_a_warning():
    # nbval proves each committed output equal to a fresh execution; here: none of them is a warning.
    for notebook in sorted((ROOT / "notebooks").glob("*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            for output in cell.get("outputs", []):
                text = "".join(output.get("text", "")) if output.get("name") == "stderr" else ""
                assert "Warning" not in text and "posterior collapse:" not in text, (notebook.name, text[:200])
