"""plots.quantile_plane: each code's decoded image lands in the tile of its quantile levels; bad grids are named."""

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

from vaetut import plots  # noqa: E402

LEVELS = torch.tensor([0.25, 0.5, 0.75])
Z1 = torch.tensor([-2.0, 0.1, 5.0])  # unevenly spaced codes, as quantiles are
Z2 = torch.tensor([-1.0, 0.0, 3.0])


def brightness(z: torch.Tensor) -> torch.Tensor:
    """A decoder whose every image is one grey level that encodes its code: (N, 2) → (N, 784)."""
    index1 = torch.searchsorted(Z1, z[:, 0].contiguous())
    index2 = torch.searchsorted(Z2, z[:, 1].contiguous())
    return ((3 * index2 + index1 + 1) / 10.0)[:, None].expand(-1, 784)


def test_each_tile_is_the_code_at_its_levels():
    figure = plots.quantile_plane(brightness, Z1, Z2, LEVELS, title="t")
    assert isinstance(figure, Figure)
    ax = figure.axes[0]
    mosaic = np.asarray(ax.images[0].get_array())  # (3·28, 3·28), top row = largest z₂
    for i in range(3):  # z₁ index, left to right
        for j in range(3):  # z₂ index, bottom to top
            tile = mosaic[(2 - j) * 28 : (3 - j) * 28, i * 28 : (i + 1) * 28]
            assert np.allclose(tile, (3 * j + i + 1) / 10.0)
    left, right, bottom, top = ax.images[0].get_extent()
    assert (left, right, bottom, top) == pytest.approx((0.125, 0.875, 0.125, 0.875))
    assert "quantile level" in ax.get_xlabel() and "quantile level" in ax.get_ylabel()
    assert ax.get_title() == "t"


def test_draws_into_a_given_axes():
    figure = Figure()
    ax = figure.add_subplot()
    assert plots.quantile_plane(brightness, Z1, Z2, LEVELS, ax=ax) is figure


@pytest.mark.parametrize(
    ("z1", "levels", "message"),
    [
        (Z1, torch.tensor([0.1, 0.2, 0.5]), "levels must be increasing and evenly spaced"),
        (Z1, torch.tensor([0.0, 0.5, 1.0]), "levels must lie strictly between 0 and 1"),
        (Z1[:2], LEVELS, "z1 must be increasing with one code per level"),
        (Z1.flip(0), LEVELS, "z1 must be increasing with one code per level"),
    ],
)
def test_bad_grids_are_named(z1, levels, message):
    with pytest.raises(ValueError, match=message):
        plots.quantile_plane(brightness, z1, Z2, levels)


def test_decode_must_return_one_image_per_code():
    with pytest.raises(ValueError, match="one image per code"):
        plots.quantile_plane(lambda z: brightness(z)[:1], Z1, Z2, LEVELS)
