"""The blocks the model families (gan_tf/families/) build their networks from, and
the first tutorial's `xavier_init`.

  mlp                    the tutorials' fully connected net (D 784-128-1, G z-128-784)
  model_inputs           a model's input(s): z mapped to its noise distribution, and
                         the one-hot label beside it for a conditional model (the cGAN
                         of Mirza & Osindero: G sees [z, y], D sees [x, y])
  kernel_init            the weight inits: the tutorial's xavier, Glorot, DCGAN's,
                         the GAN paper's uniform
  batch_norm             the fused kernel on one device, synchronized under a strategy
  Maxout, MaxoutDiscriminator, dropout   the GAN paper's maxout D and pylearn2's dropout
  precision              Keras' dtype policy while a model is built
Every D returns its *logit* (losses apply the sigmoid when they need probabilities)
and images cross model boundaries as flat 784-vectors, so data, snapshots and
metrics never depend on the family.
"""

from __future__ import annotations

import contextlib
import itertools
import math

import keras
import numpy as np
import tensorflow as tf

from gan_tf.models.fast_ops import FusedBatchNormalization

IMAGE_DIM = 784
NUM_CLASSES = 10


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
        # fan_in as Keras counts it: all but the last axis (a Dense kernel's rows).
        stddev = 1.0 / math.sqrt(math.prod(shape[:-1]) / 2.0)
        return keras.random.normal(shape, mean=0.0, stddev=stddev, dtype=dtype,
                                   seed=self.seed)

    def get_config(self):
        return {"seed": self.seed}


def category_index(u, classes: int):
    """u in [-1, 1] -> one of `classes` equal bins, 0 to classes - 1: a uniform u gives
    a uniform category (InfoGAN's categorical code, drawn from the same U(-1, 1) z)."""
    k = tf.cast(tf.floor((tf.cast(u, tf.float32) + 1.0) * 0.5 * classes), tf.int32)
    return tf.clip_by_value(k, 0, classes - 1)


@keras.saving.register_keras_serializable(package="gan_tf")
class InfoCodes(keras.layers.Layer):
    """z (B, noise_dim + 1 + k) in [-1, 1] -> [z's noise, the one-hot category of
    z[:, noise_dim] (category_index), z's last k values as they are]: InfoGAN's
    generator input (Chen et al. 2016) from the U(-1, 1) z every saved G takes."""

    def __init__(self, noise_dim: int, classes: int, **kwargs):
        super().__init__(**kwargs)
        self.noise_dim, self.classes = noise_dim, classes

    def call(self, z):
        n = self.noise_dim
        code = tf.one_hot(category_index(z[:, n], self.classes), self.classes, dtype=z.dtype)
        return tf.concat([z[:, :n], code, z[:, n + 1:]], axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[1] - 1 + self.classes)

    def get_config(self):
        return {**super().get_config(), "noise_dim": self.noise_dim, "classes": self.classes}


@keras.saving.register_keras_serializable(package="gan_tf")
class PixelShuffle(keras.layers.Layer):
    """(B, H, W, C r^2) -> (B, H r, W r, C): the sub-pixel convolution's rearrangement
    (Shi et al. 2016), SRGAN's upsampling (its Figure 4: conv, PixelShuffler x2,
    PReLU)."""

    def __init__(self, factor: int, **kwargs):
        super().__init__(**kwargs)
        self.factor = factor

    def call(self, x):
        return tf.nn.depth_to_space(x, self.factor)

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        r = self.factor
        return (b, None if h is None else h * r, None if w is None else w * r, c // r ** 2)

    def get_config(self):
        return {**super().get_config(), "factor": self.factor}


@keras.saving.register_keras_serializable(package="gan_tf")
class PositionMixing(keras.layers.Layer):
    """(B, H, W, C) -> (B, H, W, C): y[:, p, c] = sum_q W[p, q] x[:, q, c] + b[p] over
    the H*W positions, one matrix for every channel (the position mixing of
    CycleGAN's generators, models/cycle.py)."""

    def __init__(self, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed

    def build(self, input_shape):
        n = input_shape[1] * input_shape[2]
        self.kernel = self.add_weight(
            shape=(n, n), name="kernel",
            initializer=keras.initializers.GlorotNormal(seed=self.seed))
        self.bias = self.add_weight(shape=(n,), name="bias", initializer="zeros")

    def call(self, x):
        s = tf.shape(x)
        flat = tf.reshape(x, [s[0], s[1] * s[2], s[3]])
        mixed = tf.einsum("bqc,qp->bpc", flat, self.kernel) + self.bias[None, :, None]
        return tf.reshape(mixed, s)

    def get_config(self):
        return {**super().get_config(), "seed": self.seed}


@keras.saving.register_keras_serializable(package="gan_tf")
class UniformToNormal(keras.layers.Layer):
    """u ~ Uniform(-1, 1) -> z = sqrt(2) erfinv(u) ~ N(0, 1), elementwise: the inverse
    CDF of the normal applied to (u + 1) / 2. A VAE's decoder expects z ~ N(0, I);
    with this layer in front its saved generator takes the same U(-1, 1) noise as a
    GAN's, so evaluate, latent and the frames use it unchanged. u is kept 1e-6 inside
    (-1, 1), where erfinv is infinite (|z| <= 4.9)."""

    def call(self, u):
        u = keras.ops.clip(u, -1.0 + 1e-6, 1.0 - 1e-6)
        return math.sqrt(2.0) * keras.ops.erfinv(u)


# init 'uniform': pylearn2's `irange` of mnist.yaml, U(-r, r) with r by network.
UNIFORM_RANGE = {"generator": 0.05, "discriminator": 0.005}


def kernel_init(kind: str, seed: int, role: str = "generator"):
    """Initial weights of a layer of `role` ('generator' or 'discriminator')."""
    if kind == "uniform":
        r = UNIFORM_RANGE[role]
        return keras.initializers.RandomUniform(-r, r, seed=seed)
    if kind == "xavier_tutorial":
        return TutorialXavier(seed=seed)
    if kind == "glorot_normal":
        return keras.initializers.GlorotNormal(seed=seed)
    if kind == "dcgan_normal":   # "zero-centered Normal distribution with std 0.02"
        return keras.initializers.RandomNormal(stddev=0.02, seed=seed)
    raise ValueError(f"unknown init {kind!r}")


def model_inputs(cfg, main_shape, main_name, conditional=None):
    """The model's inputs and what its first layer sees. A generator of noise
    'gaussian' maps its U(-1, 1) input to N(0, I) first (as the VAE's decoder does),
    one of noise 'uniform_sqrt3' scales it to U(-sqrt 3, sqrt 3), so every saved
    generator takes the same U(-1, 1) z. The label is an input where `conditional`
    (default: cfg.conditional; AC-GAN's D, which predicts it, has none)."""
    conditional = cfg.conditional if conditional is None else conditional
    x = keras.Input(main_shape, name=main_name)
    h = x
    if main_name == "z" and cfg.params.noise == "gaussian":
        # erfinv in float32 (bfloat16's 8-bit mantissa would bin z coarsely)
        h = UniformToNormal(name="to_normal", **float32_if_mixed(cfg))(x)
    if main_name == "z" and cfg.params.noise == "uniform_sqrt3":
        h = keras.layers.Rescaling(math.sqrt(3.0), name="to_unit_variance")(x)
    if not conditional:
        return x, h
    y = keras.Input((NUM_CLASSES,), name="label")
    return [x, y], keras.layers.Concatenate(name="with_label")([h, y])


# --- precision: Keras' mixed policy ('mixed_bfloat16': bfloat16 compute, float32
# variables), set while a model is built, so that every layer takes it

@contextlib.contextmanager
def precision(cfg):
    """Layers built inside take cfg.precision's dtype policy (the global one is
    restored after). The losses stay float32: a D's last layer computes in float32
    and a G's output activation casts to float32, so what leaves a model is float32."""
    before = keras.config.dtype_policy()
    keras.config.set_dtype_policy(getattr(cfg, "precision", "float32"))
    try:
        yield
    finally:
        keras.config.set_dtype_policy(before)


def mixed(cfg) -> bool:
    return getattr(cfg, "precision", "float32") != "float32"


def float32_if_mixed(cfg) -> dict:
    """The layer argument that keeps a model's last layer in float32 under a mixed
    policy (and nothing under float32, so float32 models are exactly as before)."""
    return {"dtype": "float32"} if mixed(cfg) else {}


def _output(cfg, h, out_dim, out_activation, role, seeds, name="out"):
    """An MLP's last layer. One unit (D's logit) computes in float32; a wider one (G's
    image, the VAE decoder's logits) has its matmul in the policy's compute dtype and,
    under a mixed policy, its activation in a float32 layer of its own (the 128x784
    matmul is nearly half the MLP GAN's work)."""
    init = dict(kernel_initializer=kernel_init(cfg.params.init, next(seeds), role),
                bias_initializer="zeros")
    if not mixed(cfg):
        return keras.layers.Dense(out_dim, activation=out_activation, name=name, **init)(h)
    if out_dim == 1:
        return keras.layers.Dense(out_dim, activation=out_activation, name=name,
                                  dtype="float32", **init)(h)
    h = keras.layers.Dense(out_dim, name=name, **init)(h)
    return keras.layers.Activation(out_activation or "linear", name=name + "_float32",
                                   dtype="float32")(h)


def mlp(name, cfg, in_dim, in_name, hidden, out_dim, out_activation, seeds,
        conditional=None, first=None):
    """The tutorials' fully connected net; `first`, a layer applied to the input
    before the hidden layers (InfoGAN's codes)."""
    inputs, h = model_inputs(cfg, (in_dim,), in_name, conditional)
    if first is not None:
        h = first(h)
    names = ["hidden"] if len(hidden) == 1 else [f"hidden{i + 1}" for i in range(len(hidden))]
    role = "generator" if name == "generator" else "discriminator"
    init = cfg.params.init
    for size, layer_name in zip(hidden, names):
        h = keras.layers.Dense(size, activation="relu", name=layer_name,
                               kernel_initializer=kernel_init(init, next(seeds), role),
                               bias_initializer="zeros")(h)
    return keras.Model(inputs, _output(cfg, h, out_dim, out_activation, role, seeds),
                       name=name)


def batch_norm(cfg, name):
    # Under a tf.distribute strategy the statistics are all-reduced over the replicas,
    # i.e. taken over the global batch as on one device. (Not on one device: Keras'
    # synchronized moments use E[x^2] - E[x]^2, a different rounding.)
    # On one device the fused kernel (models/fast_ops.py), the same layer otherwise.
    return FusedBatchNormalization(synchronized=cfg.strategy != "default", name=name)


# --- the GAN paper's maxout discriminator

def maxout(z, pieces: int):
    """(batch, units * pieces) -> (batch, units): unit j is the max of columns
    j*pieces ... j*pieces + pieces - 1. pylearn2's Maxout.fprop takes the max over
    the strided slices z[:, i::pieces], i < pieces, which groups the same columns."""
    units = z.shape[-1] // pieces
    return keras.ops.max(keras.ops.reshape(z, (-1, units, pieces)), axis=-1)


@keras.saving.register_keras_serializable(package="gan_tf")
class Maxout(keras.layers.Layer):
    """A maxout layer (Goodfellow et al. 2013): x W + b, units * pieces columns, then
    `maxout`. W and b as pylearn2's Maxout holds them: one matrix, zero biases."""

    def __init__(self, units, pieces, kernel_initializer="glorot_uniform", **kwargs):
        super().__init__(**kwargs)
        self.units, self.pieces = units, pieces
        self.kernel_initializer = keras.initializers.get(kernel_initializer)

    def build(self, input_shape):
        self.kernel = self.add_weight((input_shape[-1], self.units * self.pieces),
                                      initializer=self.kernel_initializer, name="kernel")
        self.bias = self.add_weight((self.units * self.pieces,), initializer="zeros",
                                    name="bias")

    def call(self, x):
        return maxout(keras.ops.matmul(x, self.kernel) + self.bias, self.pieces)

    def get_config(self):
        return {**super().get_config(), "units": self.units, "pieces": self.pieces,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer)}


def dropout(x, keep: float, seed, layer: int = 0):
    """pylearn2's apply_dropout: each input of each example kept with probability
    `keep` (a Bernoulli mask drawn per element) and the kept ones scaled by 1 / keep
    (mnist.yaml's input_scales: 1.25 for keep 0.8, 2 for keep 0.5). `seed` is a
    stateless-RNG seed, shape [2], with `layer` folded in: the mask is a pure
    function of the two."""
    if keep >= 1.0:
        return x
    return _dropout(x, tf.constant(keep, tf.float32), seed, tf.constant(layer, tf.int64))


@tf.function(jit_compile=True)
def _dropout(x, keep, seed, layer):
    # ThreeFry, as data/streams.py draws everything: XLA compiles it on every
    # path (TensorFlow's own kernels lack it), so eager, graph and XLA runs agree.
    seed = tf.random.experimental.stateless_fold_in(seed, layer, alg="threefry")
    u = tf.random.stateless_uniform(tf.shape(x), seed, alg="threefry")
    # The draw and the test in float32 whatever x's dtype (bfloat16 under a mixed
    # policy), so the masks are the same at every precision.
    return tf.where(u < keep, x / tf.cast(keep, x.dtype), tf.zeros_like(x))


@keras.saving.register_keras_serializable(package="gan_tf")
class MaxoutDiscriminator(keras.Model):
    """The GAN paper's MNIST D: maxout layers of d_hidden units, then a linear unit
    (the logit of its sigmoid). With `dropout_seed` (training only) every layer's
    input goes through `dropout` with its keep probability from d_keep, each layer
    folding its index into the seed, so the real and the fake pass (given different
    seeds) draw their own masks, as two dropout_fprop calls do in pylearn2."""

    def __init__(self, hidden, pieces, keep=(), init="uniform", seed=0, **kwargs):
        super().__init__(**kwargs)
        seeds = itertools.count(seed)
        self.hidden, self.pieces, self.keep = tuple(hidden), pieces, tuple(keep)
        self.init, self.seed = init, seed
        self.maxouts = [Maxout(units, pieces, name=f"h{i}",
                               kernel_initializer=kernel_init(init, next(seeds),
                                                              "discriminator"))
                        for i, units in enumerate(hidden)]
        # The logit in float32 under a mixed policy (the model's own dtype is its
        # policy; its last layer is always float32, a cheap 240 -> 1 product).
        self.out = keras.layers.Dense(1, name="y", bias_initializer="zeros", dtype="float32",
                                      kernel_initializer=kernel_init(init, next(seeds),
                                                                     "discriminator"))

    def call(self, x, training=False, dropout_seed=None):
        drop = training and self.keep and dropout_seed is not None
        for i, layer in enumerate(self.maxouts + [self.out]):
            if drop:
                x = dropout(x, self.keep[i], dropout_seed, i)
            x = layer(x)
        return x

    def get_config(self):
        return {"hidden": list(self.hidden), "pieces": self.pieces, "keep": list(self.keep),
                "init": self.init, "seed": self.seed, "name": self.name}


def sigmoid_bias_from_marginals(images_uint8: np.ndarray) -> np.ndarray:
    """pylearn2's init_sigmoid_bias_from_marginals (mnist.yaml's G output bias): the
    logit of each pixel's mean over the training images (in [0, 1]), the mean
    clipped to [1e-7, 1 - 1e-7], so that sigmoid(bias) is the data's marginal."""
    mean = np.clip(np.asarray(images_uint8, np.float64).mean(axis=0) / 255.0, 1e-7, 1 - 1e-7)
    return np.log(mean / (1.0 - mean)).astype(np.float32)


def layer_seeds(cfg, role: str):
    """The seeds a network's layers draw, one each in order: D's and G's from their
    own ranges, so that their weights are independent draws."""
    return itertools.count(2 * cfg.seed + (10_000 if role == "discriminator" else 20_000))


def is_conditional(model: keras.Model) -> bool:
    return len(model.inputs) == 2


def z_dim_of(G: keras.Model) -> int:
    return int(G.inputs[0].shape[-1])


def one_hot(labels) -> np.ndarray:
    return np.eye(NUM_CLASSES, dtype=np.float32)[np.asarray(labels, np.int64)]


def unit_images(G, z, labels=None) -> np.ndarray:
    """G(z) (G(z, y) for a conditional G, with integer `labels`) as a NumPy array in
    [0, 1], for pictures and metrics: a tanh generator's [-1, 1] output is rescaled
    (read from the model, so saved generators work too). Batch norm uses its moving
    statistics (training=False)."""
    if is_conditional(G):
        if labels is None:
            raise ValueError("a conditional generator needs labels")
        x = G([z, one_hot(labels)], training=False).numpy()
    else:
        x = G(z, training=False).numpy()
    return (x + 1.0) / 2.0 if G.layers[-1].activation.__name__ == "tanh" else x


def count_params(model: keras.Model) -> int:
    return int(sum(np.prod(v.shape) for v in model.trainable_variables))


def load_generator(path) -> keras.Model:
    """A saved generator. (Loading it needs TutorialXavier registered, which importing
    this module does; plain keras.saving.load_model works after `import gan_tf.models.networks`.)"""
    return keras.saving.load_model(path, compile=False)
