"""GAN losses as pure functions of D's logits on a real and a fake batch.

Each variant maps (real_logits, fake_logits) -> D loss and fake_logits -> G loss.
"""

from __future__ import annotations

import functools

import tensorflow as tf


def log_d_loss(real_logits, fake_logits, eps=1e-7):
    """The tutorial's D loss, -mean(log D(x) + log(1 - D(G(z)))), on probabilities.

    eps > 0 clips D's probabilities to [eps, 1 - eps] first, exactly as Keras'
    binary cross-entropy does; eps = 0 is the literal formula, whose log(1 - D)
    becomes log(0) = -inf once D's logit exceeds ~17 (1 - sigmoid rounds to 0 in
    float32).
    """
    d_real = _prob(real_logits, eps)
    d_fake = _prob(fake_logits, eps)
    return -tf.reduce_mean(tf.math.log(d_real) + tf.math.log(1.0 - d_fake))


def log_g_loss(fake_logits, eps=1e-7):
    """The tutorial's non-saturating G loss, -mean(log D(G(z))), on probabilities."""
    return -tf.reduce_mean(tf.math.log(_prob(fake_logits, eps)))


def _prob(logits, eps):
    p = tf.sigmoid(logits)
    return tf.clip_by_value(p, eps, 1.0 - eps) if eps > 0 else p


def xent_d_loss(real_logits, fake_logits):
    """mean(sce(real, 1)) + mean(sce(fake, 0)), sce = sigmoid_cross_entropy_with_logits."""
    real = tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.ones_like(real_logits),
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
    if cfg.loss == "log":
        g = log_g_loss_minimax if minimax else log_g_loss
        return (functools.partial(log_d_loss, eps=cfg.log_eps),
                functools.partial(g, eps=cfg.log_eps))
    if cfg.loss == "xent":
        return xent_d_loss, (xent_g_loss_minimax if minimax else xent_g_loss)
    raise ValueError(f"unknown loss {cfg.loss!r}")
