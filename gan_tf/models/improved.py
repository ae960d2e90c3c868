"""Salimans et al. 2016, "Improved Techniques for Training GANs": its techniques as
pure functions and Keras layers that the shared adversarial step (families/
adversarial.py) and the PacGAN protocol use, each written once here.

  minibatch_distances, minibatch_features, MinibatchDiscrimination
                          section 3.2 (minibatch discrimination), the authors'
                          MinibatchLayer (openai/improved-gan, mnist_svhn_cifar10/
                          nn.py:132-170)
  feature_matching_loss   section 3.1 (feature matching), train_mnist_feature_
                          matching.py:74-76
  historical_penalty, update_history
                          section 3.3 (historical averaging; not in the authors' code)
  VirtualBatchNorm        section 3.5 (virtual batch normalisation), imagenet/model.py's
                          VBN (model.py:554-648)
"""

from __future__ import annotations

import keras
import tensorflow as tf

# --- minibatch discrimination (section 3.2)


def minibatch_distances(h, w, dims: int):
    """c_b(x_i, x_j) = ||M_i,b - M_j,b||_1 for every pair of rows (i, j) of a batch and
    every kernel b, M = h w reshaped to (rows, B kernels, C dims) (nn.py:152-153); a
    row's distance to itself is 1e6 (nn.py:154), so exp(-c) leaves it out.
    h (..., R, F), w (..., F, B*C) -> (..., R, R, B): any leading axes (the PacGAN
    protocol's trials) are carried through."""
    M = tf.matmul(h, w)
    M = tf.reshape(M, tf.concat([tf.shape(M)[:-1], [-1, dims]], 0))
    l1 = tf.reduce_sum(tf.abs(tf.expand_dims(M, -3) - tf.expand_dims(M, -4)), -1)
    return l1 + 1e6 * tf.eye(tf.shape(h)[-2], dtype=l1.dtype)[:, :, None]


def minibatch_features(h, w, b, dims: int):
    """o_b(x_i) = sum over the other rows j of the same batch of exp(-c_b(x_i, x_j)),
    plus a bias b_b (nn.py:161, 168). h (..., R, F), w (..., F, B*C), b (..., 1, B) or
    (B,) -> (..., R, B)."""
    return tf.reduce_sum(tf.exp(-minibatch_distances(h, w, dims)), -2) + b


@keras.saving.register_keras_serializable(package="gan_tf")
class MinibatchDiscrimination(keras.layers.Layer):
    """The features of a batch's rows (batch, F) -> [features, o(x)] (batch, F + B),
    the minibatch features of B kernels of C dims beside them (nn.py:170: D's output
    layer sees both). As the authors' MinibatchLayer: T = theta N(0, 0.05) (nn.py:133),
    weight-normalised per (kernel, dim) with a log scale starting at 0
    (nn.py:139), the bias b starting at -1 (nn.py:134); `initialise` is their
    data-dependent init (nn.py:156-166). The batch a call sees is the minibatch: D's
    real and fake batches are separate calls (the shared step's, and their code's)."""

    def __init__(self, kernels: int = 100, dims: int = 5, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.kernels, self.dims, self.seed = kernels, dims, seed

    def build(self, input_shape):
        f, bc = int(input_shape[-1]), self.kernels * self.dims
        self.theta = self.add_weight(shape=(f, bc), name="theta", initializer=
                                     keras.initializers.RandomNormal(0.0, 0.05, seed=self.seed))
        self.log_scale = self.add_weight(shape=(bc,), name="log_scale", initializer="zeros")
        self.b = self.add_weight(shape=(self.kernels,), name="b",
                                 initializer=keras.initializers.Constant(-1.0))

    def kernel(self):
        """W = T exp(log_scale) / ||T||, column by column (nn.py:139)."""
        theta = tf.cast(self.theta, self.compute_dtype)
        norm = tf.sqrt(tf.reduce_sum(tf.square(theta), 0))
        return theta * tf.exp(tf.cast(self.log_scale, self.compute_dtype)) / norm

    def call(self, x):
        f = minibatch_features(x, self.kernel(), tf.cast(self.b, self.compute_dtype),
                               self.dims)
        return tf.concat([x, f], -1)

    def initialise(self, x) -> None:
        """The authors' data-dependent init on a batch x of D's features: each kernel's
        W divided by half its mean nearest-row L1 distance (nn.py:157-159), then b set
        so each feature averages 0 over the batch (nn.py:164-166)."""
        l1 = minibatch_distances(x, self.kernel(), self.dims)
        half = 0.5 * tf.reduce_mean(tf.reduce_min(l1, -2), -2)            # (B,)
        self.log_scale.assign(self.log_scale - tf.math.log(tf.repeat(half, self.dims)))
        f = minibatch_features(x, self.kernel(), tf.zeros_like(self.b), self.dims)
        self.b.assign(-tf.reduce_mean(f, 0))

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (input_shape[-1] + self.kernels,)

    def get_config(self):
        return {**super().get_config(), "kernels": self.kernels, "dims": self.dims,
                "seed": self.seed}


# --- feature matching (section 3.1)

def feature_matching_loss(real_features, fake_features):
    """G's loss: the mean over D's features of (batch mean on fakes - batch mean on
    reals)^2 (train_mnist_feature_matching.py:74-76: T.mean(T.square(mom_gen -
    mom_real)), a mean where the paper's ||.||_2^2 is a sum)."""
    real = tf.reduce_mean(tf.cast(real_features, tf.float32), 0)
    fake = tf.reduce_mean(tf.cast(fake_features, tf.float32), 0)
    return tf.reduce_mean(tf.square(fake - real))


# --- historical averaging (section 3.3)

def historical_penalty(weight: float, variables, means):
    """weight * ||theta - mean of theta's past values||^2, summed over every variable
    of a player (section 3.3's term, added to that player's loss)."""
    return weight * tf.add_n([tf.reduce_sum(tf.square(v - m))
                              for v, m in zip(variables, means)])


def update_history(variables, means, count) -> None:
    """After an update: count += 1 and each mean moves to the running mean of every
    value its variable has had (the initial one and one after each update so far)."""
    n = count + 1.0
    count.assign(n)
    for v, m in zip(variables, means):
        m.assign_add((v - m) / n)


# --- virtual batch normalisation (section 3.5)

@keras.saving.register_keras_serializable(package="gan_tf")
class VirtualBatchNorm(keras.layers.Layer):
    """Batch norm whose statistics come from a reference batch fixed at the start of
    training and the example itself (imagenet/model.py's VBN). In a training call the
    first `reference` rows are the reference batch: they are normalised by their own
    statistics (model.py:591-598, its `reference_output`) and every other row x by
    mean = x_mean / (n + 1) + ref_mean n / (n + 1), the same for E[x^2]
    (model.py:616-621: a row's own mean over its spatial positions, channel by
    channel), std = sqrt(eps + E[x^2] - mean^2) (model.py:640); gamma ~ N(1, 0.02),
    beta 0 (model.py:630-635), eps 1e-5 (model.py:559). The reference statistics of
    the last training call are kept, so a saved G samples on its own."""

    def __init__(self, reference: int, epsilon: float = 1e-5, seed: int = 0, **kwargs):
        super().__init__(**kwargs)
        self.reference, self.epsilon, self.seed = reference, epsilon, seed

    def build(self, input_shape):
        c = int(input_shape[-1])
        self.gamma = self.add_weight(shape=(c,), name="gamma", initializer=
                                     keras.initializers.RandomNormal(1.0, 0.02, seed=self.seed))
        self.beta = self.add_weight(shape=(c,), name="beta", initializer="zeros")
        self.ref_mean = self.add_weight(shape=(c,), name="ref_mean", initializer="zeros",
                                        trainable=False)
        self.ref_mean_sq = self.add_weight(shape=(c,), name="ref_mean_sq",
                                           initializer="ones", trainable=False)

    def _normalise(self, x, mean, mean_sq):
        std = tf.sqrt(self.epsilon + mean_sq - tf.square(mean))
        return (x - mean) / std * self.gamma + self.beta

    def call(self, x, training=False, mask=None):
        x = tf.cast(x, tf.float32)
        spatial = list(range(1, len(x.shape) - 1))       # a row's own positions
        n = float(self.reference)
        if training:
            ref = x[:self.reference]
            mean_r = tf.reduce_mean(ref, list(range(len(x.shape) - 1)))
            mean_sq_r = tf.reduce_mean(tf.square(ref), list(range(len(x.shape) - 1)))
            self.ref_mean.assign(tf.stop_gradient(mean_r))
            self.ref_mean_sq.assign(tf.stop_gradient(mean_sq_r))
            live = x[self.reference:]
        else:
            mean_r, mean_sq_r, live = self.ref_mean, self.ref_mean_sq, x
        own = tf.reduce_mean(live, spatial, keepdims=True) if spatial else live
        own_sq = (tf.reduce_mean(tf.square(live), spatial, keepdims=True) if spatial
                  else tf.square(live))
        mean = own / (n + 1.0) + mean_r * (n / (n + 1.0))
        mean_sq = own_sq / (n + 1.0) + mean_sq_r * (n / (n + 1.0))
        out = self._normalise(live, mean, mean_sq)
        if training:
            out = tf.concat([self._normalise(ref, mean_r, mean_sq_r), out], 0)
        return tf.cast(out, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "reference": self.reference,
                "epsilon": self.epsilon, "seed": self.seed}



# --- the networks with them: a D or G the families built, rebuilt around its layers

def with_minibatch_layer(D: keras.Model, kernels: int, dims: int, seed: int) -> keras.Model:
    """D with a MinibatchDiscrimination layer (named 'minibatch') between its last
    hidden layer and its output layer 'out', which is drawn again (the same
    initializer) for its wider input: every other layer is D's own."""
    out = D.get_layer("out")
    h = MinibatchDiscrimination(kernels, dims, seed, name="minibatch",
                                dtype=out.dtype_policy)(out.input)
    logit = keras.layers.Dense(1, name="out", kernel_initializer=out.kernel_initializer,
                               bias_initializer="zeros", dtype=out.dtype_policy)(h)
    return keras.Model(D.inputs, logit, name=D.name)


def features_model(D: keras.Model) -> keras.Model:
    """D's last hidden layer (what its minibatch layer, or else its output layer,
    reads) as a model sharing D's layers: feature matching's features."""
    names = [layer.name for layer in D.layers]
    head = D.get_layer("minibatch" if "minibatch" in names else "out")
    return keras.Model(D.inputs, head.input, name="discriminator_features")


def with_virtual_batch_norm(G: keras.Model, reference: int, seed: int) -> keras.Model:
    """G with every batch norm layer replaced by a VirtualBatchNorm of the same name
    (the other layers rebuilt from their configs: the same seeded initial weights)."""
    count = iter(range(1_000))

    def clone(layer):
        if isinstance(layer, keras.layers.BatchNormalization):
            return VirtualBatchNorm(reference, seed=seed + next(count), name=layer.name)
        return layer.__class__.from_config(layer.get_config())
    return keras.models.clone_model(G, clone_function=clone)
