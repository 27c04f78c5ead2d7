"""The training loop: determinism, what each model learns, β = 0, and clear errors."""

import math

import pytest
import torch

import vaetut
from vaetut import VAE, Autoencoder, evaluate, fit, load_mnist


@pytest.fixture(scope="module")
def digits():
    return load_mnist()[0][:600], load_mnist(split="test")[0][:200]


def spread(y, mean):
    """½‖y − ȳ‖² averaged over images: the cost of always answering the mean image."""
    return (0.5 * (y - mean).pow(2).sum(1)).mean().item()


def test_same_seed_same_history_and_weights(digits):
    y, _ = digits
    runs = []
    for _ in range(2):
        vaetut.reproducible(0)
        model = VAE(latent_dim=4, hidden_dims=(32,))
        runs.append((fit(model, y, epochs=2, seed=5, progress=False).rows, model.state_dict()))
    assert runs[0][0] == runs[1][0]
    assert all(torch.equal(runs[0][1][k], runs[1][1][k]) for k in runs[0][1])
    vaetut.reproducible(0)
    other = fit(VAE(latent_dim=4, hidden_dims=(32,)), y, epochs=2, seed=6, progress=False)
    assert other.rows != runs[0][0]


def test_fit_leaves_the_global_rng_alone(digits):
    model = Autoencoder(latent_dim=2, hidden_dims=(8,))  # its initialisation draws from the global RNG
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    fit(model, digits[0][:100], epochs=1, progress=False)
    assert torch.equal(torch.rand(3), expected)


def test_autoencoder_learns_and_history_has_one_row_per_epoch(digits):
    y, y_test = digits
    vaetut.reproducible(0)
    model = Autoencoder(latent_dim=8, hidden_dims=(64,))
    history = fit(model, y, epochs=12, batch_size=32, progress=False)
    assert len(history.loss) == 12 and history.loss[-1] < history.loss[0]
    assert list(history.to_frame().columns) == ["loss", "⟨C⟩"]
    assert evaluate(model, y_test)["C"] < spread(y_test, y.mean(0))


def test_a_fully_masked_input_leaves_only_the_mean_image(digits):
    # With every pixel masked the DAE sees zeros: the best it can do is the mean image.
    y, _ = digits
    vaetut.reproducible(0)
    model = Autoencoder(latent_dim=4, hidden_dims=(16,), output="linear")
    fit(model, y, epochs=30, lr=1e-2, corruption=("mask", 1.0), progress=False)
    c = evaluate(model, y, corruption=("mask", 1.0))["C"]
    assert c == pytest.approx(spread(y, y.mean(0)), rel=0.01)


def test_beta_zero_is_exact_total_collapse(digits):
    y, y_test = digits
    model = VAE(latent_dim=5, hidden_dims=(16,), output="linear")
    torch.manual_seed(1)
    expected = torch.rand(2)
    torch.manual_seed(1)
    history = fit(model, y, beta=0, progress=False)
    assert torch.equal(torch.rand(2), expected)  # the global RNG is left alone here too
    assert history.collapsed
    m = evaluate(model, y_test, beta=0)
    assert m["U"] == 0 and m["S"] == 0 and m["V"] == 0
    assert m["C"] == pytest.approx(spread(y_test, y.mean(0)), rel=1e-6)
    assert m["loss"] == m["C"]


def test_vae_history_reports_the_four_averages(digits):
    vaetut.reproducible(0)
    history = fit(VAE(latent_dim=3, hidden_dims=(16,)), digits[0], epochs=2, beta=1.0, progress=False)
    frame = history.to_frame()
    assert list(frame.columns) == ["loss", "⟨C⟩", "⟨U⟩", "⟨S⟩", "⟨V⟩"]
    row = frame.iloc[-1]
    assert row["loss"] == pytest.approx(row["⟨C⟩"] + row["⟨U⟩"] + row["⟨S⟩"], rel=1e-5)


def test_evaluate_averages_over_sampled_codes_not_the_mean(digits):
    y, y_test = digits
    vaetut.reproducible(0)
    model = VAE(latent_dim=4, hidden_dims=(32,), output="linear")
    fit(model, y, epochs=5, beta=2.0, progress=False)
    sampled = evaluate(model, y_test, beta=2.0)
    assert sampled == evaluate(model, y_test, beta=2.0)  # seeded
    model.eval()
    with torch.no_grad():
        at_mu = (0.5 * (y_test - model(y_test)[0]).pow(2).sum(1)).mean().item()
    assert sampled["C"] > at_mu  # noise in ζ costs reconstruction: the loss's C is not the C at z = μ
    assert sampled["loss"] == pytest.approx(sampled["C"] + (sampled["U"] + sampled["S"]) / 2.0)


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(images=torch.full((4, 784), math.nan)), ValueError, "NaN"),
        (dict(images=torch.zeros(4, 783)), ValueError, r"\(N, 784\)"),
        (dict(images=torch.zeros(4, 784, dtype=torch.int64)), TypeError, "float"),
        (dict(beta=-1.0), ValueError, "beta"),
        (dict(cost="l1"), ValueError, "unknown reconstruction cost"),
        (dict(corruption=("blur", 0.1)), ValueError, "unknown corruption kind"),
        (dict(epochs=0), ValueError, "epochs"),
    ],
)
def test_bad_input_is_refused_clearly(change, error, message):
    arguments = dict(images=torch.rand(4, 784), beta=1.0, progress=False, epochs=1)
    arguments.update(change)
    with pytest.raises(error, match=message):
        fit(VAE(latent_dim=2, hidden_dims=(4,)), **arguments)


def test_beta_is_refused_for_an_autoencoder():
    with pytest.raises(ValueError, match="no KL term"):
        fit(Autoencoder(), torch.rand(4, 784), beta=1.0, progress=False)
