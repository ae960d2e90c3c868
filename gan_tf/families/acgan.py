"""The auxiliary classifier GAN (Odena et al. 2017, "Conditional Image Synthesis with
Auxiliary Classifier GANs"), on the cGAN tutorial's MLP networks.

G is the cGAN's: it sees [z, one-hot c] and is asked for class c (the real batch's
labels, as the cGAN's fakes are, a draw from the data's class distribution). D does
not see the label; it has 1 + 10 outputs, the source logit and the class logits
(784-128-11), and is trained to tell real from fake *and* to classify both. With
L_S the log-likelihood of the right source and L_C that of the right class (the
paper's Eqs. 2-3), D maximises L_S + L_C and G maximises L_C - L_S; the source terms
are the shared losses (cfg.params.loss, and cfg.params.g_loss's non-saturating form by default:
G minimises -log D(G(z, c)) - lambda log p(c | G(z, c))).

Its hook: D's output on a labelled batch is (source logit, -log p(class | x)) per
sample (`d_logits`), so both losses stay pure functions of D's outputs. With
class_weight 0 the class terms are gone and G is never told to draw its label (the
learning test's ablation).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import ClassVar

import tensorflow as tf

from gan_tf.core.params import (AdversarialParams, MlpParams, SigmoidLossParams, param,
                                register_params)
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import MlpNetworks, get_losses
from gan_tf.models import networks

MAX_CLASS_WEIGHT = 100.0


@register_params
@dataclass(frozen=True)
class Params(MlpParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "acgan"
    # G is always conditioned (labels are loaded, frames get one row per class); D
    # never sees the label.
    conditional: ClassVar[bool] = True
    class_weight: float = param(1.0, "weight of the auxiliary classifier's terms "
                                     "(AC-GAN's L_C) in D's and G's losses; 0: none")

    def problems(self, cfg) -> list:
        out = super().problems(cfg)
        v = self.class_weight
        if not (type(v) is float and 0.0 <= v <= MAX_CLASS_WEIGHT):
            out.append(f"class_weight must be a number in [0, {MAX_CLASS_WEIGHT:g}], got {v}")
        if cfg.params.update != "alternating":
            out.append("family 'acgan' trains with alternating updates: drop "
                       f"update={cfg.params.update!r}")
        return out


def d_loss(real, fake, source, class_weight=1.0):
    """real, fake: (B, 2) of (source logit, -log p(class | x)). -(L_S + L_C): D's
    `source` loss (cfg.params.loss's form of real as real and fake as fake) on the source
    logits, plus class_weight times the class terms of both batches (batch means)."""
    return source(real[:, :1], fake[:, :1]) + class_weight * (tf.reduce_mean(real[:, 1])
                                                              + tf.reduce_mean(fake[:, 1]))


def g_loss(fake, source, class_weight=1.0):
    """G's `source` loss (cfg.params.g_loss's: -log D(G(z, c)) non-saturating) plus
    class_weight * -log p(c | G(z, c)), batch means."""
    return source(fake[:, :1]) + class_weight * tf.reduce_mean(fake[:, 1])


class Acgan(MlpNetworks, AdversarialFamily):
    name, Params = "acgan", Params

    def discriminator(self, cfg, seeds):
        return networks.mlp("discriminator", cfg, networks.IMAGE_DIM, "x",
                            cfg.params.d_hidden, 1 + networks.NUM_CLASSES, None, seeds,
                            conditional=False)

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        """(B, 2): the source logit and -log p(y | x) from D's class logits."""
        out = tf.cast(D(x, training=True), tf.float32)
        nll = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=out[:, 1:])
        return tf.concat([out[:, :1], nll[:, None]], axis=1)

    def losses(self, cfg):
        """The tutorial's losses (the params' loss, g_loss, real_label) on the source
        logit, and the class terms."""

        source_d, source_g = get_losses(cfg)
        w = cfg.params.class_weight
        return (functools.partial(d_loss, source=source_d, class_weight=w),
                functools.partial(g_loss, source=source_g, class_weight=w))

    def d_means(self, real_logits, fake_logits) -> dict:
        return {"d_real": tf.reduce_mean(tf.sigmoid(real_logits[:, 0])),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits[:, 0]))}

    def describe_loss(self, cfg) -> str:
        return f"AC-GAN (class weight {cfg.params.class_weight})"


FAMILY = Acgan()
