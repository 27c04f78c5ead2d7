"""Image plots for any image size (image_shape=(H, W)), and latent_grid for a model in any dtype."""

import numpy as np
import pytest
import torch

from vaetut import VAE, plots


def drawn(ax) -> np.ndarray:
    return np.asarray(ax.images[0].get_array())


def test_image_grid_and_rows_draw_any_shape():
    images = torch.rand(6, 8 * 5, generator=torch.Generator().manual_seed(0))
    fig = plots.image_grid(images, ncols=3, image_shape=(8, 5))
    assert len(fig.axes) == 6
    np.testing.assert_array_equal(drawn(fig.axes[4]), images[4].reshape(8, 5).numpy())
    fig = plots.image_rows({"a": images, "b": 1 - images}, image_shape=(8, 5))
    np.testing.assert_array_equal(drawn(fig.axes[6 + 2]), (1 - images[2]).reshape(8, 5).numpy())
    with pytest.raises(ValueError, match=r"\(N, 64\).*image_shape=\(8, 8\)"):
        plots.image_grid(images, image_shape=(8, 8))
    with pytest.raises(ValueError, match="image_shape"):
        plots.image_rows({"a": images}, image_shape=(8, 0))
    with pytest.raises(ValueError, match="image_shape"):
        plots.image_grid(images, image_shape=40)


def test_latent_grid_draws_any_shape_and_a_float64_model_under_a_float32_default():
    before = torch.get_default_dtype()
    torch.set_default_dtype(torch.float32)
    try:
        model = VAE(12, 2, (4,), dtype=torch.float64)
        fig = plots.latent_grid(model.decode, [0.0, 1.0, 2.0], [-1.0, 1.0], image_shape=(4, 3))
    finally:
        torch.set_default_dtype(before)
    mosaic = drawn(fig.axes[0])
    assert mosaic.shape == (2 * 4, 3 * 3)
    with torch.no_grad():  # bottom-left tile: z = (0, −1), decoded here
        expected = model.decode(torch.tensor([[0.0, -1.0]], dtype=torch.float64)).reshape(4, 3).numpy()
    np.testing.assert_allclose(mosaic[4:, :3], expected, rtol=1e-12)
    plain = plots.latent_grid(lambda z: torch.full((len(z), 4), 0.5, dtype=z.dtype), [0, 1], [0, 1], image_shape=(2, 2))
    assert drawn(plain.axes[0]).shape == (4, 4)
