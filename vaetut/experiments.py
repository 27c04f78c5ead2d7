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
import os
import random
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from .data import load_mnist
from .energies import check_beta
from .models import VAE, check_dtype, positive_int
from .train import MAX_THREADS, _check_seed, check_images, evaluate, fit, reproducible

__all__ = ["beta_sweep", "linear_vae_theory", "COLUMNS", "SLIDES_BETAS"]

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


def _train_one(beta: float, train: torch.Tensor, test: torch.Tensor, options: dict) -> tuple[dict, dict]:
    """Train and evaluate the VAE of one β from a fresh seed; return its table row and its weights.

    Runs in a worker process or in the caller's: either way it starts from the same state
    (seeded, ``threads`` torch threads), so the row does not depend on the scheduling.
    """
    reproducible(options["seed"], options["threads"])
    sizes = (train.shape[1], options["latent_dim"], options["hidden_dims"])
    model = VAE(*sizes, options["output"], options["dtype"], options["cost"])
    fit(
        model,
        train,
        epochs=options["epochs"],
        batch_size=options["batch_size"],
        lr=options["lr"],
        seed=options["seed"],
        beta=beta,
        cost=options["cost"],
        progress=options["progress"],
    )
    m = evaluate(model, test, beta=beta, cost=options["cost"], seed=options["seed"])
    return _row(beta, m["C"], m["U"], m["S"], m["V"] + 0.0), model.state_dict()  # + 0.0: no -0.0 at collapse


def _caller_state():
    """Everything `_train_one` changes in the caller's process: the RNGs and torch's thread count."""
    return random.getstate(), np.random.get_state(), torch.random.get_rng_state(), torch.get_num_threads()


def _restore(state) -> None:
    python, numpy, torch_cpu, threads = state
    random.setstate(python)
    np.random.set_state(numpy)
    torch.random.set_rng_state(torch_cpu)
    torch.set_num_threads(threads)


def _in_workers(tasks: list[tuple], n_jobs: int) -> list[tuple[dict, dict]]:
    """Run `_train_one` on every task in ``n_jobs`` fresh interpreters (``python -m vaetut.experiments``).

    Worker k takes tasks k, k + n_jobs, …. Fresh interpreters, not forks: safe with OpenMP,
    the same on every OS, and independent of the caller's ``__main__`` (script or notebook).
    """
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parents[1]), *sys.path]))
    shares = [list(range(k, len(tasks), n_jobs)) for k in range(n_jobs)]
    with tempfile.TemporaryDirectory(prefix="vaetut-sweep-") as tmp:
        workers = []
        try:
            for k, share in enumerate(shares):
                task, result, log = (Path(tmp, f"{k}.{suffix}") for suffix in ("task", "result", "log"))
                torch.save([tasks[i] for i in share], task)
                with open(log, "wb") as stderr:
                    command = [sys.executable, "-m", "vaetut.experiments", str(task), str(result)]
                    workers.append((subprocess.Popen(command, stdin=subprocess.DEVNULL, stderr=stderr, env=env), log))
            for worker, log in workers:
                if worker.wait() != 0:
                    raise RuntimeError(f"a beta_sweep worker failed:\n{log.read_text(errors='replace')}")
        finally:
            for worker, _ in workers:
                worker.kill()
                worker.wait()
        results: list = [None] * len(tasks)
        for k, share in enumerate(shares):
            for i, result in zip(share, torch.load(Path(tmp, f"{k}.result"), weights_only=False)):
                results[i] = result
    return results


def beta_sweep(
    betas=SLIDES_BETAS,
    *,
    latent_dim: int = 20,
    hidden_dims=(400,),
    epochs: int = 20,
    batch_size: int = 100,
    lr: float = 1e-3,
    seed: int = 0,
    threads: int = 1,
    train: torch.Tensor | None = None,
    test: torch.Tensor | None = None,
    output: str = "linear",
    cost: str | None = None,
    progress: bool = False,
    return_models: bool = False,
    dtype: torch.dtype = torch.float64,
    n_jobs: int | None = None,
):
    """Train one VAE per β and return the table of held-out averages (columns `COLUMNS`), one row per β.

    Defaults: the embedded MNIST (4,000 train / 1,000 test images), an MLP with one
    hidden layer of 400, a linear output, C = ½‖y − ỹ‖² (``cost=None``: the cost matching
    the output, as for `vaetut.VAE`), and float64, so that the printed table is the same on
    any CPU. Your own ``train`` needs your own ``test``. Each β starts from the same seed with ``threads`` torch
    threads. β = 0 is total posterior collapse, set exactly (see `vaetut.train.fit`).

    ``n_jobs`` worker processes train the βs in parallel (None: one per core, at most one
    per β; 1: in this process). The table is identical for any ``n_jobs``. The caller's
    RNGs and thread count are left as they were. With ``return_models=True`` returns
    (table, {β: model}).
    """
    betas = _check_betas(betas)
    options = dict(
        latent_dim=positive_int("latent_dim", latent_dim),
        epochs=positive_int("epochs", epochs),
        batch_size=positive_int("batch_size", batch_size),
        threads=positive_int("threads", threads),
        seed=_check_seed(seed),
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
    n_jobs = min(os.cpu_count() or 1, len(betas)) if n_jobs is None else positive_int("n_jobs", n_jobs)
    n_jobs = min(n_jobs, len(betas))
    with torch.random.fork_rng(devices=[]):  # its initialisation draws: leave the caller's RNG alone
        VAE(1, options["latent_dim"], hidden_dims, output, cost=cost)  # raises now on bad arguments, before training
    train = load_mnist(split="train", dtype=dtype)[0] if train is None else check_images(train, name="train")
    test = load_mnist(split="test", dtype=dtype)[0] if test is None else check_images(test, train.shape[1], "test")
    train, test = train.to(options["dtype"]), test.to(options["dtype"])

    state = _caller_state()
    try:
        if n_jobs == 1:
            results = [_train_one(beta, train, test, options) for beta in betas]
        else:
            results = _in_workers([(beta, train, test, options) for beta in betas], n_jobs)
        table = pd.DataFrame([row for row, _ in results], columns=list(COLUMNS))
        models = {}
        for beta, (_, weights) in zip(betas, results):
            models[beta] = VAE(train.shape[1], options["latent_dim"], hidden_dims, output, options["dtype"], cost)
            models[beta].load_state_dict(weights)
    finally:
        _restore(state)
    return (table, models) if return_models else table


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


if __name__ == "__main__":  # a worker of `_in_workers`: python -m vaetut.experiments TASK RESULT
    torch.save([_train_one(*task) for task in torch.load(sys.argv[1], weights_only=False)], sys.argv[2])
