"""The training loop: determinism, what each model learns, β = 0, and clear errors."""

import math

import numpy as np
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
    model = Autoencoder(latent_dim=8, hidden_dims=(64,), cost="mse")
    history = fit(model, y, epochs=12, batch_size=32, progress=False)
    assert len(history.loss) == 12 and history.loss[-1] < history.loss[0]
    assert list(history.to_frame().columns) == ["loss", "C"]
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
    assert list(frame.columns) == ["loss", "C", "U", "S", "V"]
    row = frame.iloc[-1]
    assert row["loss"] == pytest.approx(row["C"] + row["U"] + row["S"], rel=1e-5)


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


def test_beta_weighs_only_the_kl_so_an_autoencoder_ignores_it(digits):
    runs = []
    for beta in (0.0, 1.0, 3.0):
        vaetut.reproducible(0)
        runs.append(fit(Autoencoder(latent_dim=2, hidden_dims=(8,)), digits[0], epochs=2, beta=beta, progress=False))
    assert runs[0].rows == runs[1].rows == runs[2].rows and not runs[0].collapsed


class Springs(torch.nn.Module):
    """Not an autoencoder: a point μ with terms C = ½‖y − μ‖² and U = ½‖μ‖². Its optimum is μ = ȳ·β/(1 + β)."""

    input_dim = 3

    def __init__(self):
        super().__init__()
        self.mu = torch.nn.Parameter(torch.zeros(3, dtype=torch.float64))
        self.calls = 0

    def terms(self, y_input, y, cost="mse", generator=None):
        self.calls += 1
        mu = self.mu.expand_as(y)
        return {"C": 0.5 * (y - mu).pow(2).sum(1), "U": 0.5 * mu.pow(2).sum(1)}


def test_the_loop_trains_any_model_that_states_its_terms_computing_them_once_per_step():
    y = torch.tensor([[1.0, 2.0, -1.0], [3.0, 0.0, 1.0]], dtype=torch.float64)
    model = Springs()
    history = fit(model, y, epochs=2000, batch_size=2, lr=0.05, beta=2.0, progress=False)
    assert model.calls == 2000  # one batch per epoch, its terms computed once
    np.testing.assert_allclose(model.mu.detach().numpy(), y.mean(0).numpy() * 2 / 3, atol=1e-6)  # closed form
    assert list(history.to_frame().columns) == ["loss", "C", "U"]


def test_data_are_cast_to_the_models_dtype(digits):
    y64 = digits[0][:50].double()  # what torch.from_numpy gives
    model = Autoencoder(latent_dim=2, hidden_dims=(8,))  # float32
    fit(model, y64, epochs=1, progress=False)
    assert evaluate(model, y64)["C"] == pytest.approx(evaluate(model, y64.float())["C"], rel=1e-6)
    model64 = VAE(latent_dim=2, hidden_dims=(8,), dtype=torch.float64)
    assert all(p.dtype == torch.float64 for p in model64.parameters())
    fit(model64, digits[0][:50], epochs=1, progress=False)  # float32 data, float64 model
    assert all(p.dtype == torch.float64 for p in model64.parameters())


def test_corruption_and_sampling_never_touch_the_global_or_cuda_rng(digits, monkeypatch):
    model = VAE(latent_dim=2, hidden_dims=(8,))
    torch.manual_seed(3)
    expected = torch.rand(3)
    torch.manual_seed(3)

    def forbidden(*args, **kwargs):
        raise AssertionError("fit/evaluate reseeded a global generator")

    for target in ("torch.manual_seed", "torch.cuda.manual_seed", "torch.cuda.manual_seed_all", "torch.seed"):
        monkeypatch.setattr(target, forbidden)
    fit(model, digits[0][:64], epochs=1, corruption=("mask", 0.5), progress=False)
    evaluate(model, digits[1][:64], corruption=("gaussian", 0.2))
    monkeypatch.undo()
    assert torch.equal(torch.rand(3), expected)


def test_the_model_stays_on_the_cpu_by_default(digits):
    model = Autoencoder(latent_dim=2, hidden_dims=(8,))
    fit(model, digits[0][:32], epochs=1, progress=False)
    assert {p.device.type for p in model.parameters()} == {"cpu"}


@pytest.mark.parametrize(
    "change, error, message",
    [
        (dict(batch_size=0), ValueError, "batch_size"),
        (dict(batch_size=True), TypeError, "batch_size"),
        (dict(seed=-1), ValueError, "seed"),
        (dict(beta="1"), TypeError, "beta"),
        (dict(corruption="mask"), TypeError, "corruption"),
    ],
)
def test_evaluate_refuses_bad_input_clearly(digits, change, error, message):
    arguments = dict(beta=1.0)
    arguments.update(change)
    with pytest.raises(error, match=message):
        evaluate(VAE(latent_dim=2, hidden_dims=(4,)), digits[1][:8], **arguments)


def test_a_model_without_parameters_is_refused_clearly(digits):
    class Empty(torch.nn.Module):
        input_dim = 784

        def terms(self, y_input, y, cost="mse", generator=None):
            return {"C": torch.zeros(len(y))}

    with pytest.raises(ValueError, match="model has no parameters"):
        evaluate(Empty(), digits[1][:8])


def test_reproducible_refuses_a_bad_seed_before_seeding_anything():
    torch.manual_seed(7)
    expected = torch.rand(2)
    torch.manual_seed(7)
    with pytest.raises(ValueError, match="seed"):
        vaetut.reproducible(-1)
    with pytest.raises(ValueError, match="threads"):
        vaetut.reproducible(0, threads=100_000)
    assert torch.equal(torch.rand(2), expected)
