"""The seed spread of the β table: which of its printed digits another seed would keep.

The table of `vaetut.experiments.beta_sweep` is bit-reproducible for one seed, but the seed
chooses the initial weights and the order of the batches, and another seed moves every
entry. The package ships the table for the seeds `SEEDS`, one row per (β, seed), as
``vaetut/_data/beta_table_seeds.csv`` (columns beta, seed, C, U, S, V, ratio; V = ⟨V⟩ ≤ 0),
so that a reader sees the spread without training 30 VAEs. It was written by one command,

    python -m vaetut beta-table --seeds 0 1 2 3 4 --csv vaetut/_data/beta_table_seeds.csv

which is `beta_sweep(seeds=SEEDS)` with its defaults; its row for (β, seed) is
`beta_sweep([β], seed=seed)`'s, exactly.
"""

from __future__ import annotations

from importlib import resources

import numpy as np
import pandas as pd

from .experiments import COLUMNS

__all__ = ["SEEDS", "beta_table_seeds", "meaningful_decimals", "seed_spread", "typeset_spread"]

SEEDS = (0, 1, 2, 3, 4)
DATA = "beta_table_seeds.csv"
SEED_COLUMNS = ("beta", "seed", *COLUMNS[1:])  # beta, seed, C, U, S, V, ratio


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
    return shown.where(means.notna(), "—").rename_axis("β")  # —: undefined, as the ratio at collapse


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
