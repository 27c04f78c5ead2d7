"""save and load: a model comes back whole, and nothing else comes back at all."""

import json
import os
import pickle

import pytest
import torch

import vaetut
from vaetut import VAE, Autoencoder, ConvVAE, load, save

MODELS = {
    "ae": lambda: Autoencoder(6, 2, (4,), output="linear", dtype=torch.float64),
    "vae": lambda: VAE(6, 3, (5, 4), dtype=torch.float32),
    "vae-gaussian": lambda: VAE(6, 2, (), output="linear", cost="gaussian", dtype=torch.float64),
    "conv": lambda: ConvVAE(3, image_shape=(5, 7), channels=(2, 3), output="linear", cost="mse"),
}


@pytest.mark.parametrize("name", list(MODELS))
def test_a_saved_model_loads_with_its_weights_and_everything_needed_to_rebuild_it(tmp_path, name):
    torch.manual_seed(0)
    model = MODELS[name]()
    with torch.no_grad():
        for parameter in model.parameters():
            parameter.add_(torch.randn(parameter.shape, dtype=parameter.dtype))  # not the initial draws
    path = save(model, tmp_path / "model.pt")
    assert os.listdir(tmp_path) == ["model.pt"]  # written atomically: no temporary file left
    torch.manual_seed(1)
    expected = torch.rand(3)
    torch.manual_seed(1)
    loaded = load(path)
    assert torch.equal(torch.rand(3), expected)  # loading leaves the global RNG alone
    assert type(loaded) is type(model) and loaded.config() == model.config() and loaded.cost == model.cost
    state, loaded_state = model.state_dict(), loaded.state_dict()
    assert state.keys() == loaded_state.keys() and all(torch.equal(state[k], loaded_state[k]) for k in state)
    y = torch.rand(4, model.input_dim, dtype=next(model.parameters()).dtype)
    g = lambda: torch.Generator().manual_seed(0)  # noqa: E731
    assert all(
        torch.equal(a, b)
        for a, b in zip(model.terms(y, y, generator=g()).values(), loaded.terms(y, y, generator=g()).values())
    )


def test_the_file_is_plain_weights_and_a_json_header(tmp_path):
    path = save(VAE(6, 2, (4,), output="linear", dtype=torch.float64), tmp_path / "m.pt")
    payload = torch.load(path, weights_only=True)  # torch's safe loader reads it as it is
    header = json.loads(payload["header"])
    assert header["class"] == "VAE" and header["vaetut"] == vaetut.__version__
    assert header["config"] == dict(
        input_dim=6, latent_dim=2, hidden_dims=[4], output="linear", cost="mse", dtype="float64"
    )


class Payload:
    """An object whose unpickling would run code."""

    def __reduce__(self):
        return (os.system, ("touch pwned",))


def test_a_file_that_would_run_code_is_refused_without_running_it(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = tmp_path / "evil.pt"
    torch.save({"header": "{}", "state_dict": {}, "x": Payload()}, path)
    with pytest.raises(ValueError, match="refuses to run"):
        load(path)
    assert not (tmp_path / "pwned").exists()
    path.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ValueError):
        load(path)
    assert not (tmp_path / "pwned").exists()


def _rewrite(path, change):
    payload = torch.load(path, weights_only=True)
    header = json.loads(payload["header"])
    change(header, payload["state_dict"])
    payload["header"] = json.dumps(header)
    torch.save(payload, path)


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda h, s: h.update(vaetut="99.0.0"), r"saved by vaetut 99\.0\.0.*newer.*upgrade"),
        (lambda h, s: h.update(format=2), "newer"),
        (lambda h, s: s["to_mu.bias"].add_(1.0), "checksum"),
        (lambda h, s: h.update({"class": "Sequential"}), "unknown model class"),
        (lambda h, s: h["config"].update(dtype="int64"), "dtype"),
        (lambda h, s: h["config"].update(latent_dim=3), "do not make a VAE"),
        (lambda h, s: h["config"].update(evil="x"), "do not make a VAE"),
    ],
)
def test_a_newer_or_tampered_file_gets_a_clear_error(tmp_path, change, message):
    path = save(VAE(6, 2, (4,), dtype=torch.float64), tmp_path / "m.pt")
    _rewrite(path, change)  # the last two keep the weights and their checksum: only the header lies
    with pytest.raises(ValueError, match=message):
        load(path)


def test_not_a_model_file_and_bad_arguments(tmp_path):
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a vaetut model file"):
        load(junk)
    torch.save({"weights": torch.zeros(2)}, tmp_path / "other.pt")
    with pytest.raises(ValueError, match="not a vaetut model file"):
        load(tmp_path / "other.pt")
    with pytest.raises(FileNotFoundError):
        load(tmp_path / "missing.pt")
    with pytest.raises(TypeError, match="path"):
        load(3)
    with pytest.raises(TypeError, match="model must be one of"):
        save(torch.nn.Linear(2, 2), tmp_path / "linear.pt")
    assert sorted(os.listdir(tmp_path)) == ["junk.pt", "other.pt"]
