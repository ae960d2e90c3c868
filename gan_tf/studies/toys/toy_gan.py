"""A small GAN on low-dimensional data (1-D or 2-D), for the toy experiments.

G and D are ReLU MLPs; the loss is the tutorial's sigmoid cross-entropy (G
non-saturating); one D step then one G step per iteration, Adam, as the MNIST GAN.
`pack` > 1 is PacGAN (Lin et al. 2018): D judges `pack` samples at once, all real
or all fake, concatenated into one input, which lets it see a lack of variety.
Data are drawn inside the compiled loop by `sample_data(n, seed)`.

Why it is not a model family (gan_tf/families/): a family trains on MNIST images in
a run folder, one model a run, under the shared driver; the toy experiments train
many small GANs on 1-D and 2-D points drawn on the fly, each trial a few seconds, and
report pictures of the points, not a run folder. The driver's run discipline (resume,
snapshots, signals) would cost more than a trial does.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from gan_tf.families.mlp import xent_d_loss, xent_g_loss
from gan_tf.models.packing import pack
from gan_tf.data.streams import stream_seed


def mlp(name, in_dim, hidden, layers, out_dim, seed, activation="relu"):
    keras.utils.set_random_seed(seed)
    stack = [keras.Input((in_dim,))]
    stack += [keras.layers.Dense(hidden, activation=activation) for _ in range(layers)]
    stack += [keras.layers.Dense(out_dim)]
    return keras.Sequential(stack, name=name)


class ToyGAN:
    def __init__(self, sample_data, data_dim: int, *, z_dim=16, hidden=128, layers=2,
                 pack=1, batch=256, lr=1e-4, beta1=0.5, seed=0, z_dist="normal",
                 activation="relu", d_lr=None):
        if batch % pack:
            raise ValueError(f"batch {batch} must be a multiple of pack {pack}")
        self.sample_data, self.dim, self.z_dim = sample_data, data_dim, z_dim
        self.pack, self.batch, self.seed = pack, batch, seed
        if z_dist not in ("normal", "uniform"):
            raise ValueError(f"z_dist must be 'normal' or 'uniform', got {z_dist!r}")
        self.z_dist = z_dist
        self.G = mlp("generator", z_dim, hidden, layers, data_dim, seed, activation)
        self.D = mlp("discriminator", data_dim * pack, hidden, layers, 1, seed + 1,
                     activation)
        self.g_opt = keras.optimizers.Adam(lr, beta_1=beta1)
        self.d_opt = keras.optimizers.Adam(d_lr or lr, beta_1=beta1)
        self.iteration = tf.Variable(0, dtype=tf.int64, trainable=False)
        self._chunks = {}

    def _z(self, n, stream, t):
        seed = stream_seed(self.seed, stream, t)
        if self.z_dist == "uniform":
            return tf.random.stateless_uniform([n, self.z_dim], seed, -1.0, 1.0)
        return tf.random.stateless_normal([n, self.z_dim], seed)

    def _packed(self, x):
        """(B * pack, dim), consecutive rows one pack -> (B, dim * pack)."""
        return pack(tf.reshape(x, [-1, self.pack, self.dim]), slot_axis=1)

    def _step(self, t):
        real = self.sample_data(self.batch, stream_seed(self.seed, 10, t))
        fake = self.G(self._z(self.batch, 11, t))
        with tf.GradientTape() as tape:
            d_loss = xent_d_loss(self.D(self._packed(real)), self.D(self._packed(fake)))
        dv = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, dv), dv)
        with tf.GradientTape() as tape:
            g_loss = xent_g_loss(self.D(self._packed(self.G(self._z(self.batch, 12, t)))))
        gv = self.G.trainable_variables
        self.g_opt.apply(tape.gradient(g_loss, gv), gv)
        return d_loss, g_loss

    def _chunk(self, steps):
        t0 = self.iteration.read_value()
        d_sum = g_sum = tf.constant(0.0)
        for i in tf.range(steps, dtype=tf.int64):
            d, g = self._step(t0 + i)
            d_sum += d
            g_sum += g
        self.iteration.assign(t0 + steps)
        return d_sum / steps, g_sum / steps

    def train(self, steps: int) -> tuple[float, float]:
        """Run `steps` iterations (one XLA-compiled call); mean D and G loss."""
        if steps not in self._chunks:
            self._chunks[steps] = tf.function(lambda: self._chunk(steps), jit_compile=True)
        d, g = self._chunks[steps]()
        return float(d), float(g)

    def sample(self, n: int, seed: int = 12345) -> np.ndarray:
        return self.G(self._z(n, 13, seed)).numpy()

    def discriminate(self, x: np.ndarray) -> np.ndarray:
        """D's probability that x is real (each point judged as a pack of copies)."""
        x = tf.constant(np.repeat(np.asarray(x, np.float32), self.pack, axis=0))
        return tf.sigmoid(self.D(self._packed(x))).numpy()[:, 0]
