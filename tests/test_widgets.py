"""Widgets: the static slider's HTML, the live explorers, and `import vaetut` without ipywidgets."""

import re
import subprocess
import sys

import pytest
import torch

import vaetut
from vaetut import widgets


@pytest.fixture(scope="module")
def small_models():
    y, labels = vaetut.load_mnist(split="test")
    models = {}
    for beta in (0.0, 1.0, 2.0):
        vaetut.reproducible(0)
        model = vaetut.VAE(latent_dim=3, hidden_dims=(16,), output="linear")
        vaetut.fit(model, y[:200], epochs=1, beta=beta, progress=False)
        models[beta] = model
    return models, y[:50], labels[:50]


def test_beta_animation_has_one_frame_per_beta_and_a_matching_slider(small_models):
    models, y, labels = small_models
    frames = widgets.beta_animation(models, y, labels)
    page = frames._repr_html_()
    assert len(re.findall(r"<img ", page)) == 3
    assert 'max="2"' in page and 'value="1"' in page  # starts in the middle
    assert re.findall(r'alt="([^"]*)"', page) == ["β = 0", "β = 1", "β = 2"]
    assert "<script" not in page
    assert frames._repr_html_() == page  # same input, same bytes


def test_denoising_animation_and_explorer(small_models):
    ae = vaetut.Autoencoder(latent_dim=2, hidden_dims=(8,))
    frames = widgets.denoising_animation({"AE": ae}, small_models[1][:4], levels=(0.0, 0.5))
    assert ae.training  # drawing does not leave the caller's model in eval mode
    assert len(frames.pngs) == 2 and all(png.startswith(b"\x89PNG") for png in frames.pngs)
    live = widgets.denoising_explorer({"AE": ae}, small_models[1][:4], levels=(0.0, 0.5))
    assert [c.description for c in live.children[:2]] == ["kind", "level"]


def test_beta_explorer_slider_runs_over_the_betas(small_models):
    live = widgets.beta_explorer(*small_models)
    assert list(live.children[0].options) == [0.0, 1.0, 2.0]


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="models"):
        widgets.beta_animation({}, torch.rand(2, 784), torch.zeros(2))
    with pytest.raises(ValueError, match="name"):
        widgets.Frames([], [], name="no spaces allowed")
    with pytest.raises(ValueError, match="one label per figure"):
        widgets.Frames([], [], name="x")


def test_import_vaetut_without_ipywidgets():
    code = "import sys; sys.modules['ipywidgets'] = None; import vaetut, vaetut.widgets, vaetut.plots; print('ok')"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.stdout.strip() == "ok", result.stderr


def test_explorer_without_ipywidgets_says_how_to_install_it():
    code = (
        "import sys; sys.modules['ipywidgets'] = None\n"
        "import torch, vaetut.widgets as w\n"
        "try:\n    w.beta_explorer({0.0: None}, torch.rand(2, 784), torch.zeros(2))\n"
        "except ImportError as e:\n    print(e)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert "pip install 'vaetut[widgets]'" in result.stdout, result.stderr


def test_beta_frames_draw_the_same_two_dims_and_limits_at_every_beta(small_models):
    models, y, labels = small_models
    bubbles, table, dims, limit = widgets._beta_summary(models, y, seed=0, cost="mse")
    with torch.no_grad():
        mu_last = models[2.0].encode(y)[0]  # oracle: the two largest ⟨μ_d²⟩ at the largest β
    assert sorted(dims) == sorted(mu_last.pow(2).mean(dim=0).topk(2).indices.tolist())
    assert list(table.columns) == ["beta", "C", "U", "S", "V"] and list(table["beta"]) == [0.0, 1.0, 2.0]
    assert (table["V"] <= 0).all()
    for mu, logvar in bubbles.values():
        assert limit >= (mu[:, dims].abs() + (0.5 * logvar[:, dims]).exp()).max()
    assert widgets.DPI >= 100
