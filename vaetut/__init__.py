"""vaetut: the companion package of the book *Autoencoders, from the bottleneck to the β table*.

Modules, one idea each: `energies` (C, U, S, V, P and the loss), `models` (AE, VAE),
`latent` (what every VAE shares: prior samples, ⟨KL_d⟩, the decoder's cost and learned
variance), `conv` (a convolutional VAE), `saving` (save and load a model, no code run),
`data` (embedded MNIST, corruption, Gaussian data), `download` (full MNIST),
`train` (one loop for every model), `collapse` (the posterior-collapse warning),
`experiments` (the β sweep and its closed form), `pca` (the linear baseline and its seed
spread), `sampling` (Langevin steps with a score), `aggregate` (the aggregate posterior and
ELBO surgery), `elbo_gap` (the ELBO's gap over seeds), `ratedistortion` (the β table as a
rate–distortion curve), `spread` (the β table over seeds), `probe` (codes as features),
`plots` (Figures), `widgets` (ipywidgets interactives; imported on demand).
"""

from .aggregate import elbo_surgery, log_mixture_density, sample_mixture
from .collapse import largest_variance
from .conv import ConvVAE
from .data import corrupt, load_mnist, synthetic_gaussian
from .elbo_gap import load_elbo_gap
from .energies import (
    entropy_penalty,
    kl_divergence,
    log_volume,
    potential_energy,
    prior_energy,
    reconstruction_cost,
    total_loss,
    vae_loss,
)
from .likelihood import log_likelihood
from .models import VAE, Autoencoder
from .ratedistortion import distortion_at_rate, rate_distortion
from .sampling import denoiser_score, langevin
from .saving import load, save
from .train import evaluate, fit, reproducible

__version__ = "0.3.0"

__all__ = [
    "Autoencoder",
    "ConvVAE",
    "VAE",
    "corrupt",
    "denoiser_score",
    "distortion_at_rate",
    "elbo_surgery",
    "entropy_penalty",
    "evaluate",
    "fit",
    "kl_divergence",
    "langevin",
    "largest_variance",
    "load",
    "load_elbo_gap",
    "load_mnist",
    "log_likelihood",
    "log_mixture_density",
    "log_volume",
    "potential_energy",
    "prior_energy",
    "rate_distortion",
    "reconstruction_cost",
    "reproducible",
    "sample_mixture",
    "save",
    "synthetic_gaussian",
    "total_loss",
    "vae_loss",
]
