"""Every random number of training, as a pure function of (seed, stream, counter).

TensorFlow's stateless RNG, folded with a stream number and a counter (iteration,
minibatch, epoch or frame): a resumed run, a stack of seeds and a single run draw
exactly the same numbers, and nothing but the counter needs checkpointing.
"""

from __future__ import annotations

import tensorflow as tf

# What one iteration reports (the D step's values, then the G step's).
VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "g_grad_norm")
# Random streams; each is folded with a counter (iteration, epoch or frame).
STREAM_Z_D, STREAM_Z_G, STREAM_EPOCH, STREAM_SAMPLES = 1, 2, 3, 4
STREAM_EPS = 5   # the VAE's eps ~ N(0, I) (families/vae.py)
# Dropout masks of D's pass on the real and on the fake batch (arch 'maxout'), the
# fixed z of the quick Parzen estimates during training, and the masks of an
# alternating update's G step.
STREAM_DROP_REAL, STREAM_DROP_FAKE, STREAM_PARZEN, STREAM_DROP_G = 6, 7, 8, 9
STREAM_QUALITY = 10   # the fixed z of eval_every's samples (evaluation/tracking.py)
STREAM_GP = 11   # where the gradient penalty looks between real and fake (WGAN-GP)
STREAM_DOMAIN_B = 12   # CycleGAN's draws from its second domain (families/cyclegan.py)
# CycleGAN's history pools of fakes (models/cycle.pool_query): per image whether to
# swap with a stored fake, and which one; one stream per pool.
STREAM_POOL_B, STREAM_POOL_A = 13, 14
STREAM_VBN_REFERENCE = 15   # the fixed z of virtual batch norm's reference batch (g_vbn)
# A family's own streams are numbered from here, in its own file: one family trains
# in a run, so two families may use the same numbers.
FAMILY_STREAMS = 100
# ThreeFry, always compiled by XLA: on this CPU XLA draws it ~8x faster than Philox
# (Philox took ~18% of an iteration), and TF's own kernels lack ThreeFry. Running
# the draws as jit_compile functions everywhere (eager, plain graph or XLA loop)
# makes the same seed give bit-identical numbers on every path.
ALG = "threefry"


def stream_seed(seed, stream, counter):
    """A stateless-RNG seed for draw number `counter` of `stream`; works eagerly too."""
    return _fold_in(tf.cast(seed, tf.int64), tf.cast(stream, tf.int64),
                    tf.cast(counter, tf.int64))


@tf.function(jit_compile=True)
def _fold_in(seed, stream, counter):
    return tf.random.experimental.stateless_fold_in(tf.stack([seed, stream]), counter,
                                                    alg=ALG)


@tf.function(jit_compile=True)
def _uniform(seed, stream, counter, batch: int, z_dim: int):
    return tf.random.stateless_uniform([batch, z_dim], stream_seed(seed, stream, counter),
                                       minval=-1.0, maxval=1.0, alg=ALG)


@tf.function(jit_compile=True)
def _unit_uniform(seed, stream, counter, batch: int, width: int = 1):
    return tf.random.stateless_uniform([batch, width], stream_seed(seed, stream, counter),
                                       alg=ALG)


def pool_draws(seed: int, stream: int, counter, batch: int, size: int):
    """The random choices of a history pool's query number `counter` (shape (batch,)
    each): u ~ Uniform[0, 1), which decides whether an image swaps with a stored one
    (u > 0.5), and the stored slot, uniform on 0 .. size - 1."""
    draws = _unit_uniform(tf.constant(seed, tf.int64), tf.constant(stream, tf.int64),
                          tf.cast(counter, tf.int64), batch, 2)
    slots = tf.minimum(tf.cast(draws[:, 1] * size, tf.int32), size - 1)
    return draws[:, 0], slots


def interpolation_weights(seed: int, counter, batch: int):
    """One eps ~ Uniform[0, 1) per sample of D's minibatch `counter` (shape (batch, 1)):
    where the gradient penalty is taken on the segment from a real to a fake image."""
    return _unit_uniform(tf.constant(seed, tf.int64), tf.constant(STREAM_GP, tf.int64),
                         tf.cast(counter, tf.int64), batch)


def sample_z(seed: int, stream: int, counter, batch: int, z_dim: int):
    """z ~ Uniform(-1, 1), as the tutorial's np.random.uniform(-1., 1., size=[m, n])."""
    return _uniform(tf.constant(seed, tf.int64), tf.constant(stream, tf.int64),
                    tf.cast(counter, tf.int64), batch, z_dim)


@tf.function(jit_compile=True)
def _permutation(seed, epoch, n: int, stream):
    # argsort of full-range random int64 keys: a uniform shuffle (ties have
    # probability ~n^2/2^64) that, unlike tf.random.experimental.stateless_shuffle,
    # XLA can compile.
    keys = tf.random.stateless_uniform([n],
                                       stream_seed(seed, stream, epoch),
                                       minval=None, maxval=None, dtype=tf.int64, alg=ALG)
    return tf.cast(tf.argsort(keys, stable=True), tf.int32)


def epoch_permutation(seed: int, epoch, n: int, stream: int = STREAM_EPOCH):
    """The order of the training set in `epoch`: a fresh shuffle every epoch (of
    `stream`'s draws: STREAM_EPOCH, or a family's own for a second order)."""
    return _permutation(tf.constant(seed, tf.int64), tf.cast(epoch, tf.int64), n,
                        tf.constant(stream, tf.int64))


@tf.function(jit_compile=True)
def _indices(seed, stream, counter, batch: int, n: int):
    return tf.random.stateless_uniform([batch], stream_seed(seed, stream, counter), minval=0,
                                       maxval=n, dtype=tf.int32, alg=ALG)


def sample_indices(seed: int, stream: int, counter, batch: int, n: int):
    """`batch` indices drawn uniformly from 0 .. n - 1, with replacement: draw number
    `counter` of `stream`."""
    return _indices(tf.constant(seed, tf.int64), tf.constant(stream, tf.int64),
                    tf.cast(counter, tf.int64), batch, n)
