"""PCA against an eigendecomposition of the covariance, and the committed seed spread of chapter 1 recomputed."""

import numpy as np
import pytest
import torch

from vaetut import load_mnist, reconstruction_cost
from vaetut.pca import ae_against_pca, ae_pca_seeds, pca_reconstruct, principal_directions


@pytest.fixture(scope="module")
def mnist():
    return load_mnist(split="train", dtype=torch.float64)[0], load_mnist(split="test", dtype=torch.float64)[0]


def test_pca_is_the_projection_onto_the_top_eigenvectors_of_the_covariance(mnist):
    y_train, y_test = mnist
    y_mean, directions = principal_directions(y_train)
    centred = (y_train - y_train.mean(dim=0)).numpy()
    eigenvalues, eigenvectors = np.linalg.eigh(centred.T @ centred / len(centred))  # ascending
    for d in (2, 16):
        top = eigenvectors[:, ::-1][:, :d]  # (784, d)
        oracle = y_train.mean(dim=0).numpy() + (y_test.numpy() - y_train.mean(dim=0).numpy()) @ top @ top.T
        np.testing.assert_allclose(pca_reconstruct(y_test, y_mean, directions, d).numpy(), oracle, atol=1e-9)
        # Eckart & Young: on the training images the cost is half the variance of the discarded directions.
        c_train = reconstruction_cost(y_train, pca_reconstruct(y_train, y_mean, directions, d)).mean().item()
        assert c_train == pytest.approx(0.5 * eigenvalues[::-1][d:].sum(), rel=1e-9)


def test_clipping_to_the_pixel_range_never_raises_the_cost(mnist):
    y_train, y_test = mnist
    y_mean, directions = principal_directions(y_train)
    plain = reconstruction_cost(y_test, pca_reconstruct(y_test, y_mean, directions, 16))
    clipped = reconstruction_cost(y_test, pca_reconstruct(y_test, y_mean, directions, 16, clip=True))
    assert (clipped <= plain + 1e-12).all() and (clipped < plain).any()


def test_the_committed_table_has_every_cell_and_the_pca_columns_recompute(mnist):
    table = ae_pca_seeds()
    assert list(table.columns) == ["D", "seed", "C_ae", "C_pca", "C_pca_clipped"]
    assert sorted(zip(table["D"], table["seed"])) == [(d, s) for d in (2, 16) for s in range(5)]
    y_train, y_test = mnist
    y_mean, directions = principal_directions(y_train)
    for d, rows in table.groupby("D"):
        for clip, column in ((False, "C_pca"), (True, "C_pca_clipped")):
            c = reconstruction_cost(y_test, pca_reconstruct(y_test, y_mean, directions, d, clip=clip)).mean().item()
            np.testing.assert_allclose(rows[column], c, rtol=1e-12)


@pytest.mark.slow
def test_two_cells_of_the_committed_table_recompute():
    """(D = 2, seed 1) and (D = 16, seed 3) trained afresh equal the committed rows (float64: to 1e-9 on any CPU)."""
    committed = ae_pca_seeds().set_index(["D", "seed"])
    fresh = ae_against_pca(seeds=(1, 3), cells=[(2, 1), (16, 3)]).set_index(["D", "seed"])
    assert list(fresh.index) == [(2, 1), (16, 3)]
    for cell in fresh.index:
        np.testing.assert_allclose(fresh.loc[cell].to_numpy(), committed.loc[cell].to_numpy(), rtol=1e-9)


def test_bad_arguments_fail_before_any_training():
    with pytest.raises(ValueError, match="seeds"):
        ae_against_pca(seeds=())
    with pytest.raises(ValueError, match="cells"):
        ae_against_pca(seeds=(0,), cells=[(3, 0)])
    with pytest.raises(ValueError, match="latent_dim"):
        pca_reconstruct(torch.zeros(1, 4), torch.zeros(4), torch.eye(4), 5)


def test_the_documented_command_parses_its_options(capsys):
    from vaetut.pca import main

    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "--seeds" in capsys.readouterr().out
