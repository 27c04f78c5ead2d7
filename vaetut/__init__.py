"""vaetut: the companion package of the book *Autoencoders, from the bottleneck to the β table*.

Modules, one idea each: `energies` (C, U, S, V, P and the loss), `models` (AE, VAE),
`data` (embedded MNIST, corruption, Gaussian data), `download` (full MNIST),
`train` (one loop for every model), `experiments` (the β sweep and its closed form),
`ratedistortion` (the β table as a rate–distortion curve), `spread` (the β table over seeds),
`probe` (codes as features), `plots` (Figures), `widgets` (ipywidgets interactives; imported on demand).
"""

from .data import corrupt, load_mnist, synthetic_gaussian
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
from .train import evaluate, fit, reproducible

__version__ = "0.2.0"

__all__ = [
    "Autoencoder",
    "VAE",
    "corrupt",
    "distortion_at_rate",
    "entropy_penalty",
    "evaluate",
    "fit",
    "kl_divergence",
    "load_mnist",
    "log_likelihood",
    "log_volume",
    "potential_energy",
    "prior_energy",
    "rate_distortion",
    "reconstruction_cost",
    "reproducible",
    "synthetic_gaussian",
    "total_loss",
    "vae_loss",
]
