"""The shipped β table over seeds: its rows are `beta_sweep`'s, and the spread is computed right.

`vaetut/_data/beta_table_seeds.csv` was written natively by
``python -m vaetut beta-table --seeds 0 1 2 3 4 --csv PATH`` (one row per (β, seed), full float
precision). The slow test trains two of its (β, seed) rows
again and compares them at every printed digit and to rtol 1e-6: bit-equal on the machine that
wrote it, while another CPU sums in another order (see tests/test_beta_table.py); the seed-0
rows must match `tests/data/beta_table_reference.csv`, written on another machine.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from vaetut.experiments import SLIDES_BETAS, beta_sweep
from vaetut.spread import SEED_COLUMNS, SEEDS, beta_table_seeds, meaningful_decimals, seed_spread, typeset_spread

REFERENCE = Path(__file__).parent / "data" / "beta_table_reference.csv"
RECOMPUTED = ((1.0, 3), (2.5, 1))  # (β, seed): two seeds other than 0, at the steep fall of ⟨C⟩ and far from it


@pytest.fixture(scope="module")
def rows() -> pd.DataFrame:
    return beta_table_seeds()


def test_one_row_per_beta_and_seed(rows):
    assert list(rows.columns) == list(SEED_COLUMNS)
    assert len(rows) == len(SLIDES_BETAS) * len(SEEDS)
    assert sorted(zip(rows["beta"], rows["seed"])) == sorted((b, s) for b in SLIDES_BETAS for s in SEEDS)
    assert rows[["C", "U", "S", "V"]].notna().all().all()


def test_seed_zero_is_the_chapter_table(rows):
    reference = pd.read_csv(REFERENCE)
    seed0 = rows[rows["seed"] == 0].drop(columns="seed").reset_index(drop=True)
    np.testing.assert_allclose(seed0.to_numpy(), reference.to_numpy(), rtol=1e-9, atol=1e-12)


def test_the_collapse_row_is_the_same_for_every_seed(rows):
    collapsed = rows[rows["beta"] == 0]
    assert collapsed["C"].nunique() == 1 and (collapsed[["U", "S", "V"]] == 0).all().all()


@pytest.mark.slow
def test_two_rows_trained_again_match_the_shipped_data(rows):
    shipped = rows.set_index(["beta", "seed"])
    for beta, seed in RECOMPUTED:
        row = beta_sweep([beta], seed=seed, n_jobs=1).iloc[0]
        expected = shipped.loc[(beta, seed)]
        for column in ("C", "U", "S", "V", "ratio"):
            assert round(row[column], 3) == round(expected[column], 3), (beta, seed, column)
            assert row[column] == pytest.approx(expected[column], rel=1e-6), (beta, seed, column)


def test_seed_spread_against_numpy():
    frame = pd.DataFrame(
        {"beta": [1.0, 1.0, 1.0, 2.0, 2.0, 2.0], "seed": [0, 1, 2] * 2, "C": [1.0, 2.0, 4.0, 5.0, 5.0, 8.0]}
    )
    spread = seed_spread(frame, columns=("C",))
    assert list(spread.columns) == [("C", "mean"), ("C", "sd")]
    np.testing.assert_allclose(spread[("C", "mean")], [7 / 3, 6.0])
    np.testing.assert_allclose(spread[("C", "sd")], [np.std([1, 2, 4], ddof=1), np.std([5, 5, 8], ddof=1)])
    with pytest.raises(ValueError, match="two seeds"):
        seed_spread(frame[frame["seed"] == 0], columns=("C",))
    with pytest.raises(ValueError, match="missing columns"):
        seed_spread(frame, columns=("U",))
    with pytest.raises(TypeError, match="rows"):
        seed_spread(frame.to_numpy())


def test_typeset_spread_shows_minus_v_and_mean_pm_sd():
    frame = pd.DataFrame({"beta": [1.0, 1.0], "seed": [0, 1], "C": [1.0, 2.0], "V": [-4.0, -6.0]})
    shown = typeset_spread(seed_spread(frame, columns=("C", "V")))
    assert list(shown.columns) == ["⟨C⟩", "−⟨V⟩"] and shown.index.name == "β"
    assert shown.loc[1.0, "⟨C⟩"] == "1.500 ± 0.707" and shown.loc[1.0, "−⟨V⟩"] == "5.000 ± 1.414"


def test_meaningful_decimals():
    # a decimal is meaningful when its unit is at least the seed-to-seed sd
    np.testing.assert_array_equal(meaningful_decimals([0.5, 0.05, 0.01, 0.004, 0.0, 3.0]), [0, 1, 2, 2, 3, 0])
    with pytest.raises(ValueError, match="sd"):
        meaningful_decimals([-1.0])
