"""The variational autoencoder of Kingma & Welling (2014) at the tutorials' GAN scale.

  encoder E   x (784) -> d_hidden (ReLU) -> (mu, logvar), each z_dim
  decoder     z (z_dim) -> g_hidden (ReLU) -> 784 logits; p(x | z) is Bernoulli on
              each pixel in [0, 1], as in the VAE tutorial (sigmoid cross-entropy)
  generator G u ~ U(-1, 1) -> UniformToNormal -> decoder -> sigmoid: the model saved
              as generator.keras, so that everything built for a GAN's G (frames,
              evaluate, latent) draws its noise as before and gets decoder samples
              from z ~ N(0, I)

One iteration: a minibatch (the GAN's order, TF1 next_batch), eps ~ N(0, I) from
the stateless stream STREAM_EPS at the iteration, z = mu + exp(logvar / 2) eps (the
reparameterization trick), one Adam step on -ELBO = reconstruction + KL. The
`VaeTrainer` has the GAN Trainer's interface (chunk, state, iteration, G), so
train_lib runs, checkpoints, stops and resumes it unchanged.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import tensorflow as tf

from gan_tf import losses, loop, networks
from gan_tf.errors import UserError

STREAM_EPS = 5   # after loop's four streams (z for D and G, epoch order, samples)
VALUES = ("neg_elbo", "reconstruction", "kl", "grad_norm")


# --- the models

def build_encoder(cfg) -> keras.Model:
    """x (batch, 784) in [0, 1] -> [mu, logvar] (batch, z_dim) each."""
    seeds = itertools.count(2 * cfg.seed + 30_000)
    x = keras.Input((networks.IMAGE_DIM,), name="x")
    h = x
    for i, size in enumerate(cfg.d_hidden):
        h = keras.layers.Dense(size, activation="relu", name=f"enc_hidden{i + 1}",
                               kernel_initializer=networks._kernel_init(cfg.init, next(seeds)),
                               bias_initializer="zeros")(h)
    heads = [keras.layers.Dense(cfg.z_dim, name=name, bias_initializer="zeros",
                                kernel_initializer=networks._kernel_init(cfg.init,
                                                                         next(seeds)))(h)
             for name in ("mu", "logvar")]
    return keras.Model(x, heads, name="encoder")


def build_decoder(cfg) -> tuple[keras.Model, keras.Model]:
    """(decoder, G): z ~ N(0, I) -> logits, and u ~ U(-1, 1) -> image in [0, 1]
    through the same decoder (its weights are G's only weights)."""
    seeds = itertools.count(2 * cfg.seed + 20_000)   # the GAN's G seeds
    decoder = networks._mlp("decoder", cfg, cfg.z_dim, "z_normal", cfg.g_hidden,
                            networks.IMAGE_DIM, None, seeds)
    u = keras.Input((cfg.z_dim,), name="z")
    logits = decoder(networks.UniformToNormal(name="to_normal")(u))
    G = keras.Model(u, keras.layers.Activation("sigmoid", name="out")(logits),
                    name="generator")
    return decoder, G


def reparameterize(mu, logvar, eps):
    """z = mu + sigma eps: a sample of q(z | x) that is differentiable in mu, logvar."""
    return mu + tf.exp(0.5 * logvar) * eps


@tf.function(jit_compile=True)
def _normal(seed, stream, counter, batch: int, dim: int):
    return tf.random.stateless_normal([batch, dim], loop.stream_seed(seed, stream, counter),
                                      alg=loop.ALG)


def sample_eps(seed: int, counter, batch: int, dim: int):
    """eps ~ N(0, I) of draw `counter`: a pure function of (seed, counter)."""
    return _normal(tf.constant(seed, tf.int64), tf.constant(STREAM_EPS, tf.int64),
                   tf.cast(counter, tf.int64), batch, dim)


def model_state(E, G) -> dict:
    """The models' variables by checkpoint name: E/<layer>/<weight>, G/<...>."""
    return {**{f"E/{v.path}": v for v in E.weights}, **{f"G/{v.path}": v for v in G.weights}}


# --- training

class VaeTrainer(loop.Trainer):
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

    def _iteration(self, t):
        cfg = self.cfg
        x, _ = self._batch(t)
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
    return VaeTrainer(E, decoder, G, loop.make_optimizer(cfg), cfg, train_images,
                      **variants)


# --- a finished run

def load_vae(folder):
    """(cfg, E, decoder, G) of a VAE run folder, weights from its checkpoint (which,
    for a finished run, holds the weights generator.keras was saved with)."""
    from gan_tf.runs import RunFolder
    folder = folder if isinstance(folder, RunFolder) else RunFolder(folder)
    cfg = folder.read_config()
    if cfg.model != "vae":
        raise UserError(f"{folder} holds a {cfg.model.upper()}, not a VAE (config.json "
                        f"says model {cfg.model!r})")
    if not folder.has_checkpoint():
        raise UserError(f"{folder} has no checkpoint: train it first")
    ck = folder.read_checkpoint()
    if ck["iteration"] != cfg.iters:
        raise UserError(f"{folder} stopped at iteration {ck['iteration']:,} of "
                        f"{cfg.iters:,}; finish it with --resume")
    E = build_encoder(cfg)
    decoder, G = build_decoder(cfg)
    state = model_state(E, G)
    missing = sorted(set(state) - set(ck))
    if missing:
        raise UserError(f"checkpoint in {folder} lacks {', '.join(missing[:4])}")
    for name, var in state.items():
        var.assign(ck[name].astype(np.float32))
    return cfg, E, decoder, G


def reconstruct(E, decoder, x: np.ndarray) -> np.ndarray:
    """The decoder's mean image at the posterior mean: sigmoid(decoder(mu(x)))."""
    mu, _ = E(np.asarray(x, np.float32), training=False)
    return tf.sigmoid(decoder(mu, training=False)).numpy()
