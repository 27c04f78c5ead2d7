"""The seed spread of the β table: which of its printed digits another seed would keep.

The table of `vaetut.experiments.beta_sweep` is bit-reproducible for one seed, but the seed
chooses the initial weights and the order of the batches, and another seed moves every
entry. The package ships the table for the seeds `SEEDS`, one row per (β, seed), as
``vaetut/_data/beta_table_seeds.csv`` (columns beta, seed, C, U, S, V, ratio; V = ⟨V⟩ ≤ 0),
so that a reader sees the spread without training 30 VAEs. It was written by one command,
``python -m vaetut.spread vaetut/_data/beta_table_seeds.csv``, which runs `beta_sweep` with its
defaults once per seed; its row for (β, seed) is `beta_sweep([β], seed=seed)`.
"""

from __future__ import annotations

import sys
from importlib import resources

import numpy as np
import pandas as pd

from .experiments import COLUMNS, beta_sweep

__all__ = ["SEEDS", "beta_table_seeds", "meaningful_decimals", "seed_spread", "sweep_seeds", "typeset_spread"]

SEEDS = (0, 1, 2, 3, 4)
DATA = "beta_table_seeds.csv"
SEED_COLUMNS = ("beta", "seed", *COLUMNS[1:])  # beta, seed, C, U, S, V, ratio


def sweep_seeds(seeds=SEEDS, *, n_jobs: int | None = None, **options) -> pd.DataFrame:
    """`beta_sweep` once per seed: one row per (β, seed), columns `SEED_COLUMNS`, βs within each seed.

    options: any other keyword of `beta_sweep` (betas, epochs, ...), the same for every seed.
    """
    seeds = list(seeds)
    if not seeds or len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be a non-empty sequence without repeats, got {seeds}")
    tables = []
    for seed in seeds:
        table = beta_sweep(seed=seed, n_jobs=n_jobs, **options)
        table.insert(1, "seed", seed)
        tables.append(table)
    return pd.concat(tables, ignore_index=True)


def beta_table_seeds() -> pd.DataFrame:
    """The shipped β table over the seeds `SEEDS` (columns `SEED_COLUMNS`), read from the package's data."""
    with resources.files("vaetut").joinpath("_data", DATA).open("r", encoding="utf-8") as f:
        return pd.read_csv(f)


def seed_spread(rows: pd.DataFrame, columns=("C", "U", "S", "V", "ratio")) -> pd.DataFrame:
    """Mean and sample standard deviation (ddof = 1) over the seeds of each column, one row per β.

    rows: one row per (β, seed), as `beta_table_seeds`. Columns of the result: a MultiIndex
    (column, "mean" | "sd"); index: β.
    """
    if not isinstance(rows, pd.DataFrame):
        raise TypeError(f"rows must be a pandas DataFrame, got {type(rows).__name__}")
    missing = [c for c in ("beta", "seed", *columns) if c not in rows.columns]
    if missing:
        raise ValueError(f"rows is missing columns {missing}; got {list(rows.columns)}")
    counts = rows.groupby("beta")["seed"].nunique()
    if (counts < 2).any():
        raise ValueError(f"rows needs at least two seeds per beta for a spread, got {counts.to_dict()}")
    grouped = rows.groupby("beta")[list(columns)]
    spread = pd.concat({"mean": grouped.mean(), "sd": grouped.std(ddof=1)}, axis=1)
    return spread.swaplevel(axis=1)[list(columns)]


def typeset_spread(spread: pd.DataFrame, decimals: int = 3) -> pd.DataFrame:
    """`seed_spread` as the β table is shown: "mean ± sd" strings, labels ⟨C⟩ … (`vaetut.plots.typeset`), −⟨V⟩."""
    from .plots import typeset

    means = typeset(spread.xs("mean", axis=1, level=1)).round(decimals)
    sds = typeset(spread.xs("sd", axis=1, level=1)).abs().round(decimals)  # the sd of −V is that of V
    shown = means.map(lambda x: f"{x:.{decimals}f}") + " ± " + sds.map(lambda x: f"{x:.{decimals}f}")
    return shown.rename_axis("β")


def meaningful_decimals(sd) -> np.ndarray:
    """How many decimals of a value with this seed-to-seed sd are meaningful: those whose unit is at least sd.

    sd 0.05 → 1 (the first decimal holds, the second does not), sd 0.004 → 2, sd 0 → 3
    (the table's printed precision: a value set exactly, such as collapse at β = 0).
    """
    sd = np.asarray(sd, dtype=np.float64)
    if np.any(~np.isfinite(sd)) or np.any(sd < 0):
        raise ValueError(f"sd must hold finite values >= 0, got {sd!r}")
    with np.errstate(divide="ignore"):
        decimals = np.floor(-np.log10(sd))
    return np.clip(decimals, 0, 3).astype(int)


if __name__ == "__main__":  # python -m vaetut.spread PATH: write the shipped data
    if len(sys.argv) != 2:
        sys.exit("usage: python -m vaetut.spread PATH (e.g. vaetut/_data/beta_table_seeds.csv)")
    sweep_seeds().to_csv(sys.argv[1], index=False, float_format="%.17g")
