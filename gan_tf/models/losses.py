"""The VAE's ELBO terms as pure functions of the encoder's and decoder's outputs.

(The GANs' losses are their families': the tutorial's, which most share, in
families/mlp.py.)
"""

from __future__ import annotations

import math

import tensorflow as tf


# --- the VAE's objective (Kingma & Welling 2014): pure functions of the encoder's
# (mu, logvar), the decoder's logits and the images x in [0, 1]; every value is in
# nats per image (summed over pixels and latents), batch means where it says so.

def bernoulli_log_likelihood(x, logits):
    """log p(x | z) = sum_i x_i log p_i + (1 - x_i) log(1 - p_i), p = sigmoid(logits),
    per image. On grey pixels (x in (0, 1)) it is the cross-entropy the VAE tutorial
    trains with, not a normalised density (see continuous_bernoulli_log_norm)."""
    return -tf.reduce_sum(tf.nn.sigmoid_cross_entropy_with_logits(labels=x, logits=logits),
                          axis=-1)


def gaussian_kl(mu, logvar):
    """KL(N(mu, exp(logvar)) || N(0, I)) per image, in closed form:
    1/2 sum_j (exp(logvar_j) + mu_j^2 - 1 - logvar_j)."""
    return 0.5 * tf.reduce_sum(tf.exp(logvar) + tf.square(mu) - 1.0 - logvar, axis=-1)


def vae_terms(x, logits, mu, logvar):
    """(reconstruction, kl): batch means of -log p(x | z) for the z the logits came
    from, and of KL(q(z | x) || p(z)). -ELBO = reconstruction + kl."""
    return (-tf.reduce_mean(bernoulli_log_likelihood(x, logits)),
            tf.reduce_mean(gaussian_kl(mu, logvar)))


def gaussian_log_density(z, mu, logvar):
    """log N(z; mu, exp(logvar)) per row, summed over the last axis."""
    return -0.5 * tf.reduce_sum(tf.math.log(2.0 * math.pi) + logvar
                                + tf.square(z - mu) * tf.exp(-logvar), axis=-1)


def continuous_bernoulli_log_norm(logits):
    """log C(p) per image, summed over pixels: the constant that makes the Bernoulli
    expression a density on [0, 1] (Loaiza-Ganem & Cunningham 2019),
    C(p) = 2 artanh(1 - 2p) / (1 - 2p). With p = sigmoid(l), 1 - 2p = -tanh(l/2) and
    artanh of it is -l/2, so C = l / tanh(l/2): no cancellation at p = 1/2, where the
    Taylor series 2 (1 + l^2/12) takes over, nor near p = 0 or 1 (C ~ |l|)."""
    small = tf.abs(logits) < 1e-3
    safe = tf.where(small, tf.ones_like(logits), logits)
    c = tf.where(small, 2.0 * (1.0 + tf.square(logits) / 12.0), safe / tf.tanh(safe / 2.0))
    return tf.reduce_sum(tf.math.log(c), axis=-1)
