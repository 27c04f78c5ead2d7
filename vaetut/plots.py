"""Figures for the book: digit grids, latent codes, the VAE's bubbles, the energies U and S, the β table.

Every function returns a `matplotlib.figure.Figure` and shows nothing: the notebook decides
what to display (a figure that is a cell's value is drawn once). Figures are made by pyplot,
so that Jupyter's inline display is set up, and closed at once, so that pyplot keeps no
reference: nothing is drawn twice and nothing needs closing. No backend is chosen at import
and no rcParams are changed.

Inputs may be torch tensors or numpy arrays. Images are flat, ``(N, H·W)`` in [0, 1],
28 × 28 digits unless a plot is given another ``image_shape=(H, W)``, drawn with the fixed
scale 0 = white, 1 = black (``"gray_r"``). Labels are
digits 0–9, coloured with ``"tab10"``. The bubble picture follows the slides' "Variational
autoencoder illustration": each input y is a bubble of centre μ(y) and semi-axes σ(y),
and the dotted unit circle is the prior's bubble (Kingma & Welling 2014).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from matplotlib import colormaps
from matplotlib.cm import ScalarMappable
from matplotlib.collections import EllipseCollection
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle

__all__ = [
    "DIGIT_CMAP",
    "IMAGE_CMAP",
    "beta_table_plot",
    "bubble_plot",
    "curve",
    "energy_curves",
    "history_plot",
    "image_grid",
    "image_rows",
    "latent_scatter",
    "typeset",
]

IMAGE_CMAP = "gray_r"  # 0 = white paper, 1 = black ink
DIGIT_CMAP = "tab10"  # one colour per digit 0–9
DIGIT_COLORS = colormaps[DIGIT_CMAP]
SIDE = 28  # an image is SIDE × SIDE pixels unless a plot is told another image_shape
MAX_WIDTH = 9.0  # inches
TABLE_COLUMNS = ("⟨C⟩", "⟨U⟩", "⟨S⟩", "−⟨V⟩")
# Typeset labels of the β table's plain columns (`vaetut.experiments.COLUMNS`), and their ASCII forms.
LABELS = {"beta": "β", "C": "⟨C⟩", "U": "⟨U⟩", "S": "⟨S⟩", "V": "−⟨V⟩", "ratio": "ratio"}
ASCII_LABELS = {"beta": "beta", "C": "<C>", "U": "<U>", "S": "<S>", "V": "-<V>", "ratio": "ratio"}


def typeset(table, *, ascii: bool = False):
    """The β table as the slides show it: columns β, ⟨C⟩, ⟨U⟩, ⟨S⟩, −⟨V⟩ (V negated), ratio; a new DataFrame.

    table: the plain table of `vaetut.experiments.beta_sweep` or `linear_vae_theory`
    (columns beta, C, U, S, V, ratio, or some of them; beta may be the index). ``ascii=True``
    gives ASCII labels (<C>, -<V>) for a terminal that cannot print ⟨, ⟩, −, β.
    """
    if not isinstance(table, pd.DataFrame):
        raise TypeError(f"table must be a pandas DataFrame, got {type(table).__name__}")
    labels = ASCII_LABELS if ascii else LABELS
    shown = table.copy()
    if "V" in shown.columns:
        shown["V"] = 0.0 - shown["V"]  # 0.0 - : no "-0.000" at collapse
    shown = shown.rename(columns=labels)
    if shown.index.name in labels:
        shown.index.name = labels[shown.index.name]
    return shown


def _array(values) -> np.ndarray:
    """A float numpy copy of a tensor, array or sequence."""
    if hasattr(values, "detach"):  # torch.Tensor
        values = values.detach().cpu().numpy()
    return np.asarray(values, dtype=float)


def _image_shape(image_shape) -> tuple[int, int]:
    """(H, W) as two positive ints, else ValueError naming image_shape."""
    ok = isinstance(image_shape, (tuple, list)) and len(image_shape) == 2
    ok = ok and all(isinstance(s, (int, np.integer)) and not isinstance(s, bool) and s > 0 for s in image_shape)
    if not ok:
        raise ValueError(f"image_shape must be a (height, width) pair of positive integers, got {image_shape!r}")
    return int(image_shape[0]), int(image_shape[1])


def _images(name: str, images, image_shape=(SIDE, SIDE)) -> np.ndarray:
    """Images as a float array (N, H·W), else ValueError naming the shape."""
    array = _array(images)
    height, width = image_shape
    if array.ndim != 2 or array.shape[1] != height * width or array.shape[0] == 0:
        raise ValueError(
            f"{name} must have shape (N, {height * width}) with N ≥ 1 for image_shape=({height}, {width}), "
            f"got {tuple(array.shape)}"
        )
    return array


def _labels(labels, n: int) -> np.ndarray:
    """Digit labels as an int array (n,), else ValueError."""
    array = _array(labels)
    if array.shape != (n,):
        raise ValueError(f"labels must have shape ({n},) to match the codes, got {tuple(array.shape)}")
    if array.size and (np.any(array != np.round(array)) or array.min() < 0 or array.max() > 9):
        raise ValueError("labels must be digits 0–9")
    return array.astype(int)


def _codes(name: str, codes) -> np.ndarray:
    """Latent codes as a float array (N, D) with D ≥ 2, else ValueError naming the shape."""
    array = _array(codes)
    if array.ndim != 2 or array.shape[1] < 2:
        raise ValueError(f"{name} must have shape (N, D) with D ≥ 2, got {tuple(array.shape)}")
    return array


def _latent_labels(ax, dims: int) -> None:
    """Axis labels z₁, z₂, saying so when only the first two of more dimensions are shown."""
    ax.set_xlabel(r"$z_1$" + (f" (dim 1 of {dims})" if dims > 2 else ""))
    ax.set_ylabel(r"$z_2$" + (f" (dim 2 of {dims})" if dims > 2 else ""))


def _digit_colorbar(ax) -> None:
    """A discrete colour bar beside ax, one colour per digit 0–9."""
    mappable = ScalarMappable(norm=BoundaryNorm(np.arange(-0.5, 10), 10), cmap=DIGIT_CMAP)
    bar = ax.figure.colorbar(mappable, ax=ax, ticks=range(10), shrink=0.8)
    bar.set_label("digit")


def _new_figure(figsize) -> Figure:
    """A constrained-layout figure that pyplot has already let go of."""
    import matplotlib.pyplot as plt  # here, not at import: the caller's backend choice stands

    fig = plt.figure(figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig


def _figure_and_axes(ax, figsize):
    """The given axes and its (root) figure, or a new constrained figure with one axes."""
    if ax is not None:
        return ax.figure.figure, ax  # the root figure, also when ax is in a subfigure
    fig = _new_figure(figsize)
    return fig, fig.add_subplot()


def _show_image(ax, image: np.ndarray, image_shape=(SIDE, SIDE)) -> None:
    """One image, fixed grey scale, no ticks."""
    ax.imshow(image.reshape(image_shape), cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, interpolation="nearest")
    ax.set_xticks([])
    ax.set_yticks([])


def image_grid(images, *, ncols: int = 10, titles=None, title: str | None = None, image_shape=(SIDE, SIDE)) -> Figure:
    """Images in a grid, row by row. images: (N, H·W); titles: N strings (optional); image_shape: (H, W)."""
    image_shape = _image_shape(image_shape)
    images = _images("images", images, image_shape)
    n = len(images)
    if titles is not None and len(titles) != n:
        raise ValueError(f"titles must have one entry per image ({n}), got {len(titles)}")
    if ncols < 1:
        raise ValueError(f"ncols must be ≥ 1, got {ncols}")
    ncols = min(ncols, n)
    nrows = math.ceil(n / ncols)
    tile = min(0.9, MAX_WIDTH / ncols)
    fig = _new_figure((tile * ncols, (tile + 0.2 * (titles is not None)) * nrows + 0.3 * bool(title)))
    for i, image in enumerate(images):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        _show_image(ax, image, image_shape)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def image_rows(rows: dict, *, title: str | None = None, column_titles=None, image_shape=(SIDE, SIDE)) -> Figure:
    """Aligned rows of images, each labelled on the left. rows: {label: (N, H·W)}, same N; column_titles: N strings;
    image_shape: (H, W).

    For reconstructions {"y (input)": y, "ỹ (reconstruction)": y_tilde}, denoising
    {"y": y, "corrupted": y_corrupted, "AE": ..., "DAE": ...}, or interpolations (one
    row per path, column_titles the interpolation weights).
    """
    if not rows:
        raise ValueError("rows must hold at least one row of images")
    image_shape = _image_shape(image_shape)
    arrays = {label: _images(f"rows[{label!r}]", images, image_shape) for label, images in rows.items()}
    shapes = {label: array.shape for label, array in arrays.items()}
    if len(set(shapes.values())) > 1:
        raise ValueError(f"all rows must have the same shape (N, {image_shape[0] * image_shape[1]}), got {shapes}")
    nrows, ncols = len(arrays), next(iter(shapes.values()))[0]
    if column_titles is not None and len(column_titles) != ncols:
        raise ValueError(f"column_titles must have one entry per column ({ncols}), got {len(column_titles)}")
    label_width = 1.4
    tile = min(0.8, (MAX_WIDTH - label_width) / ncols)
    height = tile * nrows + 0.25 * (column_titles is not None) + 0.3 * bool(title)
    fig = _new_figure((label_width + tile * ncols, height))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for r, (label, array) in enumerate(arrays.items()):
        for c, image in enumerate(array):
            _show_image(axes[r, c], image, image_shape)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=9)
    if column_titles is not None:
        for c, column_title in enumerate(column_titles):
            axes[0, c].set_title(str(column_title), fontsize=8)
    if title:
        fig.suptitle(title)
    return fig


def latent_scatter(z, labels, *, title: str | None = None, ax=None) -> Figure:
    """Codes z as points coloured by digit. z: (N, D ≥ 2), first two dims drawn; labels: (N,) digits; ax: draw here."""
    z = _codes("z", z)  # (N, D)
    labels = _labels(labels, len(z))
    fig, ax = _figure_and_axes(ax, (5.5, 4.5))
    ax.scatter(z[:, 0], z[:, 1], c=labels, cmap=DIGIT_CMAP, vmin=-0.5, vmax=9.5, s=6, alpha=0.8, linewidths=0)
    ax.set_aspect("equal", adjustable="datalim")
    _latent_labels(ax, z.shape[1])
    _digit_colorbar(ax)
    if title:
        ax.set_title(title)
    return fig


def bubble_plot(
    mu,
    logvar,
    labels,
    *,
    title: str | None = None,
    ax=None,
    max_points: int | None = None,
    dims=(0, 1),
    limit: float | None = None,
    filled: bool = True,
    legend: bool = True,
    colorbar: bool = True,
) -> Figure:
    """Each input as a bubble: an ellipse at μ with semi-axes σ in two latent dims, and the dotted unit circle.

    mu, logvar: (N, D ≥ 2), σ = exp(½ logvar); labels: (N,) digits; dims: the two latent
    dimensions drawn (0-based, default the first two); max_points: draw only the first
    max_points inputs; limit: draw [−limit, limit] on both axes (default: just enough for
    every bubble and the circle); filled=False draws outlines only; legend and colorbar:
    the prior's legend (above the axes, off the data) and the digit colour bar; ax: draw here.
    """
    mu, logvar = _codes("mu", mu), _codes("logvar", logvar)  # (N, D)
    if mu.shape != logvar.shape:
        raise ValueError(f"mu and logvar must have the same shape, got {tuple(mu.shape)} and {tuple(logvar.shape)}")
    labels = _labels(labels, len(mu))
    dims = _dims(dims, mu.shape[1])
    if max_points is not None:
        if max_points < 1:
            raise ValueError(f"max_points must be ≥ 1, got {max_points}")
        mu, logvar, labels = mu[:max_points], logvar[:max_points], labels[:max_points]
    if limit is not None and not limit > 0:
        raise ValueError(f"limit must be > 0, got {limit!r}")
    centre, sigma = mu[:, dims], np.exp(0.5 * logvar[:, dims])  # (N, 2)
    fig, ax = _figure_and_axes(ax, (5.5, 4.8))
    colours = DIGIT_COLORS(labels)  # (N, 4) RGBA
    widths, heights = 2 * sigma.T  # full axes 2σ₁, 2σ₂
    bubbles = EllipseCollection(
        widths, heights, np.zeros(len(centre)), units="xy", offsets=centre, offset_transform=ax.transData
    )
    if filled:
        bubbles.set(facecolor=colours, edgecolor=colours, linewidth=0.4, alpha=0.25)
    else:
        bubbles.set(facecolor="none", edgecolor=colours, linewidth=0.7, alpha=0.7)
    ax.add_collection(bubbles, autolim=False)
    ax.add_patch(Circle((0, 0), 1.0, fill=False, edgecolor="black", linestyle=":", linewidth=1.5, zorder=3))
    if legend:
        prior = Line2D([], [], color="black", linestyle=":", linewidth=1.5)
        ax.legend(
            [prior],
            ["unit circle = prior bubble"],
            loc="lower right",
            bbox_to_anchor=(1.0, 1.0),
            fontsize=8,
            frameon=False,
            handlelength=1.5,
            borderaxespad=0.1,
        )
    if limit is None:
        low = np.minimum((centre - sigma).min(axis=0, initial=-1.0), -1.0)
        high = np.maximum((centre + sigma).max(axis=0, initial=1.0), 1.0)
        pad = 0.1 * (high - low)
        ax.set_xlim(low[0] - pad[0], high[0] + pad[0])
        ax.set_ylim(low[1] - pad[1], high[1] + pad[1])
    else:
        ax.set_xlim(-limit, limit)
        ax.set_ylim(-limit, limit)
    ax.set_aspect("equal")
    ax.locator_params(nbins=6)
    _dim_labels(ax, mu.shape[1], dims)
    if colorbar:
        _digit_colorbar(ax)
    if title:
        ax.set_title(title, pad=18 if legend else None)  # above the legend's row
    return fig


def energy_curves() -> Figure:
    """U against one μ_d (a spring pulling μ to 0) and S against one σ_d (a well holding σ at 1)."""
    fig = _new_figure((8.0, 3.2))
    left, right = fig.subplots(1, 2, sharey=True)
    mu = np.linspace(-3.0, 3.0, 241)
    left.plot(mu, 0.5 * mu**2, color="C0")
    left.plot([0], [0], "o", color="C0")
    left.set_xlabel(r"$\mu_d$")
    left.set_ylabel("energy (nats)")
    left.set_title(r"$U = \frac{1}{2}\mu_d^2$: a spring pulling $\mu$ to 0", fontsize=10)
    sigma = np.linspace(0.05, 3.0, 296)
    right.plot(sigma, 0.5 * (sigma**2 - np.log(sigma**2) - 1), color="C1")
    right.plot([1], [0], "o", color="C1")
    right.annotate(
        r"minimum 0 at $\sigma_d = 1$",
        xy=(1, 0),
        xytext=(1.3, 1.2),
        fontsize=9,
        arrowprops={"arrowstyle": "->", "color": "0.3"},
    )
    right.set_xlabel(r"$\sigma_d$")
    right.set_title(r"$S = \frac{1}{2}(\sigma_d^2 - \log\sigma_d^2 - 1)$: a well holding $\sigma$ at 1", fontsize=10)
    for ax in (left, right):
        ax.axhline(0, color="0.7", linewidth=0.8, zorder=0)
        ax.grid(alpha=0.3)
    left.set_ylim(-0.2, 4.6)
    return fig


def _panels(frame, columns, overlay=None) -> Figure:
    """One small panel per column against the frame's index (markers and line); overlay: a frame drawn dashed."""
    ncols = min(3, len(columns))
    nrows = math.ceil(len(columns) / ncols)
    fig = _new_figure((min(MAX_WIDTH, 3.0 * ncols), 2.4 * nrows))
    for i, column in enumerate(columns):
        ax = fig.add_subplot(nrows, ncols, i + 1, title=column, xlabel=frame.index.name)
        ax.plot(frame.index.to_numpy(float), frame[column].to_numpy(float), "o-", color="C0", ms=4, label="measured")
        if overlay is not None and column in overlay.columns:
            ax.plot(
                overlay.index.to_numpy(float), overlay[column].to_numpy(float), "--", color="C3", label="closed form"
            )
        ax.grid(alpha=0.3)
    if overlay is not None:
        fig.axes[0].legend(fontsize=8)
    return fig


def _indexed_by_beta(name: str, table):
    """The table indexed by its β column (or already by β), else ValueError."""
    if table.index.name == "β":
        return table
    if "β" not in table.columns:
        raise ValueError(f"{name} needs a 'β' column, got columns {list(table.columns)}")
    return table.set_index("β")


def beta_table_plot(table, *, theory=None) -> Figure:
    """Each column of the β table against β, as the slides show it (⟨C⟩, ⟨U⟩, ⟨S⟩, −⟨V⟩, ratio).

    table: the plain table of `vaetut.experiments.beta_sweep` (beta, C, U, S, V[, ratio]).
    theory: a table of the same form (`linear_vae_theory`), overlaid dashed as "closed form".
    """
    table = _indexed_by_beta("table", typeset(table))
    theory = None if theory is None else typeset(theory)
    missing = [column for column in TABLE_COLUMNS if column not in table.columns]
    if missing:
        raise ValueError(
            f"table is missing columns {missing} (the minus in '−⟨V⟩' is U+2212); got {list(table.columns)}"
        )
    columns = list(TABLE_COLUMNS) + (["ratio"] if "ratio" in table.columns else [])
    figure = _panels(table, columns, overlay=None if theory is None else _indexed_by_beta("theory", theory))
    return _finish_beta_panels(figure, columns, theory is not None)


def curve(x, ys: dict, *, xlabel: str, ylabel: str, title: str | None = None) -> Figure:
    """Labelled lines y(x) with markers, one per entry. x: (K,); ys: {label: (K,) values}."""
    x = _array(x)
    if x.ndim != 1:
        raise ValueError(f"x must be 1-D, got shape {tuple(x.shape)}")
    if not ys:
        raise ValueError("ys must hold at least one line")
    fig = _new_figure((5.5, 3.5))
    ax = fig.add_subplot()
    for label, values in ys.items():
        values = _array(values)
        if values.shape != x.shape:
            raise ValueError(f"ys[{label!r}] must have the shape of x {tuple(x.shape)}, got {tuple(values.shape)}")
        ax.plot(x, values, "o-", markersize=4, label=label)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=9)
    if title:
        ax.set_title(title)
    return fig


def history_plot(history_frame) -> Figure:
    """Training curves, one panel per column against epoch, titled ⟨C⟩, ⟨U⟩, … for the plain columns C, U, ….

    history_frame: `History.to_frame()`, a DataFrame indexed by epoch with "loss"."""
    if "loss" not in history_frame.columns:
        raise ValueError(f"history_frame needs a 'loss' column, got columns {list(history_frame.columns)}")
    if len(history_frame) == 0:
        raise ValueError("history_frame has no rows")
    shown = history_frame.rename(columns={term: f"⟨{term}⟩" for term in ("C", "U", "S", "V")})  # averages per epoch
    columns = ["loss"] + [column for column in shown.columns if column != "loss"]
    return _panels(shown.rename_axis(shown.index.name or "epoch"), columns)


# --- chapters 1-2 ---

__all__ += ["denoising_field", "latent_grid"]


def _grid_axis(name: str, values) -> np.ndarray:
    """Grid coordinates as a float array (K,), K ≥ 2, increasing and evenly spaced, else ValueError."""
    array = _array(values)
    if array.ndim != 1 or array.size < 2:
        raise ValueError(f"{name} must be 1-D with at least 2 values, got shape {tuple(array.shape)}")
    steps = np.diff(array)
    if not np.all(steps > 0) or not np.allclose(steps, steps[0], rtol=1e-6, atol=0):
        raise ValueError(f"{name} must be increasing and evenly spaced, got {array.tolist()}")
    return array


def latent_grid(decode, z1, z2, *, title: str | None = None, image_shape=(SIDE, SIDE), dtype=None) -> Figure:
    """The decoder's image of a regular grid of codes, each image drawn at its code in the (z₁, z₂) plane.

    decode: a function from codes (N, 2) to images (N, H·W), e.g. ``model.decode``; it is
    called once, without gradients, on all len(z1) × len(z2) codes, made in the dtype and
    on the device of the model that ``decode`` belongs to (for another function: ``dtype``,
    None: torch's default dtype). z1, z2: the grid's coordinates, increasing and evenly
    spaced. image_shape: (H, W). Axes are in code units, so the picture lines up with
    `latent_scatter` of the same codes.
    """
    import torch  # here, not at import: plotting stays usable without building a graph

    height, width = _image_shape(image_shape)
    z1, z2 = _grid_axis("z1", z1), _grid_axis("z2", z2)
    rows = z2[::-1]  # top row = largest z₂
    codes = np.stack(np.meshgrid(z1, rows, indexing="xy"), axis=-1).reshape(-1, 2)  # (K₂·K₁, 2) row by row
    owner = getattr(decode, "__self__", None)
    parameter = next(owner.parameters(), None) if isinstance(owner, torch.nn.Module) else None
    if parameter is not None:
        where = dict(dtype=parameter.dtype, device=parameter.device)
    else:
        where = dict(dtype=torch.get_default_dtype() if dtype is None else dtype)
    with torch.no_grad():
        images = _images("decode(codes)", decode(torch.as_tensor(codes, **where)), (height, width))
    if len(images) != len(codes):
        raise ValueError(f"decode must return one image per code ({len(codes)}), got {len(images)}")
    tiles = images.reshape(len(rows), len(z1), height, width)  # (K₂, K₁, H, W)
    mosaic = tiles.transpose(0, 2, 1, 3).reshape(len(rows) * height, len(z1) * width)
    dx, dy = z1[1] - z1[0], z2[1] - z2[0]
    extent = (z1[0] - dx / 2, z1[-1] + dx / 2, z2[0] - dy / 2, z2[-1] + dy / 2)
    fig, ax = _figure_and_axes(None, (5.5, 5.0))
    ax.imshow(mosaic, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, extent=extent, aspect="auto", interpolation="nearest")
    _latent_labels(ax, 2)
    if title:
        ax.set_title(title)
    return fig


def _points(name: str, values, n: int | None = None) -> np.ndarray:
    """2-D points as a float array (N, 2), N ≥ 1 (N = n if given), else ValueError naming the shape."""
    array = _array(values)
    if array.ndim != 2 or array.shape[1] != 2 or len(array) == 0 or (n is not None and len(array) != n):
        want = f"({n}, 2)" if n is not None else "(N, 2) with N ≥ 1"
        raise ValueError(f"{name} must have shape {want}, got {tuple(array.shape)}")
    return array


def denoising_field(clean, corrupted, denoised, *, title: str | None = None, ax=None) -> Figure:
    """A denoising AE on 2-D data as a vector field: an arrow from each corrupted input to the DAE's output.

    clean: (M, 2) data points, drawn as dots; corrupted: (N, 2) corrupted inputs, drawn as
    rings; denoised: (N, 2) the DAE's outputs ỹ for them. Each arrow goes from a corrupted
    input to its ỹ, in data units (Vincent et al. 2008; Alain & Bengio 2014).
    """
    clean = _points("clean", clean)
    corrupted = _points("corrupted", corrupted)
    denoised = _points("denoised", denoised, n=len(corrupted))
    fig, ax = _figure_and_axes(ax, (5.5, 5.8))
    ax.scatter(clean[:, 0], clean[:, 1], s=8, color="C0", alpha=0.6, linewidths=0, label="data y", zorder=2)
    ax.scatter(
        corrupted[:, 0],
        corrupted[:, 1],
        s=22,
        facecolors="none",
        edgecolors="C3",
        linewidths=1.0,
        label="corrupted y (the DAE's input)",
        zorder=3,
    )
    step = denoised - corrupted  # (N, 2)
    ax.quiver(
        corrupted[:, 0],
        corrupted[:, 1],
        step[:, 0],
        step[:, 1],
        angles="xy",
        scale_units="xy",
        scale=1,
        color="C2",
        width=0.004,
        label="arrow to the DAE's output ỹ",
        zorder=4,
    )
    ax.set_aspect("equal")
    ax.set_xlabel(r"$y_1$")
    ax.set_ylabel(r"$y_2$")
    ax.grid(alpha=0.3)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return fig


__all__ += ["sample_panels"]


def sample_panels(clean, samples: dict, *, title: str | None = None) -> Figure:
    """2-D point sets side by side, one panel per entry, each over the data.

    clean: (M, 2) data points, drawn as small dots in every panel; samples: {label: (N, 2)}
    points, drawn as red points on shared, equal axes (for example the start and the end of a
    sampler).
    """
    clean = _points("clean", clean)
    if not isinstance(samples, dict) or not samples:
        raise ValueError("samples must be a non-empty dict {label: (N, 2) points}")
    points = {str(label): _points(f"samples[{label!r}]", values) for label, values in samples.items()}
    fig = _new_figure((3.2 * len(points) + 0.4, 3.9))
    axes = fig.subplots(1, len(points), sharex=True, sharey=True, squeeze=False)[0]
    for ax, (label, p) in zip(axes, points.items()):
        ax.scatter(clean[:, 0], clean[:, 1], s=6, color="C0", alpha=0.5, linewidths=0, label="data y", zorder=2)
        ax.scatter(p[:, 0], p[:, 1], s=5, color="C3", alpha=0.7, linewidths=0, label="samples", zorder=3)
        ax.set_aspect("equal")
        ax.set_title(label, fontsize=9)
        ax.set_xlabel(r"$y_1$")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"$y_2$")
    axes[0].legend(loc="lower left", fontsize=7, markerscale=2)
    if title:
        fig.suptitle(title)
    return fig


# --- chapters 3-4 ---

__all__ += ["beta_frame", "bubble_grid", "second_moments_plot"]


def _dims(dims, total: int) -> list[int]:
    """Two distinct latent dimensions in range(total), else ValueError naming dims."""
    dims = [int(d) for d in dims]
    if len(dims) != 2 or dims[0] == dims[1] or min(dims) < 0 or max(dims) >= total:
        raise ValueError(f"dims must be two distinct latent dimensions in 0..{total - 1}, got {dims}")
    return dims


def _dim_labels(ax, total: int, dims) -> None:
    """Axis labels z_a, z_b for the latent dimensions drawn, saying 'of D' when there are more than two."""
    for set_label, d in ((ax.set_xlabel, dims[0]), (ax.set_ylabel, dims[1])):
        set_label(f"$z_{{{d + 1}}}$" + (f" (dim {d + 1} of {total})" if total > 2 else ""))


def _bubble_reach(mu, logvar, dims) -> float:
    """The smallest symmetric half-width that shows every bubble (centre ± σ) and the unit circle, padded by 10%."""
    mu, logvar = _codes("mu", mu), _codes("logvar", logvar)
    reach = np.abs(mu[:, dims]) + np.exp(0.5 * logvar[:, dims])  # (N, 2)
    return 1.1 * max(1.0, float(reach.max(initial=1.0)))


def bubble_grid(bubbles: dict, labels, *, ncols: int = 2, filled: bool = True, max_points: int | None = None) -> Figure:
    """Bubble plots side by side on the same axes limits. bubbles: {title: (mu, logvar)}, each (N, D ≥ 2); labels: (N,).

    One digit colour bar and one legend for the prior's dotted circle serve every panel, both
    outside the data; the first two latent dimensions are drawn.
    """
    if not bubbles:
        raise ValueError("bubbles must hold at least one (mu, logvar) pair")
    if ncols < 1:
        raise ValueError(f"ncols must be ≥ 1, got {ncols}")
    limit = max(_bubble_reach(mu, logvar, (0, 1)) for mu, logvar in bubbles.values())
    ncols = min(ncols, len(bubbles))
    nrows = math.ceil(len(bubbles) / ncols)
    fig = _new_figure((min(MAX_WIDTH, 3.9 * ncols + 1.0), 3.7 * nrows + 0.5))
    axes = fig.subplots(nrows, ncols, squeeze=False, sharex=True, sharey=True)
    for ax, (title, (mu, logvar)) in zip(axes.flat, bubbles.items()):
        bubble_plot(
            mu,
            logvar,
            labels,
            ax=ax,
            title=str(title),
            limit=limit,
            filled=filled,
            max_points=max_points,
            legend=False,
            colorbar=False,
        )
    for ax in axes.flat[len(bubbles) :]:
        ax.set_visible(False)
    mappable = ScalarMappable(norm=BoundaryNorm(np.arange(-0.5, 10), 10), cmap=DIGIT_CMAP)
    fig.colorbar(mappable, ax=axes, ticks=range(10), shrink=0.6, label="digit")
    prior = Line2D([], [], color="black", linestyle=":", linewidth=1.5)
    fig.legend([prior], ["unit circle = prior bubble"], loc="outside lower center", fontsize=9, frameon=False)
    return fig


def second_moments_plot(mu, logvar, *, title: str | None = None, ax=None) -> Figure:
    """Each latent dimension's second moment ⟨μ_d²⟩ + ⟨σ_d²⟩ of the aggregate posterior, stacked, most used first.

    mu, logvar: (N, D), the bubbles of N inputs; the averages ⟨·⟩ are over the inputs.
    ⟨z_d²⟩ under q(z) = ⟨q(ζ|y)⟩ is ⟨μ_d²⟩ + ⟨σ_d²⟩; the prior's is 1, drawn dashed.
    """
    mu, logvar = _array(mu), _array(logvar)
    if mu.ndim != 2 or mu.shape != logvar.shape or mu.shape[0] == 0:
        raise ValueError(f"mu and logvar must have the same shape (N, D) with N ≥ 1, got {mu.shape} and {logvar.shape}")
    spread, size = (mu**2).mean(axis=0), np.exp(logvar).mean(axis=0)  # (D,) each
    order = np.argsort(-spread, kind="stable")
    position = np.arange(1, len(order) + 1)
    fig, ax = _figure_and_axes(ax, (6.0, 3.4))
    ax.bar(position, spread[order], color="C0", label=r"$\langle\mu_d^2\rangle$: where the centres are")
    ax.bar(
        position,
        size[order],
        bottom=spread[order],
        color="C1",
        alpha=0.7,
        label=r"$\langle\sigma_d^2\rangle$: how large the bubbles are",
    )
    ax.axhline(1.0, color="black", linestyle="--", linewidth=1, label="prior: 1 in every dimension")
    ax.set_xticks(position, [str(d) for d in order + 1], fontsize=8 if len(order) > 12 else None)
    ax.set_xlabel("latent dimension d, most used first")
    ax.set_ylabel(r"$\langle\mu_d^2\rangle + \langle\sigma_d^2\rangle$")
    ax.set_ylim(0, max(1.25, 1.1 * float((spread + size).max())) + 0.35)
    ax.legend(loc="upper center", ncols=2, fontsize=8, frameon=False)
    if title:
        ax.set_title(title)
    return fig


__all__ += ["rate_distortion_plot"]


def rate_distortion_plot(theory, measured: dict, *, seeds=None, title: str | None = None, ax=None) -> Figure:
    """⟨C⟩ (distortion) against ⟨U⟩ + ⟨S⟩ (rate, nats): a closed-form curve and measured points, each marked with β.

    theory: columns rate, distortion (`vaetut.ratedistortion.rate_distortion` on a fine β
    grid), drawn as a dashed line; measured: {label: frame with columns beta, rate,
    distortion}, one marker style each, the first set's points labelled with their β;
    seeds: optional frame with columns rate, distortion (one row per (β, seed)), small grey dots.
    """
    for name, frame in (("theory", theory), *((f"measured[{label!r}]", f) for label, f in measured.items())):
        needed = ["rate", "distortion"] + ([] if name == "theory" else ["beta"])
        missing = [c for c in needed if c not in getattr(frame, "columns", ())]
        if missing:
            raise ValueError(f"{name} is missing columns {missing}")
    fig, ax = _figure_and_axes(ax, (6.4, 4.2))
    ax.plot(theory["rate"], theory["distortion"], "--", color="C3", label="linear VAE, closed form")
    if seeds is not None:
        ax.plot(seeds["rate"], seeds["distortion"], ".", color="0.6", ms=4, label="MLP, seeds 0–4 (held out)")
    for i, (label, frame) in enumerate(measured.items()):
        ax.plot(frame["rate"], frame["distortion"], "os^D"[i % 4], color=f"C{i}", ms=5, label=label, mfc="none")
        if i == 0:
            for beta, x, y in zip(frame["beta"], frame["rate"], frame["distortion"]):
                ax.annotate(f"β={beta:g}", (x, y), xytext=(4, 4), textcoords="offset points", fontsize=8)
    ax.set_xlabel(r"rate $\langle U\rangle + \langle S\rangle$ (nats)")
    ax.set_ylabel(r"distortion $\langle C\rangle$")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title)
    return fig


__all__ += ["quantile_plane"]


def quantile_plane(decode, z1, z2, levels, *, title: str | None = None, ax=None) -> Figure:
    """The decoder's image of a grid of codes drawn on quantile axes: the code (z1[i], z2[j]) at (levels[i], levels[j]).

    decode: a function from codes (N, 2) to images (N, 784), called once without gradients
    on all K × K codes. z1, z2: (K,) increasing codes, the quantiles of some distribution of
    z₁ and z₂ at the probability ``levels`` (K,), evenly spaced in (0, 1): e.g. the prior's,
    Φ⁻¹(levels), or those of a model's own codes. Each tile then stands for an equal share of
    that distribution's mass (for a product of its marginals), and two models' planes drawn
    this way share their axes.
    """
    import torch  # here, not at import: plotting stays usable without building a graph

    z1, z2, levels = _array(z1), _array(z2), _grid_axis("levels", levels)
    for name, values in (("z1", z1), ("z2", z2)):
        if values.shape != levels.shape or not np.all(np.diff(values) > 0):
            raise ValueError(
                f"{name} must be increasing with one code per level ({len(levels)}), got {values.tolist()}"
            )
    if levels[0] <= 0 or levels[-1] >= 1:
        raise ValueError(f"levels must lie strictly between 0 and 1, got {levels.tolist()}")
    k = len(levels)
    codes = np.stack(np.meshgrid(z1, z2[::-1], indexing="xy"), axis=-1).reshape(-1, 2)  # (K·K, 2), top row first
    with torch.no_grad():
        images = _images("decode(codes)", decode(torch.as_tensor(codes, dtype=torch.get_default_dtype())))
    if len(images) != len(codes):
        raise ValueError(f"decode must return one image per code ({len(codes)}), got {len(images)}")
    mosaic = images.reshape(k, k, SIDE, SIDE).transpose(0, 2, 1, 3).reshape(k * SIDE, k * SIDE)
    step = levels[1] - levels[0]
    fig, ax = _figure_and_axes(ax, (5.0, 5.0))
    extent = (levels[0] - step / 2, levels[-1] + step / 2, levels[0] - step / 2, levels[-1] + step / 2)
    ax.imshow(mosaic, cmap=IMAGE_CMAP, vmin=0.0, vmax=1.0, extent=extent, interpolation="nearest")
    ax.set_xlabel(r"quantile level of $z_1$")
    ax.set_ylabel(r"quantile level of $z_2$")
    if title:
        ax.set_title(title)
    return fig


def beta_frame(
    mu, logvar, labels, table, beta: float, *, dims=(0, 1), limit: float | None = None, max_points: int = 300
) -> Figure:
    """One frame of the β slider: the bubbles at this β (left), ⟨C⟩ and ⟨U⟩ ⟨S⟩ −⟨V⟩ against β, this β marked.

    mu, logvar: (N, D), the bubbles of the model trained at ``beta``; table: the plain β
    table (columns beta, C, U, S, V, one row per β, V = ⟨V⟩ ≤ 0); dims and limit: the two
    latent dimensions and the half-width drawn, the same in every frame so that frames
    compare; max_points: bubbles drawn, as outlines.
    """
    missing = [column for column in ("beta", "C", "U", "S", "V") if column not in table.columns]
    if missing:
        raise ValueError(f"table is missing columns {missing}; got {list(table.columns)}")
    if not (table["beta"] == beta).any():
        raise ValueError(f"beta {beta!r} is not a row of the table (betas {list(table['beta'])})")
    fig = _new_figure((MAX_WIDTH, 4.0))
    bubbles, cost, energies = fig.subplots(1, 3, width_ratios=(1.5, 1, 1))
    bubble_plot(
        mu,
        logvar,
        labels,
        ax=bubbles,
        dims=dims,
        limit=limit,
        max_points=max_points,
        filled=False,
        legend=False,
        colorbar=False,
        title=f"β = {beta:g}: {min(max_points, len(labels))} bubbles",
    )
    bubbles.text(
        0.02, 0.02, "dotted: unit circle = prior", transform=bubbles.transAxes, fontsize=8, color="0.3", va="bottom"
    )
    shown = {"⟨C⟩": table["C"], "⟨U⟩": table["U"], "⟨S⟩": table["S"], "−⟨V⟩": 0.0 - table["V"]}
    current = (table["beta"] == beta).to_numpy()
    for ax, columns, title in (
        (cost, ("⟨C⟩",), "reconstruction cost"),
        (energies, ("⟨U⟩", "⟨S⟩", "−⟨V⟩"), "KL parts (nats) and log volume"),
    ):
        for column in columns:
            values = shown[column].to_numpy(float)
            (line,) = ax.plot(table["beta"], values, marker="o", markersize=3, label=column)
            ax.plot(table["beta"][current], values[current], marker="o", markersize=9, color=line.get_color())
        ax.axvline(beta, color="grey", linewidth=0.8, linestyle="--")
        ax.set_xlabel("β")
        ax.set_title(title, fontsize=10)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=9, loc="upper left" if ax is energies else "upper right")
    cost.set_ylabel("held-out average")
    return fig


def _finish_beta_panels(figure: Figure, columns, with_theory: bool) -> Figure:
    """Y labels on every β-table panel, a reference line at 1 on the ratio panel, measured values as dots."""
    for ax, column in zip(figure.axes, columns):
        labels = {"⟨C⟩": "average per sample", "−⟨V⟩": "minus log volume (no unit)", "ratio": "−⟨V⟩ / 2(⟨U⟩ + ⟨S⟩)"}
        ax.set_ylabel(labels.get(column, "nats"))  # U and S are parts of a KL: nats; V is a log-determinant
        if column == "ratio":  # a LineCollection, not a Line2D: ax.lines holds only the data
            ax.hlines(1.0, 0, 1, transform=ax.get_yaxis_transform(), colors="black", linestyles=":", linewidth=1)
        if with_theory:  # measured at the grid's β only, not in between: dots, no line
            for line in ax.get_lines():
                if line.get_label() == "measured":
                    line.set_linestyle("none")
    if with_theory:
        figure.axes[0].legend(fontsize=8)
    return figure
