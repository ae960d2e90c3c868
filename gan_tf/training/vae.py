"""The VAE's training step (Kingma & Welling 2014) inside the GAN's compiled loop.

One iteration: a minibatch (the GAN's order, TF1 next_batch), eps ~ N(0, I) from
the stateless stream STREAM_EPS at the iteration, z = mu + exp(logvar / 2) eps (the
reparameterization trick), one Adam step on -ELBO = reconstruction + KL. The
`VaeTrainer` has the GAN Trainer's interface (chunk, state, iteration, G), so a run
trains, checkpoints, stops and resumes it unchanged. The models are models/vae.py's.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.models import losses
from gan_tf.models.vae import build_decoder, build_encoder, model_state, reparameterize
from gan_tf.training.loop import Trainer, make_optimizer
from gan_tf.training.streams import ALG, STREAM_EPS, stream_seed

VALUES = ("neg_elbo", "reconstruction", "kl", "grad_norm")


@tf.function(jit_compile=True)
def _normal(seed, stream, counter, batch: int, dim: int):
    return tf.random.stateless_normal([batch, dim], stream_seed(seed, stream, counter),
                                      alg=ALG)


def sample_eps(seed: int, counter, batch: int, dim: int):
    """eps ~ N(0, I) of draw `counter`: a pure function of (seed, counter)."""
    return _normal(tf.constant(seed, tf.int64), tf.constant(STREAM_EPS, tf.int64),
                   tf.cast(counter, tf.int64), batch, dim)


class VaeTrainer(Trainer):
    """The GAN Trainer's chunked, compiled loop and batches around a VAE step.

    `terms_fn(x, logits, mu, logvar) -> (reconstruction, kl)` and
    `reparameterize_fn(mu, logvar, eps) -> z` are passed in so that a test can train
    a deliberately broken variant and see the learning criterion catch it."""
    VALUES = VALUES
    LOSSES = ("reconstruction", "kl")

    def __init__(self, E, decoder, G, opt, cfg, train_images,
                 terms_fn=losses.vae_terms, reparameterize_fn=reparameterize):
        self.E, self.decoder, self.G, self.opt = E, decoder, G, opt
        self.terms_fn, self.reparameterize_fn = terms_fn, reparameterize_fn
        self.strategy, self.replicas = None, 1
        self._init_data(cfg, train_images, None)
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

    def legacy_state(self) -> dict:
        return self.state()   # VAE checkpoints were always by name


def build_vae_trainer(cfg, train_images, **variants) -> VaeTrainer:
    E = build_encoder(cfg)
    decoder, G = build_decoder(cfg)
    return VaeTrainer(E, decoder, G, make_optimizer(cfg), cfg, train_images,
                      **variants)
