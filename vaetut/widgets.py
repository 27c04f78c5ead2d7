"""Interactives for the chapters: a noise-level slider for the denoising AE and a β slider for the VAE.

Only the interactivity lives here; the pictures are drawn by `vaetut.plots`.

Each comes twice. ``*_explorer`` is a live ipywidgets interactive (it needs a kernel);
``*_animation`` is its static form: every slider position rendered once to PNG and put in
a self-contained HTML slider that works in the rendered book without a kernel.
ipywidgets is imported only when a live explorer is built, so ``import vaetut`` works
without it (and without a display).
"""

from __future__ import annotations

import base64
import html
import io
import re
from contextlib import contextmanager

import pandas as pd
import torch
from matplotlib.figure import Figure

from . import plots
from .data import corrupt
from .train import evaluate

__all__ = ["denoising_explorer", "denoising_animation", "beta_explorer", "beta_animation", "Frames"]

DEFAULT_LEVELS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
DPI = 110  # frames are shown at their pixel size: 110 dpi keeps 8-point text legible


class Frames:
    """A static slider over pre-rendered figures: shows as HTML in a notebook or a rendered page."""

    def __init__(self, figures: list[Figure], labels: list[str], name: str, start: int = 0):
        if not re.fullmatch(r"[A-Za-z][\w-]*", name):
            raise ValueError(f"name must be a plain identifier (it becomes an HTML id), got {name!r}")
        if len(figures) != len(labels) or not figures:
            raise ValueError(f"need one label per figure, got {len(figures)} figures and {len(labels)} labels")
        self.labels, self.name, self.start = list(labels), name, start
        self.pngs = [_png(fig) for fig in figures]

    def __repr__(self) -> str:
        return f"<Frames {self.name!r}: {len(self.labels)} positions, {self.labels[0]} … {self.labels[-1]}>"

    def _repr_html_(self) -> str:
        # Only an inline handler, no <script>: every frame is an <img>; the slider shows one.
        images = "".join(
            f'<img alt="{html.escape(label)}" src="data:image/png;base64,{base64.b64encode(png).decode()}" '
            f'style="max-width:100%;display:{"block" if i == self.start else "none"}">'
            for i, (label, png) in enumerate(zip(self.labels, self.pngs))
        )
        handler = (
            "var f=this.parentNode.parentNode.querySelectorAll('img');"
            "for(var i=0;i<f.length;i++){f[i].style.display=(i==this.value)?'block':'none';}"
            "this.nextElementSibling.textContent=f[this.value].alt;"
        )
        return (
            f'<div class="vaetut-frames" id="vaetut-{self.name}">'
            f'<div><input type="range" min="0" max="{len(self.pngs) - 1}" step="1" value="{self.start}" '
            f'aria-label="{html.escape(self.name)}" oninput="{handler}" style="width:60%;vertical-align:middle"> '
            f"<span>{html.escape(self.labels[self.start])}</span></div>{images}</div>"
        )


def _ipywidgets():
    """ipywidgets, or an ImportError that says how to install it."""
    try:
        import ipywidgets
    except ImportError as error:
        raise ImportError(
            "the live explorers need ipywidgets: pip install 'vaetut[widgets]' (or pip install ipywidgets); "
            "the *_animation functions work without it"
        ) from error
    return ipywidgets


@contextmanager
def _eval_mode(model: torch.nn.Module):
    """Run in eval mode, then give the model back in the mode it came in."""
    was_training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(was_training)


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, metadata={"Software": None})
    return buffer.getvalue()


@torch.no_grad()
def _denoising_figure(models: dict, images: torch.Tensor, kind: str, level: float, seed: int) -> Figure:
    """Clean y, its corrupted copy, and each model's reconstruction of the corrupted copy, one row each."""
    y_corrupted = corrupt(images, kind, level, generator=torch.Generator().manual_seed(seed))
    rows = {"y (clean)": images, f"{kind} {level:.1f}": y_corrupted}
    for name, model in models.items():
        with _eval_mode(model):
            rows[f"{name}: ỹ"] = model(y_corrupted)
    return plots.image_rows(rows)


def _check_models(models: dict, what: str) -> None:
    if not isinstance(models, dict) or not models:
        raise ValueError(f"models must be a non-empty dict of {what} → model, got {type(models).__name__}")


def denoising_explorer(models: dict, images: torch.Tensor, *, kind: str = "mask", levels=DEFAULT_LEVELS, seed: int = 0):
    """A live slider over the noise level (and a menu of corruption kinds) showing each model's denoised digits."""
    widgets = _ipywidgets()
    from IPython.display import display

    from .data import CORRUPTIONS

    _check_models(models, "name")
    levels = [float(level) for level in levels]

    def show(kind: str, level: float) -> None:
        display(_denoising_figure(models, images, kind, level, seed))

    return widgets.interactive(
        show,
        kind=widgets.Dropdown(options=CORRUPTIONS, value=kind, description="kind"),
        level=widgets.SelectionSlider(options=levels, value=levels[len(levels) // 2], description="level"),
    )


def denoising_animation(
    models: dict, images: torch.Tensor, *, kind: str = "mask", levels=DEFAULT_LEVELS, seed: int = 0
) -> Frames:
    """The static form of `denoising_explorer` for one corruption kind: one frame per noise level."""
    _check_models(models, "name")
    figures = [_denoising_figure(models, images, kind, float(level), seed) for level in levels]
    return Frames(
        figures,
        [f"{kind}, level {float(level):.1f}" for level in levels],
        name=f"denoising-{kind}",
        start=len(figures) // 2,
    )


@torch.no_grad()
def _beta_summary(models: dict, images: torch.Tensor, seed: int, cost: str):
    """The bubbles (μ, log σ²) of every β's model, the plain β table (beta, C, U, S, V), the two dims and the limit.

    The two latent dimensions are chosen once, those with the largest ⟨μ_d²⟩ at the largest β,
    and the half-width covers every β's bubbles in them: every frame has the same axes.
    """
    bubbles, rows = {}, []
    for beta, model in sorted(models.items()):
        with _eval_mode(model):
            bubbles[beta] = model.encode(images.to(next(model.parameters()).dtype))  # (N, D) each
        averages = evaluate(model, images, beta=beta, cost=cost, seed=seed)
        rows.append({"beta": beta, **{term: averages[term] for term in ("C", "U", "S", "V")}})
    mu_last = bubbles[max(bubbles)][0]
    dims = mu_last.pow(2).mean(dim=0).argsort(descending=True)[:2].tolist()
    limit = max(plots._bubble_reach(mu, logvar, dims) for mu, logvar in bubbles.values())
    return bubbles, pd.DataFrame(rows), dims, limit


def beta_explorer(
    models: dict, images: torch.Tensor, labels, *, cost: str = "mse", seed: int = 0, max_points: int = 300
):
    """A live β slider over trained VAEs ({β: model}, trained with ``cost``): the bubbles and ⟨C⟩ ⟨U⟩ ⟨S⟩ −⟨V⟩."""
    widgets = _ipywidgets()
    from IPython.display import display

    _check_models(models, "β")
    bubbles, table, dims, limit = _beta_summary(models, images, seed, cost)

    def show(beta: float) -> None:
        display(plots.beta_frame(*bubbles[beta], labels, table, beta, dims=dims, limit=limit, max_points=max_points))

    betas = list(bubbles)
    return widgets.interactive(
        show, beta=widgets.SelectionSlider(options=betas, value=betas[len(betas) // 2], description="β")
    )


def beta_animation(
    models: dict, images: torch.Tensor, labels, *, cost: str = "mse", seed: int = 0, max_points: int = 300
) -> Frames:
    """The static form of `beta_explorer`: one frame per β, the same two latent dimensions and limits in each."""
    _check_models(models, "β")
    bubbles, table, dims, limit = _beta_summary(models, images, seed, cost)
    figures = [
        plots.beta_frame(mu, logvar, labels, table, beta, dims=dims, limit=limit, max_points=max_points)
        for beta, (mu, logvar) in bubbles.items()
    ]
    return Frames(figures, [f"β = {beta:g}" for beta in bubbles], name="beta", start=len(figures) // 2)
