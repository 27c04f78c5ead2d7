"""The β table is the same on any CPU, and has the properties the book explains.

`beta_sweep()` with its defaults is the table of chapter 4, trained in float64. The stored
reference, `tests/data/beta_table_reference.csv`, was written natively on an AVX2 x86 CPU
(torch 2.13.0 CPU). Here rows of it are recomputed at full epochs in a subprocess that runs
PyTorch's generic kernels (``ATEN_CPU_CAPABILITY=default``), which sum in another order, as
another CPU would; they must agree to rtol 1e-6, and so at every printed digit. Chapter 4
prints the whole table natively and nbval compares it with the committed output, so no sweep
is repeated here. The properties the chapter explains are checked on the reference, each
against its own oracle: the β = 0 row is the data's own spread computed with plain torch, the
trends are monotone, and the ratio −⟨V⟩/2(⟨U⟩ + ⟨S⟩) is close to 1. (A trained linear VAE
against the closed form of `linear_vae_theory` is chapter 4's own check: its cell asserts it.)

To rewrite the reference after a deliberate change to the experiment:
    python -c "from vaetut.experiments import beta_sweep; beta_sweep().to_csv(
        'tests/data/beta_table_reference.csv', index=False, float_format='%.17g')"
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from vaetut import load_mnist
from vaetut.experiments import COLUMNS, SLIDES_BETAS, beta_sweep

REFERENCE = Path(__file__).parent / "data" / "beta_table_reference.csv"
TERMS = ["C", "U", "S", "V"]
CROSS_CPU_BETAS = (1.0, 3.0)  # the steepest fall of ⟨C⟩, and the largest energies


@pytest.fixture(scope="module")
def reference() -> pd.DataFrame:
    return pd.read_csv(REFERENCE)


@pytest.mark.slow
def test_rows_on_another_cpu_match_the_reference_to_every_printed_digit(reference, tmp_path):
    out = tmp_path / "rows.csv"
    code = (
        "import sys; from vaetut.experiments import beta_sweep; "
        f"beta_sweep({list(CROSS_CPU_BETAS)}, n_jobs=2).to_csv(sys.argv[1], index=False, float_format='%.17g')"
    )
    env = dict(os.environ, ATEN_CPU_CAPABILITY="default")
    subprocess.run([sys.executable, "-c", code, str(out)], env=env, check=True, timeout=600)
    rows = pd.read_csv(out)
    assert list(rows.columns) == list(COLUMNS) == list(reference.columns)
    expected = reference.set_index("beta").loc[list(CROSS_CPU_BETAS)].reset_index()
    np.testing.assert_allclose(rows.to_numpy(), expected.to_numpy(), rtol=1e-6, atol=0)
    pd.testing.assert_frame_equal(rows.round(4), expected.round(4), check_dtype=False)


def test_beta_zero_is_total_collapse(reference):
    # Setting the collapse needs no training: recompute that row here, natively.
    row = beta_sweep([0.0]).iloc[0]
    assert row["U"] == 0 and row["S"] == 0 and row["V"] == 0 and np.isnan(row["ratio"])
    # The decoder can only output the training mean: ⟨C⟩ is the held-out spread around it.
    y_train = load_mnist(split="train", dtype=torch.float64)[0]
    y_test = load_mnist(split="test", dtype=torch.float64)[0]
    spread = 0.5 * (y_test - y_train.mean(dim=0)).pow(2).sum(dim=1).mean().item()
    assert row["C"] == pytest.approx(spread, rel=1e-12)
    assert reference.iloc[0]["C"] == pytest.approx(spread, rel=1e-12)


def test_trends(reference):
    assert list(reference["beta"]) == list(SLIDES_BETAS)
    trained = reference[reference["beta"] >= 0.5]
    assert np.all(np.diff(trained["C"]) < 0), "⟨C⟩ must fall strictly as β grows"
    for column in ("U", "S"):
        assert np.all(np.diff(trained[column]) > 0), f"⟨{column}⟩ must rise strictly as β grows"
    assert np.all(np.diff(trained["V"]) < 0), "−⟨V⟩ must rise strictly as β grows"


def test_log_volume_is_twice_the_kl(reference):
    ratio = reference.loc[reference["beta"] >= 1, "ratio"]
    np.testing.assert_allclose(
        ratio, -reference["V"][ratio.index] / (2 * (reference["U"] + reference["S"])[ratio.index])
    )
    assert ratio.between(0.97, 1.03).all(), ratio.tolist()
