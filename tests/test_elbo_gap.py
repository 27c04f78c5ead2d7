"""The committed ELBO-gap table: two of its cells recomputed from scratch, its shape, and bad arguments."""

import math

import pytest

import vaetut
from vaetut import elbo_gap


def test_the_committed_table_has_five_seeds_and_consistent_columns():
    table = vaetut.load_elbo_gap()
    assert list(table.index) == [0, 1, 2, 3, 4]
    for k in elbo_gap.SAMPLES:
        gap = table[f"log p(y), K={k}"] - table["ELBO"]
        assert (gap - table[f"gap, K={k}"]).abs().max() < 1e-12
    # log p(y) estimates rise with K, and the ELBO is on a subset of the held-out −ELBO's images
    assert (table["log p(y), K=1000"] > table["log p(y), K=100"]).all()
    assert (table["held-out -ELBO"] > table["training -ELBO"]).all()


@pytest.mark.slow
def test_two_cells_of_the_committed_table_recomputed():
    """Seed 1, retrained (about 20 s on one thread): its ELBO and its K = 10 estimate match the committed table.

    Compared to 1e-6 nats, far below the two printed decimals: float64 training is the same to the
    printed digits on any CPU, not bit for bit on every SIMD width.
    """
    committed = vaetut.load_elbo_gap()
    row = elbo_gap.elbo_gap(1, samples=(10,))
    for column in ("ELBO", "log p(y), K=10", "gap, K=10", "held-out -ELBO"):
        assert math.isclose(row[column], committed.loc[1, column], rel_tol=0, abs_tol=1e-6), column


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: elbo_gap.elbo_gap(-1), "seed must be an integer"),
        (lambda: elbo_gap.elbo_gap(0, images=0), "images must be an integer from 1 to 1000"),
        (lambda: elbo_gap.elbo_gap(0, samples=(0,)), "samples must be positive integers"),
        (lambda: elbo_gap.elbo_gap_table(seeds=(1, 1)), "seeds must be distinct"),
    ],
)
def test_bad_arguments_are_named_before_any_training(call, message):
    with pytest.raises(ValueError, match=message):
        call()
