"""Property-based test (Hypothesis) of the public functions against careless or hostile input.

Any input (shapes, dtypes, NaN/inf, strings, bools, numpy scalars, empty) either gives a result
that is checked here against an independent oracle (numpy formulas, torch.distributions), or raises
ValueError/TypeError whose message names the argument. Never another exception, never a silent
broadcast. Fast: small examples, tiny models, no training beyond one epoch on a few rows.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import vaetut
from vaetut import energies, experiments

FAST = settings(deadline=None, max_examples=60, suppress_health_check=[HealthCheck.too_slow], derandomize=True)
SLOW = settings(deadline=None, max_examples=15, suppress_health_check=[HealthCheck.too_slow], derandomize=True)

FLOATS = (torch.float32, torch.float64)
DTYPES = (*FLOATS, torch.float16, torch.int64, torch.bool)


SIZE = st.integers(0, 4)
NDIM = st.sampled_from([2, 2, 2, 1, 0, 3])


@st.composite
def tensors(draw):
    """A tensor of any of DTYPES, mostly 2-D, with values that are moderate, or NaN/inf sometimes."""
    n, rows, cols = draw(NDIM), SIZE, SIZE
    shape = {0: (), 1: (draw(cols),), 2: (draw(rows), draw(cols)), 3: (draw(rows), draw(cols), 2)}[n]
    dtype = draw(st.sampled_from(DTYPES))
    size = int(np.prod(shape, dtype=np.int64))
    special = st.sampled_from([math.nan, math.inf, -math.inf])
    values = draw(
        st.lists(st.floats(-5, 5) | special if draw(st.booleans()) else st.floats(-5, 5), min_size=size, max_size=size)
    )
    array = np.array(values, dtype=np.float64).reshape(shape)
    if dtype in (torch.int64, torch.bool):
        array = np.nan_to_num(array, posinf=3, neginf=-3)
    return torch.tensor(np.asarray(array, dtype=np.float64)).to(dtype)


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-3, 3),
    st.floats(allow_nan=True),
    st.text(max_size=3),
    st.just(np.int64(2)),
    st.just(np.float32(0.5)),
    st.just([[0.1, 0.2]]),
    st.just(np.zeros((2, 3))),
    st.just(torch.tensor(1.0)),
)
ANY = tensors() | JUNK


def named_error(error: Exception, *names: str) -> None:
    """A ValueError/TypeError whose one-line message names one of the arguments."""
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    message = str(error)
    assert any(re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", message) for name in names), (
        f"the message does not name any of {names}: {message!r}"
    )


def call(fn, *args, names, **kwargs):
    """fn(...) -> (True, result) or (False, None) after checking the error names an argument."""
    try:
        return True, fn(*args, **kwargs)
    except Exception as error:  # noqa: BLE001 - the check is that only named ValueError/TypeError occur
        named_error(error, *names)
        return False, None


def is_batch(x) -> bool:
    return isinstance(x, torch.Tensor) and x.dim() == 2 and x.is_floating_point()


def np64(x: torch.Tensor) -> np.ndarray:
    return x.detach().to(torch.float64).numpy()


def check_per_sample(result, x: torch.Tensor, expected: np.ndarray) -> None:
    """Shape (N,), equal to the oracle where it is finite, finite wherever the rows of x are."""
    assert isinstance(result, torch.Tensor) and result.shape == (x.shape[0],)
    tol = 1e-2 if x.dtype == torch.float16 else 1e-5
    np.testing.assert_allclose(np64(result), expected, rtol=tol, atol=tol)
    finite_rows = torch.isfinite(x).all(dim=1)
    assert torch.isfinite(result[finite_rows]).all()


@st.composite
def pairs(draw):
    """Two float batches of one dtype, of the same shape half the time, else of independent shapes."""
    dtype, gen = draw(st.sampled_from(FLOATS)), torch.Generator().manual_seed(draw(st.integers(0, 9)))
    a = (draw(SIZE), draw(SIZE))
    b = a if draw(st.booleans()) else (draw(SIZE), draw(SIZE))
    return torch.rand(a, generator=gen, dtype=dtype), torch.randn(b, generator=gen, dtype=dtype)


# --- energies -----------------------------------------------------------------------------------


@FAST
@given(ANY)
def test_one_argument_energies(x):
    oracles = {
        (energies.potential_energy, "mu"): lambda a: 0.5 * (a**2).sum(axis=1),
        (energies.prior_energy, "z"): lambda a: 0.5 * (a**2).sum(axis=1),
        (energies.entropy_penalty, "logvar"): lambda a: 0.5 * (np.exp(a) - a - 1).sum(axis=1),
        (energies.log_volume, "logvar"): lambda a: a.sum(axis=1),
    }
    for (fn, name), oracle in oracles.items():
        ok, result = call(fn, x, names=(name,))
        assert ok == is_batch(x), (fn.__name__, x)
        if ok:
            with np.errstate(invalid="ignore", over="ignore"):
                check_per_sample(result, x, oracle(np64(x)))


@FAST
@given(pairs() | st.tuples(ANY, ANY))
def test_kl_divergence_against_torch_distributions(pair):
    mu, logvar = pair
    ok, result = call(energies.kl_divergence, mu, logvar, names=("mu", "logvar"))
    assert ok == (is_batch(mu) and is_batch(logvar) and mu.shape == logvar.shape and mu.dtype == logvar.dtype) or (
        ok and is_batch(mu) and is_batch(logvar) and mu.shape == logvar.shape
    )  # mixed float dtypes may promote
    if ok and mu.shape[1] > 0:
        finite = torch.isfinite(mu).all(1) & torch.isfinite(logvar).all(1)
        m, lv = mu[finite].double(), logvar[finite].double()
        q = torch.distributions.Normal(m, torch.exp(0.5 * lv))
        expected = torch.distributions.kl_divergence(q, torch.distributions.Normal(0.0, 1.0)).sum(1)
        tol = 1e-2 if torch.float16 in (mu.dtype, logvar.dtype) else 1e-5
        np.testing.assert_allclose(np64(result[finite]), expected.numpy(), rtol=tol, atol=tol)


@FAST
@given(pairs() | st.tuples(ANY, ANY), st.sampled_from(["mse", "bce", "MSE", "", 3, None]))
def test_reconstruction_cost(pair, kind):
    y, y_tilde = pair
    ok, result = call(energies.reconstruction_cost, y, y_tilde, kind, names=("y", "y_tilde", "kind", "cost"))
    if not ok:
        return
    assert kind in ("mse", "bce") and is_batch(y) and is_batch(y_tilde) and y.shape == y_tilde.shape
    a, b = np64(y), np64(y_tilde)
    with np.errstate(all="ignore"):
        if kind == "mse":
            expected = 0.5 * ((a - b) ** 2).sum(axis=1)
        else:
            expected = -(a * np.maximum(np.log(b), -100) + (1 - a) * np.maximum(np.log1p(-b), -100)).sum(axis=1)
    check_per_sample(result, torch.cat([y, y_tilde], 1) if y.dtype == y_tilde.dtype else y, expected)


@st.composite
def vae_batches(draw):
    """(y, ỹ, μ, log σ²), mostly well formed, but with batch sizes and widths that may disagree; or junk."""
    n, m, d, k = draw(SIZE), draw(SIZE), draw(SIZE), draw(SIZE)
    dtype = draw(st.sampled_from(FLOATS))
    gen = torch.Generator().manual_seed(draw(st.integers(0, 9)))
    parts = [
        torch.rand(n, d, generator=gen, dtype=dtype),
        torch.rand(n, d, generator=gen, dtype=dtype),
        torch.randn(m, k, generator=gen, dtype=dtype),
        torch.randn(m, k, generator=gen, dtype=dtype),
    ]
    for i in draw(st.lists(st.integers(0, 3), max_size=2)):  # a few parts replaced by anything at all
        parts[i] = draw(ANY)
    return parts


@FAST
@given(
    vae_batches() | st.tuples(ANY, ANY, ANY, ANY),
    st.one_of(st.sampled_from([0, 0.5, 1, 2.0, -1, math.nan, math.inf, "1", True]), JUNK),
)
def test_vae_loss_never_broadcasts(parts, beta):
    y, y_tilde, mu, logvar = parts
    ok, result = call(
        energies.vae_loss, y, y_tilde, mu, logvar, beta, names=("y", "y_tilde", "mu", "logvar", "beta", "cost")
    )
    if not ok:
        return
    assert all(map(is_batch, (y, y_tilde, mu, logvar)))
    assert y.shape == y_tilde.shape and mu.shape == logvar.shape and y.shape[0] == mu.shape[0]  # no broadcast
    assert isinstance(beta, (int, float, np.floating)) and not isinstance(beta, bool) and 0 <= beta < math.inf
    assert result.dim() == 0
    with np.errstate(all="ignore"):
        c = 0.5 * ((np64(y) - np64(y_tilde)) ** 2).sum(1)
        kl = 0.5 * (np64(mu) ** 2 + np.exp(np64(logvar)) - np64(logvar) - 1).sum(1)
        per = c + (kl / beta if beta > 0 else np.where(kl > 0, np.inf, 0.0))
        expected = per.mean() if len(per) else np.nan
    tol = 1e-2 if torch.float16 in (y.dtype, y_tilde.dtype, mu.dtype, logvar.dtype) else 1e-4
    np.testing.assert_allclose(float(result), expected, rtol=tol, atol=tol)


@FAST
@given(st.dictionaries(st.sampled_from(["C", "U", "S", "V", "x"]), ANY, max_size=4) | JUNK, JUNK | st.floats(0, 3))
def test_total_loss(terms, beta):
    ok, result = call(energies.total_loss, terms, beta, names=("terms", "beta", "C", "U", "S"))
    if not ok:
        return
    c = terms["C"]
    assert isinstance(result, torch.Tensor) and result.shape == c.shape and c.dim() == 1
    for name in ("U", "S"):
        if name in terms:
            assert terms[name].shape == c.shape  # no silent broadcast


# --- models ---------------------------------------------------------------------------------------

DIMS = st.one_of(st.integers(-1, 4), st.just(True), st.just(np.int64(3)), st.just(2.0), st.just("3"), st.none())


@FAST
@given(
    st.sampled_from([vaetut.Autoencoder, vaetut.VAE]),
    DIMS,
    DIMS,
    st.one_of(st.just(()), st.just((3,)), st.just([2, 2]), st.just((0,)), st.just("4"), st.just((True,)), DIMS),
    st.sampled_from(["linear", "sigmoid", "relu", None]),
    st.sampled_from([None, torch.float32, torch.float64, torch.int64, "float64", np.float64]),
)
def test_model_constructors(cls, input_dim, latent_dim, hidden_dims, output, dtype):
    ok, model = call(
        cls,
        input_dim,
        latent_dim,
        hidden_dims,
        output,
        dtype,
        names=("input_dim", "latent_dim", "hidden_dims", "output", "dtype"),
    )
    if ok:
        assert model.input_dim == input_dim and model.latent_dim == latent_dim
        assert not isinstance(input_dim, bool) and not isinstance(latent_dim, bool)
        assert {p.dtype for p in model.parameters()} == {dtype or torch.get_default_dtype()}


SMALL_VAE = vaetut.VAE(3, 2, (4,), output="linear", dtype=torch.float64)
SMALL_AE = vaetut.Autoencoder(3, 2, (4,), output="linear", dtype=torch.float64)


@FAST
@given(ANY)
def test_encode_decode(x):
    for model in (SMALL_VAE, SMALL_AE):
        ok, code = call(model.encode, x, names=("y", "images"))
        if ok:
            assert is_batch(x) and x.shape[1] == 3 and x.shape[0] > 0 or is_batch(x) and x.shape[1] == 3
            mu = code[0] if isinstance(code, tuple) else code
            assert mu.shape == (x.shape[0], 2) and mu.dtype == torch.float64
            assert torch.isfinite(mu[torch.isfinite(x).all(1)]).all()
        ok, out = call(model.decode, x, names=("z",))
        if ok:
            assert is_batch(x) and x.shape[1] == 2 and out.shape == (x.shape[0], 3)


# --- training ------------------------------------------------------------------------------------

GOOD_IMAGES = torch.rand(6, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
IMAGES = st.one_of(st.just(GOOD_IMAGES), st.just(GOOD_IMAGES.float()), ANY)
OPTION = st.one_of(st.just(None), JUNK)


@SLOW
@given(
    IMAGES,
    st.one_of(st.just(1), DIMS),
    st.one_of(st.just(4), DIMS),
    st.one_of(st.just(1.0), JUNK),
    st.one_of(st.just("mse"), JUNK),
    st.one_of(st.just(None), st.just(("mask", 0.5)), st.just(("blur", 1)), JUNK),
)
def test_fit_and_evaluate(images, epochs, batch_size, beta, cost, corruption):
    model = vaetut.VAE(3, 2, (4,), output="linear", dtype=torch.float64)
    names = ("images", "epochs", "batch_size", "beta", "cost", "corruption", "kind", "level")
    ok, history = call(
        vaetut.fit,
        model,
        images,
        epochs=epochs,
        batch_size=batch_size,
        beta=beta,
        cost=cost,
        corruption=corruption,
        progress=False,
        names=names,
    )
    if ok:
        assert is_batch(images) and images.shape[1] == 3 and len(history.loss) == epochs
    ok, metrics = call(
        vaetut.evaluate, model, images, batch_size=batch_size, beta=beta, cost=cost, corruption=corruption, names=names
    )
    if ok:
        assert set(metrics) >= {"loss", "C", "U", "S", "V"} and all(isinstance(v, float) for v in metrics.values())
        assert all(math.isfinite(metrics[k]) for k in ("C", "U", "S", "V"))


@FAST
@given(
    ANY,
    st.one_of(st.sampled_from(["mask", "gaussian", "salt_pepper", "blur"]), JUNK),
    st.one_of(st.floats(-1, 2), JUNK),
)
def test_corrupt(y, kind, level):
    ok, out = call(
        vaetut.corrupt, y, kind, level, generator=torch.Generator().manual_seed(0), names=("y", "kind", "level")
    )
    if ok:
        assert isinstance(y, torch.Tensor) and out.shape == y.shape and out.dtype == y.dtype
        finite = torch.isfinite(y) & (y >= 0) & (y <= 1)
        assert ((out[finite] >= 0) & (out[finite] <= 1)).all()


@FAST
@given(
    st.one_of(st.sampled_from(["embedded", "full", "EMBEDDED"]), JUNK),
    st.one_of(st.sampled_from(["train", "test", "validation"]), JUNK),
    st.sampled_from([None, torch.float32, torch.int64, "float32"]),
)
def test_load_mnist_arguments(tmp_path_factory, source, split, dtype):
    if isinstance(source, str) and source == "full" and split in ("train", "test"):
        return  # would need the network; the download has its own tests
    ok, data = call(
        vaetut.load_mnist,
        source,
        split,
        root=tmp_path_factory.mktemp("c"),
        dtype=dtype,
        names=("source", "split", "dtype", "root"),
    )
    if ok:
        images, labels = data
        assert images.shape == (4000 if split == "train" else 1000, 784) and labels.shape == (images.shape[0],)
        assert images.dtype == (dtype or torch.get_default_dtype())


@FAST
@given(
    st.one_of(st.integers(-1, 5), DIMS),
    st.one_of(st.lists(st.floats(-1, 3), max_size=3), JUNK, ANY),
    st.one_of(st.integers(0, 3), JUNK),
)
def test_synthetic_gaussian(n, variances, seed):
    ok, y = call(vaetut.synthetic_gaussian, n, variances, seed, names=("n", "variances", "seed"))
    if ok:
        assert is_batch(y) and y.shape[0] == n and torch.isfinite(y).all()


@FAST
@given(
    st.one_of(st.lists(st.floats(0.1, 3), min_size=1, max_size=3), JUNK, ANY),
    st.one_of(st.lists(st.floats(0, 3), min_size=1, max_size=3), JUNK, st.just("12")),
    st.one_of(st.none(), DIMS),
)
def test_linear_vae_theory(variances, betas, latent_dim):
    ok, table = call(
        experiments.linear_vae_theory, variances, betas, latent_dim, names=("variances", "betas", "beta", "latent_dim")
    )
    if ok:
        assert list(table.columns) == list(experiments.COLUMNS) and len(table) == len(betas)


BAD_SWEEP = st.sampled_from(
    [
        {"betas": "12"},
        {"betas": []},
        {"betas": [1, -1]},
        {"betas": [math.nan]},
        {"betas": [1, 1]},
        {"betas": None},
        {"latent_dim": 0},
        {"latent_dim": True},
        {"hidden_dims": "4"},
        {"epochs": 0},
        {"epochs": 1.5},
        {"batch_size": 0},
        {"lr": -1.0},
        {"lr": math.nan},
        {"seed": -1},
        {"seed": "0"},
        {"threads": 0},
        {"threads": 10**6},
        {"n_jobs": 0},
        {"n_jobs": True},
        {"output": "relu"},
        {"cost": "l1"},
        {"dtype": torch.int64},
        {"train": torch.zeros(3, 784, dtype=torch.int64)},
        {"test": torch.rand(3, 5)},
        {"train": torch.full((3, 784), math.nan)},
    ]
)


@FAST
@given(BAD_SWEEP)
def test_beta_sweep_rejects_bad_arguments_before_training(monkeypatch_module, bad):
    kwargs = {"epochs": 1, "n_jobs": 1, **bad}
    betas = kwargs.pop("betas", [1.0])
    with pytest.raises((ValueError, TypeError)) as info:
        experiments.beta_sweep(betas, **kwargs)
    named_error(info.value, *(["beta", "betas"] if "betas" in bad else list(bad)))


@FAST
@given(st.one_of(st.integers(-2, 2**33), JUNK), st.one_of(st.integers(-1, 3), st.just(10**6), JUNK))
def test_reproducible(seed, threads):
    before = torch.get_num_threads()
    state = torch.random.get_rng_state()
    try:
        ok, _ = call(vaetut.reproducible, seed, threads, names=("seed", "threads"))
        if not ok:  # a rejected call changes nothing
            assert torch.get_num_threads() == before and torch.equal(torch.random.get_rng_state(), state)
    finally:
        torch.set_num_threads(before)
        torch.random.set_rng_state(state)


@pytest.fixture(scope="module")
def monkeypatch_module():
    """beta_sweep must raise before any training: make training itself fail loudly."""
    mp = pytest.MonkeyPatch()

    def trained(*args, **kwargs):
        raise AssertionError("beta_sweep started training although an argument was bad")

    mp.setattr(experiments, "fit", trained)
    yield
    mp.undo()


@FAST
@given(st.sampled_from(["vae", None, 3, torch.nn.Identity(), torch.nn.Linear(3, 3), torch.nn.Sequential()]))
def test_fit_and_evaluate_reject_what_is_not_a_model(model):
    for fn, kwargs in ((vaetut.evaluate, {}), (vaetut.fit, {"epochs": 1, "progress": False})):
        ok, _ = call(fn, model, GOOD_IMAGES, names=("model",), **kwargs)
        assert not ok
