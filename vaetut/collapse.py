"""Total posterior collapse, said out loud: every latent dimension's ⟨KL_d⟩ about 0, its likely cause and cure.

When every bubble q(ζ|y) is the prior whatever y is, the code carries no information and
the decoder answers about the same ỹ for every input. For the squared-error cost the book's
linear theory names the cause: with C = ½‖y − ỹ‖², the decoder's noise variance is 1/β, and
a linear VAE collapses every direction of the data whose variance λ is below 1/β (Lucas,
Tucker, Grosse & Norouzi 2019, *Don't Blame the ELBO!*; `vaetut.experiments.linear_vae_theory`).
So when even the largest variance λ₁ of the data is below 1/β, total collapse is the
optimum, not a failure of training: the cure is β > 1/λ₁, or data rescaled so that λ₁ > 1/β.
With a learned decoder variance s² (cost "gaussian") the threshold is s²/β.

β = 0 is collapse by construction (`vaetut.train._collapse`) and is never reported.
"""

from __future__ import annotations

import math

import torch

__all__ = ["collapse_warning", "largest_variance", "KL_THRESHOLD"]

KL_THRESHOLD = 0.01  # nats per latent dimension: below it a dimension says (almost) nothing about y


def largest_variance(y: torch.Tensor) -> float:
    """λ₁, the largest eigenvalue of the covariance of the rows of y (N, D): the data's largest variance."""
    centred = (y - y.mean(dim=0)).double()  # (N, D)
    return torch.linalg.matrix_norm(centred, ord=2).item() ** 2 / len(y)


def collapse_warning(latent_kl, y: torch.Tensor, beta: float, cost: str, decoder_variance: float | None = None):
    """The warning for a VAE trained on y whose every ⟨KL_d⟩ (``latent_kl``) is below KL_THRESHOLD; None otherwise.

    It says what happened, the likely cause (the data's largest variance against 1/β for
    "mse", against s²/β for "gaussian"; the KL's weight for "bce") and the cure.
    """
    if beta == 0 or len(latent_kl) == 0 or max(latent_kl) >= KL_THRESHOLD:
        return None
    what = (
        f"posterior collapse: every latent dimension has ⟨KL_d⟩ below {KL_THRESHOLD} nats "
        f"(the largest is {max(latent_kl):.2g}), so the code carries no information about y "
        "and the decoder answers about the same ỹ for every input."
    )
    if cost == "bce":
        return what + (
            f' Likely cause: with cost="bce" the KL weighs 1/β = {1 / beta:.3g} against what the code can save in C. '
            "Cure: a larger β, or more epochs."
        )
    lam = largest_variance(y)
    if cost == "gaussian":
        s2, noise, name = decoder_variance, f'cost="gaussian" (learned s² = {decoder_variance:.3g})', "s²/β"
    else:
        s2, noise, name = 1.0, 'cost="mse"', "1/β"
    level = s2 / beta  # the noise level that a direction's variance must beat, for a linear VAE
    if lam < level:
        return what + (
            f" Likely cause: with {noise}, the data's largest variance (the top eigenvalue of their covariance) "
            f"is {lam:.3g}, below {name} = {level:.3g}; a linear VAE collapses every direction whose variance "
            f"is below {name} (Lucas et al. 2019). Cure: β above {s2 / lam:.3g}, or rescale the data "
            f"(multiply it by more than {math.sqrt(level / lam):.3g})."
        )
    return what + (
        f" The data's largest variance {lam:.3g} is above {name} = {level:.3g}, so the linear theory does not "
        "predict it. Cure: train longer or with another learning rate, or a larger β."
    )
