"""ConvVAE: the VAE's interface with convolutions, trained by the unchanged `fit`."""

import pytest
import torch
from torch.distributions import Normal, kl_divergence

import vaetut
from vaetut import ConvVAE, evaluate, fit, load_mnist


@pytest.mark.parametrize("shape", [(28, 28), (8, 8), (7, 5)])
def test_shapes_for_any_image_size(shape):
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=3, image_shape=shape, channels=(2, 4))
    y = torch.rand(5, shape[0] * shape[1])
    mu, logvar = model.encode(y)
    assert mu.shape == logvar.shape == (5, 3) and model.input_dim == shape[0] * shape[1]
    assert model.decode(mu).shape == (5, model.input_dim)
    assert model.sample(4, generator=torch.Generator().manual_seed(0)).shape == (4, model.input_dim)


def test_its_kl_terms_match_torch_distributions():
    torch.manual_seed(0)
    model = ConvVAE(latent_dim=4, image_shape=(8, 8), channels=(3,), dtype=torch.float64)
    y = torch.rand(6, 64, dtype=torch.float64)
    terms = model.terms(y, y, generator=torch.Generator().manual_seed(0))
    mu, logvar = model.encode(y)
    expected = kl_divergence(Normal(mu, (0.5 * logvar).exp()), Normal(0.0, 1.0)).sum(1)  # (6,)
    torch.testing.assert_close(terms["U"] + terms["S"], expected)
    torch.testing.assert_close(terms["V"], logvar.sum(1))


def test_fit_trains_it_unchanged_and_beta_zero_collapses_it():
    y = load_mnist()[0][:512]  # float32
    vaetut.reproducible(0)
    model = ConvVAE(latent_dim=4, channels=(4, 8))
    history = fit(model, y, epochs=3, batch_size=64, lr=1e-2, progress=False)
    assert list(history.to_frame().columns) == ["loss", "C", "U", "S", "V"]
    assert history.loss[-1] < 0.85 * history.loss[0]  # the loss falls (545 nats: a sigmoid output of ½ everywhere)
    assert model.cost == "bce" and evaluate(model, y)["loss"] < history.loss[0]
    collapsed = ConvVAE(latent_dim=4, channels=(4,), output="linear")
    fit(collapsed, y, beta=0, progress=False)
    averages = evaluate(collapsed, y, beta=0)
    spread = (0.5 * (y - y.mean(0)).pow(2).sum(1)).mean().item()  # ⟨½‖y − ȳ‖²⟩, computed here
    assert averages["U"] == averages["S"] == 0 and averages["C"] == pytest.approx(spread, rel=1e-5)


def test_bad_arguments_are_named():
    with pytest.raises(TypeError, match="image_shape"):
        ConvVAE(image_shape=784)
    with pytest.raises(TypeError, match="channels"):
        ConvVAE(channels=())
    with pytest.raises(ValueError, match="channels"):
        ConvVAE(channels=(4, 0))
    with pytest.raises(ValueError, match="output"):
        ConvVAE(output="tanh")
