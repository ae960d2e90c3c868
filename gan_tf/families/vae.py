"""Kingma & Welling's variational autoencoder (2014) at the tutorials' GAN scale: the
family the GANs are measured against (studies/reports/gan_vs_vae.py).

Encoder d_hidden (ReLU) -> (mu, logvar); decoder g_hidden (ReLU) -> 784 Bernoulli
logits; its saved generator maps the GAN's U(-1, 1) noise to N(0, I) first, so
frames, evaluate and latent use it as any G. The networks are models/vae.py's, its
terms models/losses.py's. Its step, here: a minibatch (the GAN's order, TF1
next_batch), eps ~ N(0, I) from the stateless stream STREAM_EPS at the iteration,
z = mu + exp(logvar / 2) eps (the reparameterization trick), one Adam step on
-ELBO = reconstruction + KL. It trains on one device, as an MLP with a sigmoid
output, unconditional: the GAN-only options are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.params import (MlpParams, OptimizerParams, register_params,
                                run_option_problems, shared)
from gan_tf.data.streams import ALG, STREAM_EPS, stream_seed
from gan_tf.families.base import OWN_STEP_RUN_OPTIONS, Family, Steps
from gan_tf.models import losses
from gan_tf.models.optimizers import make_optimizer
from gan_tf.models.vae import build_decoder, build_encoder, model_state, reparameterize

VALUES = ("neg_elbo", "reconstruction", "kl", "grad_norm")


@register_params
@dataclass(frozen=True)
class Params(MlpParams, OptimizerParams):
    FAMILY = "vae"
    init: str = shared("init")

    def problems(self, cfg) -> list:
        # The VAE is the tutorials' MLP scale on one device, trained by its own step.
        return super().problems(cfg) + run_option_problems(
            cfg, "vae", {k: v for k, v in OWN_STEP_RUN_OPTIONS.items() if k != "precision"},
            "its step is the VAE's own, on one device")


@tf.function(jit_compile=True)
def _normal(seed, stream, counter, batch: int, dim: int):
    return tf.random.stateless_normal([batch, dim], stream_seed(seed, stream, counter),
                                      alg=ALG)


def sample_eps(seed: int, counter, batch: int, dim: int):
    """eps ~ N(0, I) of draw `counter`: a pure function of (seed, counter)."""
    return _normal(tf.constant(seed, tf.int64), tf.constant(STREAM_EPS, tf.int64),
                   tf.cast(counter, tf.int64), batch, dim)


class VaeSteps(Steps):
    """The VAE's encoder, decoder and optimizer, and its ELBO step.

    `terms_fn(x, logits, mu, logvar) -> (reconstruction, kl)` and
    `reparameterize_fn(mu, logvar, eps) -> z` are passed in so that a test can train
    a deliberately broken variant and see the learning criterion catch it."""
    VALUES = VALUES
    LOSSES = ("reconstruction", "kl")

    def __init__(self, E, decoder, G, opt, cfg, train_images,
                 terms_fn=losses.vae_terms, reparameterize_fn=reparameterize):
        self.E, self.decoder, self.G, self.opt = E, decoder, G, opt
        self.terms_fn, self.reparameterize_fn = terms_fn, reparameterize_fn
        super().__init__(cfg, train_images)
        self._vars = E.trainable_variables + decoder.trainable_variables
        opt.build(self._vars)

    def describe(self, values: dict) -> str:
        return (f"-ELBO: {values['neg_elbo']:.4}  (reconstruction: "
                f"{values['reconstruction']:.4}  KL: {values['kl']:.4})")

    def step(self, t):
        cfg = self.cfg
        x, _ = self.batch(t)
        eps = sample_eps(cfg.seed, t, cfg.batch_size, cfg.z_dim)
        with tf.GradientTape() as tape:
            mu, logvar = self.E(x, training=True)
            z = self.reparameterize_fn(mu, logvar, eps)
            rec, kl = self.terms_fn(x, self.decoder(z, training=True), mu, logvar)
            loss = rec + kl
        grads = tape.gradient(loss, self._vars)
        self.opt.apply(grads, self._vars)
        return {"neg_elbo": loss, "reconstruction": rec, "kl": kl,
                "grad_norm": tf.linalg.global_norm(grads)}

    def state(self) -> dict:
        return {**model_state(self.E, self.G),
                **{f"opt/{v.path.split('/', 1)[-1]}": v for v in self.opt.variables}}


class Vae(Family):
    name, Params = "vae", Params

    def build(self, cfg, train_images, train_labels=None, strategy=None, **variants):
        """`variants` (terms_fn, reparameterize_fn) replace the step's pure functions:
        a test trains a deliberately broken VAE and sees the learning criterion catch
        it."""
        E = build_encoder(cfg)
        decoder, G = build_decoder(cfg)
        return VaeSteps(E, decoder, G, make_optimizer(cfg), cfg, train_images, **variants)

    def describe_loss(self, cfg) -> str:
        return f"a VAE with z_dim {cfg.z_dim}"


FAMILY = Vae()
