"""The variational autoencoder of Kingma & Welling (2014) at the tutorials' GAN scale.

  encoder E   x (784) -> d_hidden (ReLU) -> (mu, logvar), each z_dim
  decoder     z (z_dim) -> g_hidden (ReLU) -> 784 logits; p(x | z) is Bernoulli on
              each pixel in [0, 1], as in the VAE tutorial (sigmoid cross-entropy)
  generator G u ~ U(-1, 1) -> UniformToNormal -> decoder -> sigmoid: the model saved
              as generator.keras, so that everything built for a GAN's G (frames,
              evaluate, latent) draws its noise as before and gets decoder samples
              from z ~ N(0, I)

Its training step is families/vae.py's; a finished run's models come back through
`RunFolder.load_vae()`.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.models import networks

# --- the models

def build_encoder(cfg) -> keras.Model:
    """x (batch, 784) in [0, 1] -> [mu, logvar] (batch, z_dim) each."""
    seeds = itertools.count(2 * cfg.seed + 30_000)
    with networks.precision(cfg):
        return _encoder(cfg, seeds)


def _encoder(cfg, seeds):
    x = keras.Input((networks.IMAGE_DIM,), name="x")
    h = x
    for i, size in enumerate(cfg.params.d_hidden):
        h = keras.layers.Dense(size, activation="relu", name=f"enc_hidden{i + 1}",
                               kernel_initializer=
                                   networks.kernel_init(cfg.params.init, next(seeds)),
                               bias_initializer="zeros")(h)
    # mu and logvar in float32 under a mixed policy: the ELBO's terms are float32
    heads = [keras.layers.Dense(cfg.z_dim, name=name, bias_initializer="zeros",
                                kernel_initializer=networks.kernel_init(cfg.params.init,
                                                                         next(seeds)),
                                **networks.float32_if_mixed(cfg))(h)
             for name in ("mu", "logvar")]
    return keras.Model(x, heads, name="encoder")


def build_decoder(cfg) -> tuple[keras.Model, keras.Model]:
    """(decoder, G): z ~ N(0, I) -> logits, and u ~ U(-1, 1) -> image in [0, 1]
    through the same decoder (its weights are G's only weights)."""
    seeds = itertools.count(2 * cfg.seed + 20_000)   # the GAN's G seeds
    f32 = networks.float32_if_mixed(cfg)
    with networks.precision(cfg):
        decoder = networks.mlp("decoder", cfg, cfg.z_dim, "z_normal", cfg.params.g_hidden,
                               networks.IMAGE_DIM, None, seeds)
        u = keras.Input((cfg.z_dim,), name="z")
        logits = decoder(networks.UniformToNormal(name="to_normal", **f32)(u))
        G = keras.Model(u, keras.layers.Activation("sigmoid", name="out", **f32)(logits),
                        name="generator")
    return decoder, G


def reparameterize(mu, logvar, eps):
    """z = mu + sigma eps: a sample of q(z | x) that is differentiable in mu, logvar."""
    return mu + tf.exp(0.5 * logvar) * eps


def model_state(E, G) -> dict:
    """The models' variables by checkpoint name: E/<layer>/<weight>, G/<...>."""
    return {**{f"E/{v.path}": v for v in E.weights}, **{f"G/{v.path}": v for v in G.weights}}


# --- a finished run

def vae_from_checkpoint(cfg, checkpoint: dict, where) -> tuple:
    """(E, decoder, G) of cfg with the weights of a checkpoint's arrays (which, for a
    finished run, hold the weights generator.keras was saved with)."""
    E = build_encoder(cfg)
    decoder, G = build_decoder(cfg)
    state = model_state(E, G)
    missing = sorted(set(state) - set(checkpoint))
    if missing:
        raise UserError(f"checkpoint in {where} lacks {', '.join(missing[:4])}")
    wrong = [f"{k}: shape {checkpoint[k].shape}, dtype {checkpoint[k].dtype}"
             for k, var in state.items()
             if tuple(checkpoint[k].shape) != tuple(var.shape)
             or not np.issubdtype(checkpoint[k].dtype, np.floating)]
    if wrong:
        raise UserError(f"checkpoint in {where} does not match this VAE (wrong "
                        f"{'; '.join(wrong[:3])}); restore it, or train the run again")
    bad = [k for k in state if not np.isfinite(checkpoint[k]).all()]
    if bad:
        raise UserError(f"checkpoint in {where} holds NaN or Inf in {', '.join(bad[:3])}: "
                        f"the VAE diverged, or the file was damaged; train it again")
    for name, var in state.items():
        var.assign(checkpoint[name].astype(np.float32))
    return E, decoder, G


def reconstruct(E, decoder, x: np.ndarray) -> np.ndarray:
    """The decoder's mean image at the posterior mean: sigmoid(decoder(mu(x)))."""
    mu, _ = E(np.asarray(x, np.float32), training=False)
    return tf.sigmoid(decoder(mu, training=False)).numpy()
