"""The tutorials' networks as Keras models, and the first tutorial's `xavier_init`.

D: 784-128-1 with ReLU, returning the *logit* (losses apply the sigmoid when they
need probabilities). G: z-128-784 with ReLU and a sigmoid output, so images are
flattened 784-vectors in [0, 1]. Hidden sizes and G's output (tanh, with data in
[-1, 1], for the second tutorial) come from the config.
"""

from __future__ import annotations

import math

import keras
import numpy as np

IMAGE_DIM = 784


@keras.saving.register_keras_serializable(package="gan_tf")
class TutorialXavier(keras.initializers.Initializer):
    """The tutorial's `xavier_init`: tf.random_normal(stddev=1/sqrt(fan_in/2)).

    Despite the name this is neither Keras' GlorotNormal (stddev sqrt(2/(fan_in +
    fan_out)), truncated) nor HeNormal (truncated): it is an *untruncated* normal
    with stddev sqrt(2/fan_in).
    """

    def __init__(self, seed=None):
        self.seed = seed

    def __call__(self, shape, dtype=None):
        stddev = 1.0 / math.sqrt(shape[0] / 2.0)
        return keras.random.normal(shape, mean=0.0, stddev=stddev, dtype=dtype,
                                   seed=self.seed)

    def get_config(self):
        return {"seed": self.seed}


def _kernel_init(kind: str, seed: int):
    if kind == "xavier_tutorial":
        return TutorialXavier(seed=seed)
    if kind == "glorot_normal":
        return keras.initializers.GlorotNormal(seed=seed)
    raise ValueError(f"unknown init {kind!r}")


def _mlp(name, in_dim, hidden, out_dim, out_activation, init, seed):
    # Each layer draws from its own seed so D and G weights are independent draws.
    names = ["hidden"] if len(hidden) == 1 else [f"hidden{i + 1}" for i in range(len(hidden))]
    layers = [keras.Input((in_dim,))]
    for i, (size, layer_name) in enumerate(zip(hidden, names)):
        layers.append(keras.layers.Dense(size, activation="relu", name=layer_name,
                                         kernel_initializer=_kernel_init(init, seed + i),
                                         bias_initializer="zeros"))
    layers.append(keras.layers.Dense(out_dim, activation=out_activation, name="out",
                                     kernel_initializer=_kernel_init(init, seed + len(hidden)),
                                     bias_initializer="zeros"))
    return keras.Sequential(layers, name=name)


def build_discriminator(cfg) -> keras.Model:
    """x (batch, 784) in G's output range -> logit (batch, 1)."""
    return _mlp("discriminator", IMAGE_DIM, cfg.d_hidden, 1, None, cfg.init,
                seed=2 * cfg.seed + 10_000)


def build_generator(cfg) -> keras.Model:
    """z (batch, z_dim) in [-1, 1] -> image (batch, 784) in [0, 1] (sigmoid) or
    [-1, 1] (tanh)."""
    return _mlp("generator", cfg.z_dim, cfg.g_hidden, IMAGE_DIM, cfg.g_output, cfg.init,
                seed=2 * cfg.seed + 20_000)


def unit_images(G, z) -> np.ndarray:
    """G(z) as a NumPy array in [0, 1], for pictures and metrics: a tanh generator's
    [-1, 1] output is rescaled (read from the model, so saved generators work too)."""
    x = G(z, training=False).numpy()
    return (x + 1.0) / 2.0 if G.layers[-1].activation.__name__ == "tanh" else x


def count_params(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def load_generator(path) -> keras.Model:
    """A saved generator. (Loading it needs TutorialXavier registered, which importing
    this module does; plain keras.saving.load_model works after `import gan_tf.networks`.)"""
    return keras.saving.load_model(path, compile=False)
