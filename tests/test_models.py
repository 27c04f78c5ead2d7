"""Models: shapes, the reparameterisation trick, linearity, the collapse optimum."""

import pytest
import torch

from vaetut import VAE, Autoencoder


def test_autoencoder_shapes():
    torch.manual_seed(0)
    ae = Autoencoder(input_dim=12, latent_dim=3, hidden_dims=(8, 5))
    y = torch.rand(7, 12)
    assert ae.encode(y).shape == (7, 3)
    assert ae(y).shape == (7, 12)
    assert ((ae(y) > 0) & (ae(y) < 1)).all()  # sigmoid output


def test_vae_samples_in_training_and_uses_mu_in_eval():
    torch.manual_seed(0)
    vae = VAE(input_dim=12, latent_dim=3, hidden_dims=(8,))
    y = torch.rand(5, 12)
    mu, logvar = vae.encode(y)
    assert mu.shape == logvar.shape == (5, 3)
    vae.eval()
    assert torch.equal(vae(y)[0], vae.decode(mu))
    assert not torch.equal(vae(y, sample=True)[0], vae.decode(mu))
    vae.train()
    assert not torch.equal(vae(y)[0], vae(y)[0])


def test_reparameterisation_matches_the_bubble_and_passes_gradients():
    mu = torch.tensor([[1.0, -2.0]], requires_grad=True)
    logvar = torch.tensor([[0.0, 2 * torch.log(torch.tensor(0.5)).item()]], requires_grad=True)
    g = torch.Generator().manual_seed(0)
    zeta = VAE.reparameterize(mu.expand(100_000, 2), logvar.expand(100_000, 2), generator=g)
    torch.testing.assert_close(zeta.mean(0), torch.tensor([1.0, -2.0]), atol=0.02, rtol=0)
    torch.testing.assert_close(zeta.std(0), torch.tensor([1.0, 0.5]), atol=0.01, rtol=0)
    zeta.sum().backward()
    assert mu.grad is not None and logvar.grad is not None and logvar.grad.abs().sum() > 0


def test_no_hidden_layers_means_an_affine_decoder():
    torch.manual_seed(0)
    vae = VAE(input_dim=6, latent_dim=2, hidden_dims=(), output="linear")
    z1, z2, zero = torch.randn(1, 2), torch.randn(1, 2), torch.zeros(1, 2)
    lhs = vae.decode(z1 + z2) - vae.decode(zero)
    rhs = vae.decode(z1) - vae.decode(zero) + vae.decode(z2) - vae.decode(zero)
    torch.testing.assert_close(lhs, rhs)


@pytest.mark.parametrize("output", ["linear", "sigmoid"])
def test_collapse_sets_the_prior_bubble_and_the_mean_image(output):
    torch.manual_seed(0)
    y = torch.rand(50, 6) * 0.8 + 0.1
    vae = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), output=output).collapse_(y.mean(0))
    mu, logvar = vae.encode(y)
    assert torch.equal(mu, torch.zeros_like(mu)) and torch.equal(logvar, torch.zeros_like(logvar))
    torch.testing.assert_close(vae(y, sample=True)[0], y.mean(0).expand(50, 6))


def test_bad_shapes_and_options_are_named():
    vae = VAE(input_dim=10, latent_dim=2, hidden_dims=(4,))
    with pytest.raises(ValueError, match=r"\(N, 10\).*\(3, 9\)"):
        vae.encode(torch.zeros(3, 9))
    with pytest.raises(ValueError, match="unknown output"):
        VAE(output="softmax")
    with pytest.raises(ValueError, match="latent_dim"):
        Autoencoder(latent_dim=0)


def test_integer_arguments_accept_numpy_integers_and_refuse_bools():
    import numpy as np

    assert VAE(input_dim=np.int64(6), latent_dim=np.int64(2), hidden_dims=(np.int32(3),)).latent_dim == 2
    for bad in (dict(latent_dim=True), dict(input_dim=2.0), dict(hidden_dims=(False,)), dict(hidden_dims="12")):
        with pytest.raises(TypeError, match=next(iter(bad))):
            Autoencoder(**bad)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_models_are_built_in_their_dtype_and_leave_the_default_alone(dtype):
    before = torch.get_default_dtype()
    vae = VAE(input_dim=6, latent_dim=2, hidden_dims=(4,), dtype=dtype)
    assert {p.dtype for p in vae.parameters()} == {dtype} and torch.get_default_dtype() == before
    with pytest.raises(TypeError, match="dtype"):
        Autoencoder(dtype=torch.int64)
