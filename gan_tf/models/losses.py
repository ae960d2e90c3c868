"""GAN losses as pure functions of D's logits on a real and a fake batch, and the
VAE's ELBO terms as pure functions of the encoder's and decoder's outputs.

Each variant maps (real_logits, fake_logits) -> D loss and fake_logits -> G loss.
"""

from __future__ import annotations

import functools
import math

import tensorflow as tf


def log_d_loss(real_logits, fake_logits, eps=1e-7, real_label=1.0):
    """The tutorial's D loss, -mean(log D(x) + log(1 - D(G(z)))), on probabilities.
    With real_label t < 1 (one-sided label smoothing) the real term is the
    cross-entropy to t: t log D(x) + (1 - t) log(1 - D(x)).

    eps > 0 clips D's probabilities to [eps, 1 - eps] first, exactly as Keras'
    binary cross-entropy does; eps = 0 is the literal formula, whose log(1 - D)
    becomes log(0) = -inf once D's logit exceeds ~17 (1 - sigmoid rounds to 0 in
    float32).
    """
    d_real = _prob(real_logits, eps)
    d_fake = _prob(fake_logits, eps)
    real = tf.math.log(d_real)
    if real_label != 1.0:
        real = real_label * real + (1.0 - real_label) * tf.math.log(1.0 - d_real)
    return -tf.reduce_mean(real + tf.math.log(1.0 - d_fake))


def log_g_loss(fake_logits, eps=1e-7):
    """The tutorial's non-saturating G loss, -mean(log D(G(z))), on probabilities."""
    return -tf.reduce_mean(tf.math.log(_prob(fake_logits, eps)))


def _prob(logits, eps):
    p = tf.sigmoid(logits)
    return tf.clip_by_value(p, eps, 1.0 - eps) if eps > 0 else p


def xent_d_loss(real_logits, fake_logits, real_label=1.0):
    """mean(sce(real, t)) + mean(sce(fake, 0)), sce = sigmoid_cross_entropy_with_logits
    and t = real_label: 1, or below for one-sided label smoothing (Salimans et al.
    2016, section 3.4: only the real targets are smoothed)."""
    real = tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.fill(tf.shape(real_logits), tf.constant(real_label, real_logits.dtype)),
        logits=real_logits)
    fake = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.zeros_like(fake_logits),
                                                   logits=fake_logits)
    return tf.reduce_mean(real) + tf.reduce_mean(fake)


def xent_g_loss(fake_logits):
    """mean(sce(fake, 1)): G is trained to make D call its samples real."""
    return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.ones_like(fake_logits), logits=fake_logits))


def log_g_loss_minimax(fake_logits, eps=1e-7):
    """The GAN paper's original G objective, minimise mean(log(1 - D(G(z)))), on
    probabilities. It saturates: when D rejects fakes confidently, D(G(z)) ~ 0 and
    its gradient vanishes (the lecture's reason for the non-saturating loss)."""
    return tf.reduce_mean(tf.math.log(1.0 - _prob(fake_logits, eps)))


def xent_g_loss_minimax(fake_logits):
    """The same minimax objective on logits: -mean(sce(fake, 0)) = mean(log(1 - D))."""
    return -tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
        labels=tf.zeros_like(fake_logits), logits=fake_logits))


def get_losses(cfg):
    """(d_loss_fn, g_loss_fn) for cfg.loss (form) and cfg.g_loss (objective)."""
    minimax = cfg.g_loss == "minimax"
    t = getattr(cfg, "real_label", 1.0)
    if cfg.loss == "log":
        g = log_g_loss_minimax if minimax else log_g_loss
        return (functools.partial(log_d_loss, eps=cfg.log_eps, real_label=t),
                functools.partial(g, eps=cfg.log_eps))
    if cfg.loss == "xent":
        return (functools.partial(xent_d_loss, real_label=t),
                xent_g_loss_minimax if minimax else xent_g_loss)
    raise ValueError(f"unknown loss {cfg.loss!r}")


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
