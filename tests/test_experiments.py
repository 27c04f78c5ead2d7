"""The β sweep's shape and the linear-VAE closed form against a direct numerical optimum."""

import math

import numpy as np
import pandas as pd
import pytest
import torch
from scipy.optimize import minimize

from vaetut.experiments import COLUMNS, beta_sweep, linear_vae_theory


def numerical_optimum(lam, beta):
    """Minimise one direction's expected loss over decoder weight w, encoder gain a and log σ² directly."""

    def loss(params):
        w, a, logvar = params
        var = math.exp(logvar)
        c = 0.5 * ((1 - w * a) ** 2 * lam + w**2 * var)  # E[½(y − w(a y + σ ε))²]
        kl = 0.5 * (a**2 * lam + var - logvar - 1)  # E[U] + S
        return c + kl / beta

    best = min(
        (
            minimize(loss, start, method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-12, "maxiter": 20_000})
            for start in ([1.0, 0.5, -1.0], [0.01, 0.01, 0.0])
        ),
        key=lambda r: r.fun,
    )
    w, a, logvar = best.x
    var = math.exp(logvar)
    return 0.5 * ((1 - w * a) ** 2 * lam + w**2 * var), 0.5 * a**2 * lam, 0.5 * (var - logvar - 1), -logvar


@pytest.mark.parametrize("beta", [0.5, 1.0, 2.0, 3.0])
def test_theory_matches_a_direct_numerical_optimum(beta):
    variances = [3.0, 1.2, 0.4]
    row = linear_vae_theory(variances, [beta]).iloc[0]
    parts = np.array([numerical_optimum(lam, beta) for lam in variances]).sum(0)
    np.testing.assert_allclose([row["C"], row["U"], row["S"], -row["V"]], parts, rtol=1e-4, atol=1e-6)


def test_theory_at_beta_zero_and_its_ratio():
    table = linear_vae_theory([2.0, 1.0], [0.0, 0.75, 2.0])
    assert list(table.columns) == list(COLUMNS)
    first = table.iloc[0]
    assert first["C"] == 1.5 and first["U"] == first["S"] == first["V"] == 0 and math.isnan(first["ratio"])
    np.testing.assert_allclose(table["ratio"][1:], 1.0)  # KL = −V/2 at the optimum
    assert table["C"].is_monotonic_decreasing


def test_theory_switches_directions_on_at_beta_one_over_lambda():
    below, above = linear_vae_theory([2.0], [0.49, 0.51])["U"]
    assert below == 0 and above > 0
    # latent_dim caps the active directions to the largest variances
    capped = linear_vae_theory([4.0, 2.0], [3.0], latent_dim=1).iloc[0]
    assert capped["C"] == pytest.approx(0.5 / 3 + 1.0)


def test_sweep_table_shape_and_collapse_row():
    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(300, 6, generator=g), torch.randn(100, 6, generator=g)
    table = beta_sweep([0, 1.0, 2.0], latent_dim=2, hidden_dims=(8,), epochs=2, train=train, test=test)
    assert list(table.columns) == list(COLUMNS) and list(table["beta"]) == [0, 1.0, 2.0]
    first = table.iloc[0]
    assert first["U"] == first["S"] == first["V"] == 0
    assert first["C"] == pytest.approx((0.5 * (test - train.mean(0)).pow(2).sum(1)).mean().item(), rel=1e-6)


@pytest.mark.parametrize(
    "betas, message",
    [([1.0, -0.5], "beta"), ([], "empty"), (["x"], "number"), ("12", "sequence"), ([1.0, 1], "repeat"), (2.0, "seq")],
)
def test_sweep_refuses_bad_betas(betas, message):
    with pytest.raises((ValueError, TypeError), match=message):
        beta_sweep(betas, epochs=1)


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(n_jobs=0), "n_jobs"),
        (dict(threads=0), "threads"),
        (dict(hidden_dims=(0,)), "hidden_dims"),
        (dict(output="tanh"), "output"),
        (dict(seed=-3), "seed"),
        (dict(dtype=torch.int32), "dtype"),
    ],
)
def test_sweep_refuses_bad_options_before_training(change, message, monkeypatch):
    monkeypatch.setattr("vaetut.experiments.fit", lambda *a, **k: pytest.fail("trained before refusing"))
    with pytest.raises((ValueError, TypeError), match=message):
        beta_sweep([1.0], epochs=1, **change)


def small_sweep(**options):
    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(300, 6, generator=g), torch.randn(100, 6, generator=g)
    return beta_sweep([0, 0.5, 1.0, 2.0], latent_dim=2, hidden_dims=(8,), epochs=3, train=train, test=test, **options)


def test_parallel_workers_give_the_same_table_and_models_as_one_process():
    serial, serial_models = small_sweep(n_jobs=1, return_models=True)
    parallel, parallel_models = small_sweep(n_jobs=2, return_models=True)
    pd.testing.assert_frame_equal(serial, parallel, check_exact=True)
    assert list(parallel_models) == [0.0, 0.5, 1.0, 2.0]
    for beta, model in serial_models.items():
        other = parallel_models[beta].state_dict()
        assert all(torch.equal(w, other[k]) for k, w in model.state_dict().items())


def test_sweep_leaves_the_callers_rng_and_threads_alone():
    torch.set_num_threads(2)
    torch.manual_seed(11)
    expected = torch.rand(3)
    torch.manual_seed(11)
    small_sweep(n_jobs=1)
    assert torch.equal(torch.rand(3), expected) and torch.get_num_threads() == 2


def test_theory_refuses_bad_variances():
    with pytest.raises(ValueError, match="variances"):
        linear_vae_theory([1.0, 0.0])
    with pytest.raises(ValueError, match="variances"):
        linear_vae_theory(2.0)  # a scalar, not a sequence
    with pytest.raises(TypeError, match="variances"):
        linear_vae_theory(["a"])


def test_seeds_give_one_row_per_pair_equal_to_the_single_seed_sweep():
    g = torch.Generator().manual_seed(0)
    train, test = torch.randn(300, 6, generator=g), torch.randn(100, 6, generator=g)
    options = dict(latent_dim=2, hidden_dims=(8,), epochs=2, train=train, test=test)
    table = beta_sweep([0, 1.0, 2.0], seeds=(3, 0), n_jobs=2, **options)
    assert list(table.columns) == ["beta", "seed", *COLUMNS[1:]]
    assert list(zip(table["beta"], table["seed"])) == [(0, 3), (0, 0), (1, 3), (1, 0), (2, 3), (2, 0)]
    for _, row in table.iterrows():
        alone = beta_sweep([row["beta"]], seed=int(row["seed"]), n_jobs=1, **options)
        assert list(alone.columns) == list(COLUMNS)  # one seed: the table as it always was
        pd.testing.assert_series_equal(
            row[list(COLUMNS)].astype(float), alone.iloc[0].astype(float), check_exact=True, check_names=False
        )
    # two seeds do train two different models
    assert table.loc[2, "C"] != table.loc[3, "C"]


@pytest.mark.parametrize(
    "change, message",
    [
        (dict(seeds=[]), "empty"),
        (dict(seeds=[1, 1]), "repeat"),
        (dict(seeds=[-1]), "seed"),
        (dict(seeds=3), "seeds"),
        (dict(seeds=[1, 2], seed=5), "not both"),
        (dict(train=torch.zeros(5, 784)), "test"),
        (dict(test=torch.zeros(5, 784)), "train"),
        (dict(n_jobs=2, scheduler="tcp://127.0.0.1:1"), "not both"),
        (dict(scheduler=8786), "scheduler"),
    ],
)
def test_sweep_refuses_bad_seeds_data_and_engine_before_training(change, message, monkeypatch):
    monkeypatch.setattr("vaetut.experiments.fit", lambda *a, **k: pytest.fail("trained before refusing"))
    with pytest.raises((ValueError, TypeError), match=message) as info:
        beta_sweep([1.0], epochs=1, **change)
    assert len(str(info.value).splitlines()) == 1


def test_trainings_are_counted_honestly():
    from vaetut.experiments import trainings

    assert trainings([0.0]) == 0 and trainings([0.0, 1.0, 2.0]) == 2 and trainings([0.0, 1.0], seeds=[0, 1, 2]) == 3
