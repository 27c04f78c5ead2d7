"""Experiments: the β sweep behind the slides' table, and its closed form for a linear VAE.

The table's columns (`COLUMNS`: beta, C, U, S, V, ratio) are held-out averages ⟨·⟩ of C,
U, S and V (V = Σ_d log σ_d², the log volume of a bubble, ≤ 0; the slides print −⟨V⟩,
and so does `vaetut.plots.typeset`), with ζ sampled from each bubble as in the loss, and the ratio
−⟨V⟩ / 2(⟨U⟩ + ⟨S⟩), which is 1 when the bubbles together fill the unit prior
(⟨μ_d²⟩ + ⟨σ_d²⟩ = 1 in every latent dimension): then ⟨U⟩ + ⟨S⟩ = −½⟨V⟩ exactly, as
averages over the data (not image by image).

The closed form is that of a linear VAE on zero-mean Gaussian data, the probabilistic
PCA of Tipping & Bishop (1999) with the observation noise fixed at s² = 1/β; see
Lucas, Tucker, Grosse & Norouzi (2019), *Don't Blame the ELBO! A Linear VAE Perspective
on Posterior Collapse*, NeurIPS.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable

import numpy as np
import pandas as pd
import torch

from .data import load_mnist
from .energies import check_beta
from .models import VAE, check_dtype, positive_int
from .parallel import GLOBAL_RNG, Job, WorkerDied, caller_state, check_engine, fit_many, restore, run
from .train import MAX_THREADS, _check_seed, check_images, evaluate, fit, reproducible

__all__ = ["beta_sweep", "fit_many", "Job", "WorkerDied", "linear_vae_theory", "trainings", "COLUMNS", "SLIDES_BETAS"]

SLIDES_BETAS = (0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
COLUMNS = ("beta", "C", "U", "S", "V", "ratio")


def _row(beta: float, c: float, u: float, s: float, v: float) -> dict[str, float]:
    kl = u + s
    ratio = -v / (2 * kl) if kl > 0 else math.nan  # 0/0 at total collapse
    return dict(zip(COLUMNS, (beta, c, u, s, v, ratio)))


def _check_betas(betas) -> list[float]:
    zero_d = isinstance(betas, (torch.Tensor, np.ndarray)) and betas.ndim == 0  # Iterable, yet not iterable
    if isinstance(betas, (str, bytes)) or not isinstance(betas, Iterable) or zero_d:
        raise TypeError(f"betas must be a sequence of numbers, got {betas!r}")
    betas = [check_beta(b) for b in betas]
    if not betas:
        raise ValueError("betas must not be empty")
    if len(set(betas)) != len(betas):
        raise ValueError(f"betas must not repeat a value, got {betas}")
    return betas


def _check_seeds(seed, seeds) -> list[int] | None:
    """The seeds to train with: ``seeds`` (checked, no repeats) or None when one ``seed`` is asked for."""
    seed = _check_seed(seed)
    if seeds is None:
        return None
    if seed != 0:
        raise ValueError("give seed (one training per β) or seeds (one per β and seed), not both")
    if isinstance(seeds, (str, bytes)) or not isinstance(seeds, Iterable):
        raise TypeError(f"seeds must be a sequence of integers, got {seeds!r}")
    seeds = [_check_seed(s) for s in seeds]
    if not seeds:
        raise ValueError("seeds must not be empty")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must not repeat a value, got {seeds}")
    return seeds


def _train_one(data: tuple, beta: float, seed: int, options: dict) -> tuple[dict, dict]:
    """Train and evaluate the VAE of one (β, seed) from that seed; return its table row and its weights.

    Runs in a worker process (or a Dask worker's thread) or in the caller's: either way it starts
    from the same state (seeded, ``threads`` torch threads), so the row does not depend on the scheduling.
    """
    train, test = data
    with GLOBAL_RNG:  # the initial weights come from torch's global RNG
        reproducible(seed, options["threads"])
        sizes = (train.shape[1], options["latent_dim"], options["hidden_dims"])
        model = VAE(*sizes, options["output"], options["dtype"], options["cost"])
    torch.set_num_threads(options["threads"])
    fit(
        model,
        train,
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        lr=options["lr"],
        seed=seed,
        beta=beta,
        cost=options["cost"],
        progress=options["progress"],
    )
    m = evaluate(model, test, beta=beta, cost=options["cost"], seed=seed)
    return _row(beta, m["C"], m["U"], m["S"], m["V"] + 0.0), model.state_dict()  # + 0.0: no -0.0 at collapse


def beta_sweep(
    betas=SLIDES_BETAS,
    *,
    latent_dim: int = 20,
    hidden_dims=(400,),
    epochs: int = 20,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    seeds=None,
    threads: int = 1,
    train: torch.Tensor | None = None,
    test: torch.Tensor | None = None,
    output: str = "linear",
    cost: str | None = None,
    progress: bool = False,
    return_models: bool = False,
    dtype: torch.dtype = torch.float64,
    n_jobs: int | None = None,
    scheduler=None,
):
    """Train one VAE per β and return the table of held-out averages (columns `COLUMNS`), one row per β.

    Defaults: the embedded MNIST (4,000 train / 1,000 test images), an MLP with one
    hidden layer of 400, a linear output, C = ½‖y − ỹ‖² (``cost=None``: the cost matching
    the output, as for `vaetut.VAE`), and float64, so that the printed table is the same on
    any CPU. Each β starts from ``seed`` with ``threads`` torch
    threads. β = 0 is total posterior collapse, set exactly (see `vaetut.train.fit`).
    ``train`` and ``test`` go together (both None: the embedded pair).

    ``seeds=(0, 1, 2, 3, 4)`` trains every (β, seed) pair instead: one row per pair, β-major,
    with a ``seed`` column after ``beta``; the row of (β, s) equals that of
    ``beta_sweep([β], seed=s)`` exactly.

    ``n_jobs`` local worker processes train in parallel (None: one per core, at most one per
    training; 1: in this process), or ``scheduler``, the address of a running Dask scheduler
    (``"tcp://HOST:PORT"``, needs ``pip install 'vaetut[dask]'``), runs them on its cluster (see
    `vaetut.parallel.run`). The table is identical for any of them. The caller's RNGs and
    thread count are left as they were. With ``return_models=True`` returns (table, {β: model}),
    or (table, {(β, seed): model}) with ``seeds``.
    """
    betas = _check_betas(betas)
    many = _check_seeds(seed, seeds)
    options = dict(
        latent_dim=positive_int("latent_dim", latent_dim),
        epochs=positive_int("epochs", epochs),
        batch_size=positive_int("batch_size", batch_size),
        threads=positive_int("threads", threads),
        dtype=check_dtype(dtype),
        output=output,
        cost=cost,
        progress=bool(progress),
        hidden_dims=hidden_dims,
        lr=lr,
    )
    if options["threads"] > MAX_THREADS:
        raise ValueError(f"threads must be at most {MAX_THREADS}, got {threads}")
    if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not math.isfinite(lr) or lr <= 0:
        raise ValueError(f"lr must be a finite number > 0, got {lr!r}")
    if train is not None and test is None:
        raise ValueError("test must be given with train: the held-out images to score your own data on")
    if test is not None and train is None:
        raise ValueError("train must be given with test: train and test go together (both None: the embedded MNIST)")
    pairs = [(beta, s) for beta in betas for s in (many or [_check_seed(seed)])]
    check_engine(n_jobs, scheduler, len(pairs))
    with torch.random.fork_rng(devices=[]):  # its initialisation draws: leave the caller's RNG alone
        VAE(1, options["latent_dim"], hidden_dims, output, cost=cost)  # raises now on bad arguments, before training
    train = load_mnist(split="train", dtype=dtype)[0] if train is None else check_images(train, name="train")
    test = load_mnist(split="test", dtype=dtype)[0] if test is None else check_images(test, train.shape[1], "test")
    train, test = train.to(options["dtype"]), test.to(options["dtype"])

    state = caller_state()
    try:
        tasks = [(beta, s, options) for beta, s in pairs]
        results = run(_train_one, tasks, (train, test), n_jobs=n_jobs, scheduler=scheduler)
        table = pd.DataFrame([row for row, _ in results], columns=list(COLUMNS))
        if many is not None:
            table.insert(1, "seed", [s for _, s in pairs])
        models = {}
        for (beta, s), (_, weights) in zip(pairs, results):
            model = VAE(train.shape[1], options["latent_dim"], hidden_dims, output, options["dtype"], cost)
            model.load_state_dict(weights)
            models[beta if many is None else (beta, s)] = model
    finally:
        restore(state)
    return (table, models) if return_models else table


def trainings(betas, seeds=None) -> int:
    """How many trainings a sweep runs: β = 0 is set, not trained."""
    return sum(1 for beta in betas if beta != 0) * (len(seeds) if seeds else 1)


def linear_vae_theory(variances, betas=SLIDES_BETAS, latent_dim: int | None = None) -> pd.DataFrame:
    """The β table of the optimal linear VAE on zero-mean Gaussian data with these per-direction variances.

    With s² = 1/β, a direction of variance λ is *active* when λ > s² (and it is among the
    ``latent_dim`` largest): its latent dimension then has σ² = s²/λ and ⟨μ²⟩ = 1 − s²/λ,
    so C = s²/2, U = ½(1 − s²/λ), S = ½(s²/λ − log(s²/λ) − 1), V = log(s²/λ). An inactive
    direction is collapsed: C = λ/2 and U = S = V = 0. Columns as in `beta_sweep`.
    """
    try:
        lam = np.asarray(variances, dtype=np.float64)
    except (TypeError, ValueError):
        raise TypeError(f"variances must be a 1-D sequence of numbers, got {variances!r}") from None
    if lam.ndim != 1 or lam.size == 0 or not np.all(np.isfinite(lam)) or np.any(lam <= 0):
        raise ValueError(f"variances must be a non-empty 1-D sequence of finite values > 0, got {variances!r}")
    lam = np.sort(lam)[::-1]
    latent_dim = lam.size if latent_dim is None else positive_int("latent_dim", latent_dim)
    rows = []
    for beta in _check_betas(betas):
        s2 = math.inf if beta == 0 else 1.0 / beta
        active = (lam > s2) & (np.arange(lam.size) < latent_dim)
        ratio = np.where(active, s2 / lam, 1.0)  # σ² of each direction's latent dimension
        c = 0.5 * np.where(active, s2, lam).sum()
        u = 0.5 * (1 - ratio).sum()
        s = 0.5 * (ratio - np.log(ratio) - 1).sum()
        rows.append(_row(beta, c, u, s, np.log(ratio).sum() + 0.0))  # + 0.0: no -0.0 at collapse
    return pd.DataFrame(rows, columns=list(COLUMNS))
