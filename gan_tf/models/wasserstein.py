"""The Wasserstein GAN's objective and the two ways of keeping its critic Lipschitz.

The critic f (D without a sigmoid) estimates the Earth-Mover distance between the
data and G's distribution by the Kantorovich-Rubinstein duality,
    W(P_r, P_g) = sup_{||f||_L <= 1} E_{x~P_r}[f(x)] - E_{x~P_g}[f(x)],
so (Arjovsky et al. 2017, Algorithm 1; Gulrajani et al. 2017, Algorithm 1)
    critic loss  E[f(G(z))] - E[f(x)]      (minimised: the negative estimate)
    G loss       -E[f(G(z))]
and the supremum over 1-Lipschitz functions is approximated by either
  * clipping every critic weight to [-c, c] after each update (WGAN, c = 0.01), or
  * the gradient penalty lambda E[(||grad_x^ f(x^)||_2 - 1)^2] at x^ = x + eps (G(z) - x),
    eps ~ U[0, 1] per sample (WGAN-GP, lambda = 10).
Pure functions of the critic's outputs (and, for the penalty, of the critic itself).
"""

from __future__ import annotations

import tensorflow as tf


def critic_loss(real_scores, fake_scores):
    """E[f(G(z))] - E[f(x)]: the critic minimises minus its Wasserstein estimate."""
    return tf.reduce_mean(fake_scores) - tf.reduce_mean(real_scores)


def generator_loss(fake_scores):
    """-E[f(G(z))]."""
    return -tf.reduce_mean(fake_scores)


# Inside the square root of the slopes: the norm's gradient at a zero gradient (a
# critic whose units are all dead at x^) is otherwise 0/0 = NaN; 1e-12 moves a norm of
# order 1 by 5e-13.
_NORM_FLOOR = 1e-12


def gradient_penalty(critic, real, fake, eps):
    """mean over the batch of (||d critic(x^) / d x^||_2 - 1)^2 at x^ = real + eps (fake -
    real) (the authors' gan_mnist.py: `interpolates = real_data + alpha*differences`),
    the norm over each sample's pixels. `critic` maps a batch (B, 784) to (B, 1); the
    gradient is taken inside the caller's tape, so the penalty's own gradient reaches
    the critic's weights (a second derivative)."""
    real = tf.cast(real, tf.float32)
    x_hat = real + tf.cast(eps, tf.float32) * (tf.cast(fake, tf.float32) - real)
    with tf.GradientTape() as tape:
        tape.watch(x_hat)
        # Each sample's score depends on its own x^ only (no batch statistics in a
        # WGAN-GP critic), so the gradient of the sum is every sample's own gradient.
        total = tf.reduce_sum(tf.cast(critic(x_hat), tf.float32))
    grads = tape.gradient(total, x_hat)
    slopes = tf.sqrt(tf.reduce_sum(tf.square(grads), axis=1) + _NORM_FLOOR)
    return tf.reduce_mean(tf.square(slopes - 1.0))


def clip_weights(variables, c: float):
    """Every variable to [-c, c] (the WGAN's critic, batch norm's scale and shift too:
    the authors clip all of netD.parameters())."""
    for v in variables:
        v.assign(tf.clip_by_value(v, -c, c))
