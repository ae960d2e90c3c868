"""The TensorFlow tutorial's vanilla GAN, top to bottom: networks, losses, step.

Agustinus Kristiadi's "Generative Adversarial Nets in TensorFlow" trains, on MNIST:
  D(x)  = sigmoid(relu(x D_W1 + D_b1) D_W2 + D_b2)       784 -> 128 -> 1
  G(z)  = sigmoid(relu(z G_W1 + G_b1) G_W2 + G_b2)       100 -> 128 -> 784
with every W drawn by its own `xavier_init`, N(0, 1 / sqrt(in_dim / 2)) untruncated
(models/networks.TutorialXavier), every b zero, and z ~ U(-1, 1). Its losses, on D's
probabilities:
  D_loss = -mean(log D(x) + log(1 - D(G(z))))      G_loss = -mean(log D(G(z)))
or, in its second form, sigmoid_cross_entropy_with_logits of D's logits against 1 for
real and 0 for fake (`--loss log|xent`). Each iteration: one Adam
step of D on a real minibatch of 128 and a z batch, then one Adam step of G on a
fresh z batch (`TutorialGan.step` below); a 4x4 grid of G's samples every 1,000.

The later tutorials change this file's options, not its code: hidden sizes (the
deeper MLP), G's tanh output, same z, k D steps, the minimax G loss, and
`conditional` (Mirza & Osindero's cGAN: G sees [z, y], D sees [x, y]); those run
through the shared adversarial step (adversarial.py), of which the tutorial's step is
the k = 1 case. The only family whose seeds train as one program (training/stack.py).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import keras
import tensorflow as tf

from gan_tf.core.params import (AdversarialParams, ImprovedParams, MlpParams,
                                SigmoidLossParams, param, register_params)
from gan_tf.data.streams import STREAM_Z_D, STREAM_Z_G
from gan_tf.families.adversarial import AdversarialFamily, AdversarialGan
from gan_tf.models import networks
from gan_tf.models.networks import IMAGE_DIM, NUM_CLASSES, TutorialXavier


@register_params
@dataclass(frozen=True)
class Params(ImprovedParams, MlpParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "mlp"
    conditional: bool = param(False, "condition G and D on the one-hot label (Mirza & "
                                     "Osindero's cGAN); frames get one row per class")


# --- the networks

class MlpNetworks:
    """The tutorials' fully connected networks, a family's choice (mixed in before its
    family class): D 784 -> d_hidden (ReLU) -> 1 logit, G z -> g_hidden (ReLU) -> 784
    with G's output activation (cfg.g_output); with a `conditional` family parameter
    both take the one-hot label beside their input."""

    def discriminator(self, cfg, seeds):
        # D_W1, D_b1: 784 -> 128 (ReLU); D_W2, D_b2: 128 -> 1, D's logit (the losses
        # apply the sigmoid where they need D's probability).
        return dense_net("discriminator", cfg, IMAGE_DIM, "x", cfg.params.d_hidden, 1, None,
                         seeds)

    def generator(self, cfg, seeds):
        # G_W1, G_b1: 100 -> 128 (ReLU); G_W2, G_b2: 128 -> 784 (sigmoid).
        return dense_net("generator", cfg, cfg.z_dim, "z", cfg.params.g_hidden, IMAGE_DIM,
                         cfg.g_output, seeds)


def dense_net(name, cfg, in_dim, in_name, hidden, out_dim, activation, seeds):
    """The tutorial's net: in_dim -> hidden (ReLU) -> out_dim with `activation`, every W
    its own `xavier_init` draw (one seed each, from `seeds`), every b zero. The GAN
    paper's init and noise, and bfloat16, build the same layers through
    models/networks.mlp."""
    if cfg.params.init != "xavier_tutorial" or cfg.params.noise != "uniform" or (
            networks.mixed(cfg)):
        return networks.mlp(name, cfg, in_dim, in_name, hidden, out_dim, activation, seeds)
    x = keras.Input((in_dim,), name=in_name)
    inputs, h = x, x
    if cfg.conditional:     # the cGAN: the one-hot label beside the input
        y = keras.Input((NUM_CLASSES,), name="label")
        inputs, h = [x, y], keras.layers.Concatenate(name="with_label")([x, y])
    names = ["hidden"] if len(hidden) == 1 else [f"hidden{i + 1}" for i in range(len(hidden))]
    for size, layer in zip(hidden, names):
        h = keras.layers.Dense(size, activation="relu", name=layer, bias_initializer="zeros",
                               kernel_initializer=TutorialXavier(seed=next(seeds)))(h)
    out = keras.layers.Dense(out_dim, activation=activation, name="out",
                             bias_initializer="zeros",
                             kernel_initializer=TutorialXavier(seed=next(seeds)))(h)
    return keras.Model(inputs, out, name=name)


# --- the losses: pure functions of D's logits on a real and a fake batch

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
    """(d_loss_fn, g_loss_fn) for the family's loss (form), g_loss (objective) and
    real_label (core/params.SigmoidLossParams)."""
    p = cfg.params
    g_minimax = p.g_loss == "minimax"
    if p.loss == "log":
        g = log_g_loss_minimax if g_minimax else log_g_loss
        return (functools.partial(log_d_loss, eps=p.log_eps, real_label=p.real_label),
                functools.partial(g, eps=p.log_eps))
    if p.loss == "xent":
        return (functools.partial(xent_d_loss, real_label=p.real_label),
                xent_g_loss_minimax if g_minimax else xent_g_loss)
    raise ValueError(f"unknown loss {p.loss!r}")


class TutorialLosses:
    """The tutorial's losses as a family's `losses` hook (mixed in before its family
    class): every GAN family that trains with them."""

    def losses(self, cfg):
        return get_losses(cfg)


# --- the step

class TutorialGan(AdversarialGan):
    """The tutorial's iteration, written out; other options take the shared step."""

    def step(self, t):
        if not is_tutorial_step(self.cfg):   # k D steps, same z, a cGAN, an EMA of G,
            return super().step(t)           # several devices: adversarial.py's step
        # --- D: one Adam step on minibatch t of the real images and a z batch.
        # G's output is an input here: no gradient flows into G.
        x, _ = self.batch(t)
        fake = self.G(self.z_batch(STREAM_Z_D, t), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.D(x, training=True)
            fake_logits = self.D(fake, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
        d_vars = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        # --- G: one Adam step on a fresh z batch, through the just-updated D.
        z = self.z_batch(STREAM_Z_G, t)
        with tf.GradientTape() as tape:
            g_loss = self.g_loss_fn(self.D(self.G(z, training=True), training=True))
        g_vars = self.G.trainable_variables
        g_grads = tape.gradient(g_loss, g_vars)
        self.g_opt.apply(g_grads, g_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)), "g_loss": g_loss,
                "g_grad_norm": tf.linalg.global_norm(g_grads)}


def is_tutorial_step(cfg) -> bool:
    """Whether cfg trains with the first tutorial's step: one D step then one G step
    on a fresh z, one device, no cGAN, no moving average, D's loss unscaled, none of
    Salimans et al.'s techniques."""
    p = cfg.params
    return (p.d_steps == 1 and p.update == "alternating" and not p.same_z
            and not cfg.conditional and p.g_ema == 0 and p.d_loss_scale == 1.0
            and cfg.strategy == "default" and not improved(p))


def improved(p) -> bool:
    """Whether params p turn on any of Salimans et al.'s techniques (adversarial.py)."""
    return (getattr(p, "g_loss", "") == "feature_matching"
            or getattr(p, "minibatch_kernels", 0) > 0
            or getattr(p, "historical_averaging", 0.0) > 0 or getattr(p, "g_vbn", False))


class Mlp(MlpNetworks, TutorialLosses, AdversarialFamily):
    name, Params = "mlp", Params
    stackable = True

    def steps_class(self, cfg):
        return TutorialGan


FAMILY = Mlp()
