"""Tests for vaetut.plots: every function returns a Figure with the expected artists and rejects bad shapes."""

import matplotlib

matplotlib.use("Agg")

import io  # noqa: E402

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from matplotlib.collections import EllipseCollection, PathCollection  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Circle  # noqa: E402

from vaetut import plots  # noqa: E402

SLIDES_TABLE = pd.DataFrame(
    {
        "beta": [0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0],
        "C": [0.405, 0.365, 0.096, 0.028, 0.010, 0.004, 0.002],
        "U": [0.000, 0.117, 0.770, 0.946, 1.033, 1.100, 1.179],
        "S": [0.000, 0.003, 0.647, 1.496, 2.322, 3.220, 4.740],
        "V": [-0.00, -0.28, -2.87, -4.94, -6.79, -8.77, -12.00],
    }
)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def images(n, seed=0):
    return torch.rand(n, 784, generator=torch.Generator().manual_seed(seed))


def codes(n, dims=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, dims)), rng.uniform(-4.0, 0.5, (n, dims)), np.arange(n) % 10


def history():
    epochs = pd.RangeIndex(1, 6, name="epoch")
    return pd.DataFrame({"loss": np.linspace(2, 1, 5), "C": np.linspace(1, 0.5, 5), "V": -np.arange(5.0)}, epochs)


FACTORIES = {
    "image_grid": lambda: plots.image_grid(images(12), ncols=5, titles=list("abcdefghijkl"), title="t"),
    "image_rows": lambda: plots.image_rows({"y": images(10), "ỹ": images(10, 1)}, title="t"),
    "latent_scatter": lambda: plots.latent_scatter(codes(50)[0], codes(50)[2], title="t"),
    "bubble_plot": lambda: plots.bubble_plot(*codes(50), title="t"),
    "energy_curves": plots.energy_curves,
    "beta_table_plot": lambda: plots.beta_table_plot(SLIDES_TABLE, theory=SLIDES_TABLE),
    "curve": lambda: plots.curve([0, 1, 2], {"AE": [1, 2, 3], "DAE": [1, 1, 1]}, xlabel="noise", ylabel="⟨C⟩"),
    "history_plot": lambda: plots.history_plot(history()),
}


def png_bytes(fig):
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=50)
    return buffer.getvalue()


@pytest.mark.parametrize("name", FACTORIES)
def test_returns_a_modest_figure_and_leaves_no_global_state(name):
    rc_before = dict(matplotlib.rcParams)
    fig = FACTORIES[name]()
    assert isinstance(fig, Figure)
    assert fig.get_figwidth() <= 9.0
    assert plt.get_fignums() == []  # pyplot keeps no reference: nothing to close, nothing shown twice
    assert dict(matplotlib.rcParams) == rc_before
    png_bytes(fig)  # renders


@pytest.mark.parametrize("name", ["bubble_plot", "beta_table_plot", "image_rows"])
def test_reruns_render_identically(name):
    assert png_bytes(FACTORIES[name]()) == png_bytes(FACTORIES[name]())


def test_image_grid_draws_one_tickless_grey_image_per_axes():
    y = images(23).requires_grad_()  # a tensor that needs detaching
    fig = plots.image_grid(y, ncols=10)
    assert len(fig.axes) == 23
    assert fig.axes[0].get_subplotspec().get_gridspec().get_geometry() == (3, 10)
    for ax, image in zip(fig.axes, y.detach().numpy(), strict=True):
        (shown,) = ax.get_images()
        np.testing.assert_allclose(shown.get_array(), image.reshape(28, 28), rtol=1e-6)
        assert shown.get_cmap().name == plots.IMAGE_CMAP and shown.get_clim() == (0.0, 1.0)
        assert ax.get_xticks().size == 0 and ax.get_yticks().size == 0


def test_image_grid_titles():
    fig = plots.image_grid(images(3), titles=["0", "1", "2"])
    assert [ax.get_title() for ax in fig.axes] == ["0", "1", "2"]
    with pytest.raises(ValueError, match="titles"):
        plots.image_grid(images(3), titles=["0"])


@pytest.mark.parametrize("shape", [(5, 783), (784,), (5, 28, 28), (0, 784)])
def test_image_grid_rejects_bad_shapes(shape):
    with pytest.raises(ValueError, match=str(shape).replace("(", r"\(").replace(")", r"\)")):
        plots.image_grid(np.zeros(shape))


def test_image_rows_aligns_rows_with_labels():
    rows = {"y": images(10), "corrupted": images(10, 1), "AE": images(10, 2), "DAE": images(10, 3)}
    fig = plots.image_rows(rows, column_titles=range(10))
    assert len(fig.axes) == 40 and all(len(ax.get_images()) == 1 for ax in fig.axes)
    assert [fig.axes[10 * r].get_ylabel() for r in range(4)] == list(rows)
    assert [ax.get_title() for ax in fig.axes[:10]] == [str(c) for c in range(10)]
    np.testing.assert_allclose(fig.axes[13].get_images()[0].get_array(), rows["corrupted"][3].reshape(28, 28))


def test_image_rows_rejects_bad_input():
    with pytest.raises(ValueError, match=r"\(9, 784\)"):
        plots.image_rows({"y": images(10), "ỹ": images(9)})
    with pytest.raises(ValueError, match=r"\(10, 783\)"):
        plots.image_rows({"y": np.zeros((10, 783))})
    with pytest.raises(ValueError, match="at least one"):
        plots.image_rows({})
    with pytest.raises(ValueError, match="column_titles"):
        plots.image_rows({"y": images(3)}, column_titles=["a"])


def test_latent_scatter_draws_the_first_two_dims_by_digit():
    z, _, labels = codes(40, dims=5)
    fig = plots.latent_scatter(torch.tensor(z), torch.tensor(labels))
    ax, colorbar = fig.axes
    (points,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(points.get_offsets(), z[:, :2])
    np.testing.assert_array_equal(points.get_array(), labels)
    assert "of 5" in ax.get_xlabel() and "of 5" in ax.get_ylabel()
    assert ax.get_aspect() == 1.0
    assert colorbar.get_ylabel() == "digit"


def test_latent_scatter_draws_into_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plots.latent_scatter(*codes(10)[::2], ax=right) is fig
    assert len(right.collections) == 1 and not left.collections


def test_latent_scatter_rejects_bad_input():
    z, _, labels = codes(10)
    with pytest.raises(ValueError, match=r"\(10,\).*\(9,\)"):
        plots.latent_scatter(z, labels[:9])
    with pytest.raises(ValueError, match=r"\(10, 1\)"):
        plots.latent_scatter(z[:, :1], labels)
    with pytest.raises(ValueError, match="digits"):
        plots.latent_scatter(z, labels + 1)


def test_bubble_plot_draws_one_ellipse_per_input_and_the_unit_circle():
    mu, logvar, labels = codes(30, dims=3)
    fig = plots.bubble_plot(torch.tensor(mu), torch.tensor(logvar), labels)
    ax = fig.axes[0]
    (bubbles,) = [c for c in ax.collections if isinstance(c, EllipseCollection)]
    sigma = np.sqrt(np.exp(logvar))  # oracle: σ² = exp(logvar)
    np.testing.assert_allclose(bubbles.get_offsets(), mu[:, :2])
    np.testing.assert_allclose(bubbles.get_widths(), 2 * sigma[:, 0])
    np.testing.assert_allclose(bubbles.get_heights(), 2 * sigma[:, 1])
    np.testing.assert_allclose(bubbles.get_facecolor()[:, :3], [plots.DIGIT_COLORS(d)[:3] for d in labels])
    (circle,) = [p for p in ax.patches if isinstance(p, Circle)]
    assert circle.get_radius() == 1.0 and tuple(circle.center) == (0.0, 0.0)
    assert circle.get_linestyle() == ":" and not circle.get_fill()
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["unit circle = prior bubble"]
    assert ax.get_aspect() == 1.0 and "of 3" in ax.get_xlabel() and "z_{1}" in ax.get_xlabel()


def test_bubble_plot_limits_cover_every_bubble_and_the_unit_circle():
    mu = np.array([[5.0, -0.2], [0.1, 0.2]])
    logvar = np.log(np.array([[4.0, 0.01], [0.01, 0.01]]))  # σ = 2, 0.1 and 0.1, 0.1
    ax = plots.bubble_plot(mu, logvar, [3, 7]).axes[0]
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= -1 and x1 >= 7 and y0 <= -1 and y1 >= 1


def test_bubble_plot_max_points_takes_the_first():
    mu, logvar, labels = codes(30)
    ax = plots.bubble_plot(mu, logvar, labels, max_points=7).axes[0]
    np.testing.assert_allclose(ax.collections[0].get_offsets(), mu[:7])


def test_bubble_plot_rejects_bad_input():
    mu, logvar, labels = codes(10)
    with pytest.raises(ValueError, match=r"\(10, 2\) and \(10, 3\)"):
        plots.bubble_plot(mu, np.zeros((10, 3)), labels)
    with pytest.raises(ValueError, match=r"\(10,\).*\(11,\)"):
        plots.bubble_plot(mu, logvar, np.arange(11) % 10)
    with pytest.raises(ValueError, match="max_points"):
        plots.bubble_plot(mu, logvar, labels, max_points=0)


def test_energy_curves_match_the_gaussian_kl():
    left, right = plots.energy_curves().axes
    mu, u = left.lines[0].get_data()
    sigma, s = right.lines[0].get_data()
    prior = torch.distributions.Normal(0.0, 1.0)
    kl = torch.distributions.kl_divergence  # oracle: U is the KL of a unit-σ bubble, S that of a centred one
    np.testing.assert_allclose(u, kl(torch.distributions.Normal(torch.tensor(mu), 1.0), prior).numpy(), atol=1e-12)
    np.testing.assert_allclose(s, kl(torch.distributions.Normal(0.0, torch.tensor(sigma)), prior).numpy(), atol=1e-12)
    assert sigma[np.argmin(s)] == pytest.approx(1.0, abs=0.01) and s.min() == pytest.approx(0.0, abs=1e-4)
    assert "mu" in left.get_xlabel() and "sigma" in right.get_xlabel()


@pytest.mark.parametrize("with_ratio", [False, True])
def test_beta_table_plot_one_panel_per_column(with_ratio):
    table = SLIDES_TABLE.assign(ratio=1.0) if with_ratio else SLIDES_TABLE
    fig = plots.beta_table_plot(table)
    columns = ["⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩"] + ["ratio"] * with_ratio
    plain = ["C", "U", "S", "V"] + ["ratio"] * with_ratio
    signs = [1, 1, 1, -1] + [1] * with_ratio  # the slides show −⟨V⟩
    assert [ax.get_title() for ax in fig.axes] == columns
    for ax, column, sign in zip(fig.axes, plain, signs, strict=True):
        (line,) = ax.lines
        np.testing.assert_allclose(line.get_xdata(), table["beta"])
        np.testing.assert_allclose(line.get_ydata(), sign * table[column])
        assert line.get_marker() == "o" and ax.get_xlabel() == "β"


def test_beta_table_plot_overlays_theory_dashed():
    theory = pd.DataFrame({"beta": np.linspace(0, 3, 31), "C": np.linspace(0.4, 0, 31), "U": np.ones(31)})
    fig = plots.beta_table_plot(SLIDES_TABLE.set_index("beta"), theory=theory)  # beta as the index is accepted
    assert [len(ax.lines) for ax in fig.axes] == [2, 2, 1, 1]
    closed_form = fig.axes[0].lines[1]
    assert closed_form.get_linestyle() == "--" and closed_form.get_label() == "closed form"
    np.testing.assert_allclose(closed_form.get_xdata(), theory["beta"])
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["measured", "closed form"]


def test_beta_table_plot_names_missing_columns():
    with pytest.raises(ValueError, match="−⟨V⟩"):
        plots.beta_table_plot(SLIDES_TABLE.drop(columns="V"))
    with pytest.raises(ValueError, match="β"):
        plots.beta_table_plot(SLIDES_TABLE.drop(columns="beta"))


def test_typeset_shows_the_slides_labels_and_minus_v():
    shown = plots.typeset(SLIDES_TABLE)
    assert list(shown.columns) == ["β", "⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩"]
    np.testing.assert_array_equal(shown["−⟨V⟩"], [0.0, 0.28, 2.87, 4.94, 6.79, 8.77, 12.0])
    assert not np.signbit(shown["−⟨V⟩"].iloc[0])  # prints 0.000, not -0.000
    assert list(plots.typeset(SLIDES_TABLE, ascii=True).columns) == ["beta", "<C>", "<U>", "<S>", "-<V>"]
    assert SLIDES_TABLE["V"].iloc[1] == -0.28  # the input is not changed


def test_curve_draws_one_labelled_line_per_entry():
    fig = plots.curve(torch.tensor([0.0, 0.1, 0.2]), {"AE": [1, 2, 3], "DAE": np.ones(3)}, xlabel="noise", ylabel="C")
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == ["AE", "DAE"]
    assert ax.get_xlabel() == "noise" and ax.get_ylabel() == "C"
    with pytest.raises(ValueError, match=r"'DAE'.*\(3,\).*\(2,\)"):
        plots.curve([0, 1, 2], {"AE": [1, 2, 3], "DAE": [1, 2]}, xlabel="x", ylabel="y")


def test_history_plot_one_panel_per_column_loss_first():
    frame = history()[["C", "loss", "V"]]
    fig = plots.history_plot(frame)
    assert [ax.get_title() for ax in fig.axes] == ["loss", "⟨C⟩", "⟨V⟩"]
    np.testing.assert_allclose(fig.axes[0].lines[0].get_xdata(), [1, 2, 3, 4, 5])
    assert fig.axes[0].get_xlabel() == "epoch"
    assert len(plots.history_plot(history().iloc[:1]).axes) == 3  # β = 0 histories have one row
    with pytest.raises(ValueError, match="loss"):
        plots.history_plot(frame.drop(columns="loss"))


# --- chapters 1-2 ---
from matplotlib.quiver import Quiver  # noqa: E402


def coded_digits(z):
    """An oracle decoder: pixel 0 holds the sigmoid of z₁, pixel 1 of z₂, the rest 0.5."""
    images = torch.full((len(z), 784), 0.5, dtype=z.dtype)
    images[:, 0], images[:, 1] = torch.sigmoid(z[:, 0]), torch.sigmoid(z[:, 1])
    return images


def test_latent_grid_puts_each_decoding_at_its_code():
    z1, z2 = np.linspace(-2, 2, 5), np.linspace(-1, 2, 4)
    seen = []
    fig = plots.latent_grid(lambda z: seen.append(z.clone()) or coded_digits(z), z1, z2)
    assert plt.get_fignums() == [] and fig.get_figwidth() <= 9.0
    assert len(seen) == 1 and tuple(seen[0].shape) == (20, 2) and not seen[0].requires_grad
    ax = fig.axes[0]
    (shown,) = ax.get_images()
    mosaic = np.asarray(shown.get_array())
    assert mosaic.shape == (4 * 28, 5 * 28)
    assert shown.get_cmap().name == plots.IMAGE_CMAP and shown.get_clim() == (0.0, 1.0)
    # the tile in row r (from the top) and column c shows the decoding of (z1[c], z2[-1 - r])
    for r in range(4):
        for c in range(5):
            tile = mosaic[28 * r : 28 * (r + 1), 28 * c : 28 * (c + 1)].reshape(784)
            expected = 1 / (1 + np.exp(-np.array([z1[c], z2[3 - r]])))
            np.testing.assert_allclose(tile[:2], expected, rtol=1e-6)
            np.testing.assert_allclose(tile[2:], 0.5)
    # in code units: each tile is centred on its code
    np.testing.assert_allclose(shown.get_extent(), [-2.5, 2.5, -1.5, 2.5])
    assert ax.get_xlabel() == r"$z_1$" and ax.get_ylabel() == r"$z_2$"


def test_latent_grid_rejects_bad_input():
    with pytest.raises(ValueError, match="z1 must be 1-D"):
        plots.latent_grid(coded_digits, [0.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="z2 must be increasing and evenly spaced"):
        plots.latent_grid(coded_digits, [0.0, 1.0], [0.0, 1.0, 3.0])
    with pytest.raises(ValueError, match=r"decode\(codes\) must have shape \(N, 784\)"):
        plots.latent_grid(lambda z: torch.zeros(len(z), 10), [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="one image per code"):
        plots.latent_grid(lambda z: torch.zeros(3, 784), [0.0, 1.0], [0.0, 1.0])


def test_denoising_field_draws_an_arrow_from_each_corrupted_input_to_its_output():
    rng = np.random.default_rng(0)
    clean = rng.uniform(0, 1, (30, 2))
    corrupted = rng.uniform(0, 1, (12, 2))
    denoised = torch.tensor(rng.uniform(0, 1, (12, 2)))
    fig = plots.denoising_field(clean, torch.tensor(corrupted), denoised, title="t")
    assert plt.get_fignums() == [] and fig.get_figwidth() <= 9.0
    ax = fig.axes[0]
    (arrows,) = [c for c in ax.collections if isinstance(c, Quiver)]
    np.testing.assert_allclose(arrows.get_offsets(), corrupted)
    np.testing.assert_allclose(np.column_stack([arrows.U, arrows.V]), denoised.numpy() - corrupted)
    assert arrows.angles == "xy" and arrows.scale_units == "xy" and arrows.scale == 1  # arrows end at ỹ
    dots, rings = [c for c in ax.collections if isinstance(c, PathCollection)]
    np.testing.assert_allclose(dots.get_offsets(), clean)
    np.testing.assert_allclose(rings.get_offsets(), corrupted)
    assert ax.get_xlabel() == r"$y_1$" and ax.get_ylabel() == r"$y_2$" and ax.get_title() == "t"
    assert len(ax.get_legend().get_texts()) == 3
    png_bytes(fig)


def test_denoising_field_rejects_bad_shapes():
    points = np.zeros((5, 2))
    with pytest.raises(ValueError, match=r"denoised must have shape \(5, 2\), got \(4, 2\)"):
        plots.denoising_field(points, points, points[:4])
    with pytest.raises(ValueError, match=r"clean must have shape \(N, 2\) with N ≥ 1, got \(5, 3\)"):
        plots.denoising_field(np.zeros((5, 3)), points, points)


# --- chapters 3-4 ---


def test_bubble_plot_draws_the_chosen_dims_as_outlines_within_the_limit():
    mu, logvar, labels = codes(20, dims=4)
    ax = plots.bubble_plot(mu, logvar, labels, dims=(3, 1), limit=2.5, filled=False, legend=False).axes[0]
    (bubbles,) = [c for c in ax.collections if isinstance(c, EllipseCollection)]
    np.testing.assert_allclose(bubbles.get_offsets(), mu[:, [3, 1]])
    np.testing.assert_allclose(bubbles.get_widths(), 2 * np.exp(0.5 * logvar[:, 3]))
    assert len(bubbles.get_facecolor()) == 0 or np.all(bubbles.get_facecolor()[:, 3] == 0)  # outlines only
    assert ax.get_xlim() == (-2.5, 2.5) and ax.get_ylim() == (-2.5, 2.5)
    assert ax.get_legend() is None and "$z_{4}$ (dim 4 of 4)" == ax.get_xlabel()
    with pytest.raises(ValueError, match="dims"):
        plots.bubble_plot(mu, logvar, labels, dims=(1, 1))
    with pytest.raises(ValueError, match="dims"):
        plots.bubble_plot(mu, logvar, labels, dims=(0, 4))
    with pytest.raises(ValueError, match="limit"):
        plots.bubble_plot(mu, logvar, labels, limit=0)


def test_bubble_plot_legend_is_off_the_data():
    fig = plots.bubble_plot(*codes(30), title="t")
    fig.canvas.draw()
    ax = fig.axes[0]
    legend = ax.get_legend().get_window_extent()
    assert legend.y0 >= ax.get_window_extent().y1 - 1  # above the axes, not over the bubbles


def test_bubble_grid_shares_limits_and_one_legend():
    small = codes(30, seed=1)[:2]
    large = (codes(30, seed=2)[0] * 3, codes(30, seed=2)[1])
    fig = plots.bubble_grid({"a": small, "b": large, "c": small}, codes(30)[2], ncols=2)
    panels = [ax for ax in fig.axes if ax.get_visible() and ax.get_title()]
    assert [ax.get_title() for ax in panels] == ["a", "b", "c"]
    assert len({ax.get_xlim() for ax in panels}) == 1 and len({ax.get_ylim() for ax in panels}) == 1
    reach = np.abs(large[0]) + np.exp(0.5 * large[1])  # oracle: every bubble of the largest panel fits
    assert panels[0].get_xlim()[1] >= reach.max() and panels[0].get_xlim() == panels[0].get_ylim()
    assert all(ax.get_legend() is None for ax in panels) and len(fig.legends) == 1
    assert fig.get_figwidth() <= 9.0
    with pytest.raises(ValueError, match="bubbles"):
        plots.bubble_grid({}, [])


def test_second_moments_plot_stacks_the_aggregate_posterior_moments():
    mu, logvar, _ = codes(200, dims=5)
    ax = plots.second_moments_plot(torch.tensor(mu), torch.tensor(logvar)).axes[0]
    spread, size = (mu**2).mean(axis=0), np.exp(logvar).mean(axis=0)  # oracle: numpy averages
    order = np.argsort(-spread)
    bars = ax.patches
    np.testing.assert_allclose([b.get_height() for b in bars[:5]], spread[order])
    np.testing.assert_allclose([b.get_y() + b.get_height() for b in bars[5:]], (spread + size)[order])
    assert [t.get_text() for t in ax.get_xticklabels()] == [str(d + 1) for d in order]  # integer ticks
    (reference,) = [line for line in ax.lines if line.get_linestyle() == "--"]
    assert tuple(reference.get_ydata()) == (1.0, 1.0)
    assert ax.get_ylabel()
    with pytest.raises(ValueError, match="same shape"):
        plots.second_moments_plot(mu, logvar[:, :3])


def test_beta_frame_marks_its_beta_with_the_same_axes_everywhere():
    table = pd.DataFrame(
        {
            "beta": [0.0, 1.0, 2.0],
            "C": [3.0, 2.0, 1.0],
            "U": [0.0, 1.0, 2.0],
            "S": [0.0, 0.5, 1.0],
            "V": [0.0, -2.9, -6.1],
        }
    )  # plain columns, V = ⟨V⟩ ≤ 0
    mu, logvar, labels = codes(500, dims=3)
    fig = plots.beta_frame(mu, logvar, labels, table, 1.0, dims=(2, 0), limit=3.0, max_points=100)
    bubbles, cost, energies = fig.axes[:3]
    assert bubbles.get_xlim() == (-3.0, 3.0) and len(bubbles.collections[0].get_offsets()) == 100
    np.testing.assert_allclose(bubbles.collections[0].get_offsets(), mu[:100][:, [2, 0]])
    (minus_v,) = [line for line in energies.lines if line.get_label() == "−⟨V⟩"]
    np.testing.assert_allclose(minus_v.get_ydata(), -table["V"])  # the slides' −⟨V⟩ ≥ 0
    assert cost.get_ylabel() and fig.get_figwidth() <= 9.0
    with pytest.raises(ValueError, match="not a row"):
        plots.beta_frame(mu, logvar, labels, table, 0.7)
    with pytest.raises(ValueError, match="missing"):
        plots.beta_frame(mu, logvar, labels, table.drop(columns="S"), 1.0)


def test_beta_table_plot_labels_every_panel_and_marks_ratio_one():
    fig = plots.beta_table_plot(SLIDES_TABLE.assign(ratio=1.0), theory=SLIDES_TABLE)
    assert all(ax.get_ylabel() for ax in fig.axes)
    ratio = fig.axes[-1]
    (reference,) = ratio.collections
    np.testing.assert_allclose(reference.get_segments()[0][:, 1], [1.0, 1.0])
    measured = fig.axes[0].lines[0]
    assert measured.get_label() == "measured" and measured.get_linestyle() == "None"
