"""InfoGAN (Chen et al. 2016, "InfoGAN: Interpretable Representation Learning by
Information Maximizing Generative Adversarial Nets") on the tutorials' MLP networks.

G's z (z_dim values of U(-1, 1), as every G here) is read as [noise, c1, c2..]:
z[:, noise] picks a category of the `categorical` code (equal bins of [-1, 1],
models/networks.InfoCodes, one-hot into G) and the last `continuous` values are the
continuous codes, U(-1, 1) as the paper's. D has 1 + categorical + continuous
outputs: the source logit, and the head Q that reads the codes back (sharing D's
hidden layer, as the paper's Q shares D's body). The mutual-information term (the
paper's variational lower bound L_I, Eq. 5) enters both losses with weight
info_weight (lambda = 1, the paper's for discrete codes): -log Q(c1 | x) (softmax
cross-entropy) plus, for the continuous codes, a unit-variance Gaussian's -log
density up to its constant, 1/2 ||c - mu(x)||^2. D (with Q) and G both minimise it.

Its hook: `d_logits` reads the codes back from the z that made a fake and returns
(source logit, -L_I per sample) (0 for real images), so the losses stay functions of
D's outputs. With info_weight 0 the codes are plain noise (the learning test's
ablation).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.params import (AdversarialParams, MlpParams, SigmoidLossParams, count_problems,
                                param, register_params)
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import MlpNetworks, get_losses
from gan_tf.models import networks
from gan_tf.models.networks import category_index

MAX_INFO_WEIGHT = 100.0


@register_params
@dataclass(frozen=True)
class Params(MlpParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "infogan"
    categorical: int = param(10, "categories of InfoGAN's categorical code (the paper's "
                                 "MNIST: 10)")
    continuous: int = param(2, "InfoGAN's continuous codes, each U(-1, 1) (the paper's "
                               "MNIST: 2)")
    info_weight: float = param(1.0, "lambda of InfoGAN's mutual-information term; 0: the "
                                    "codes are plain noise")

    def problems(self, cfg) -> list:
        out = (super().problems(cfg) + count_problems("categorical", self.categorical, 2, 100)
               + count_problems("continuous", self.continuous, 0, 10))
        v = self.info_weight
        if not (type(v) is float and 0.0 <= v <= MAX_INFO_WEIGHT):
            out.append(f"info_weight must be a number in [0, {MAX_INFO_WEIGHT:g}], got {v}")
        if not out and cfg.z_dim < 2 + self.continuous:
            out.append(f"z_dim ({cfg.z_dim}) must hold at least one noise value, the "
                       f"categorical code's and the {self.continuous} continuous codes: "
                       f"at least {2 + self.continuous} (the paper's MNIST: 62 + 1 + 2 = 65)")
        if cfg.params.update != "alternating":
            out.append(f"family 'infogan' trains with alternating updates: drop "
                       f"update={cfg.params.update!r}")
        return out


def noise_dim(cfg) -> int:
    """How many of z's values are noise; z[:, noise_dim] is the categorical code."""
    return cfg.z_dim - 1 - cfg.params.continuous


def info_nll(q_out, z, noise: int, categorical: int, continuous: int):
    """-L_I per sample, up to a constant: -log Q(c1 | x) + 1/2 ||c_cont - mu(x)||^2, from
    Q's outputs (B, categorical + continuous) and the z the fakes were made from, whose
    value `noise` is the categorical code and whose last `continuous` the others."""

    z = tf.cast(z, tf.float32)
    code = tf.one_hot(category_index(z[:, noise], categorical), categorical)
    nll = tf.nn.softmax_cross_entropy_with_logits(labels=code, logits=q_out[:, :categorical])
    if continuous:
        nll += 0.5 * tf.reduce_sum(tf.square(z[:, noise + 1:] - q_out[:, categorical:]), axis=1)
    return nll


def d_loss(real, fake, source, info_weight=1.0):
    """D's (and Q's) loss: D's `source` loss on the source logits plus info_weight
    times the fakes' mean -L_I."""
    return source(real[:, :1], fake[:, :1]) + info_weight * tf.reduce_mean(fake[:, 1])


def g_loss(fake, source, info_weight=1.0):
    """G's `source` loss plus info_weight times the mean -L_I of its fakes."""
    return source(fake[:, :1]) + info_weight * tf.reduce_mean(fake[:, 1])


class Infogan(MlpNetworks, AdversarialFamily):
    name, Params = "infogan", Params

    def generator(self, cfg, seeds):
        codes = networks.InfoCodes(noise_dim(cfg), cfg.params.categorical, name="codes")
        return networks.mlp("generator", cfg, cfg.z_dim, "z", cfg.params.g_hidden,
                            networks.IMAGE_DIM, cfg.g_output, seeds, first=codes)

    def discriminator(self, cfg, seeds):
        p = cfg.params
        D = networks.mlp("discriminator", cfg, networks.IMAGE_DIM, "x", p.d_hidden,
                         1 + p.categorical + p.continuous, None, seeds)
        # What d_logits needs to read the codes back (as the maxout D carries its keep).
        D.info_codes = (noise_dim(cfg), p.categorical, p.continuous)
        return D

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        """(B, 2): the source logit and -L_I of the codes in z (0 where z is None)."""
        out = tf.cast(D(x, training=True), tf.float32)
        if z is None:
            info = tf.zeros_like(out[:, 0])
        else:
            info = info_nll(out[:, 1:], z, *D.info_codes)
        return tf.concat([out[:, :1], info[:, None]], axis=1)

    def losses(self, cfg):

        source_d, source_g = get_losses(cfg)
        w = cfg.params.info_weight
        return (functools.partial(d_loss, source=source_d, info_weight=w),
                functools.partial(g_loss, source=source_g, info_weight=w))

    def d_means(self, real_logits, fake_logits) -> dict:
        return {"d_real": tf.reduce_mean(tf.sigmoid(real_logits[:, 0])),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits[:, 0]))}

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        return (f"InfoGAN ({p.categorical}-way and {p.continuous} continuous codes, "
                f"lambda {p.info_weight})")


FAMILY = Infogan()
