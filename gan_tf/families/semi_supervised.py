"""The semi-supervised GAN of Salimans et al. 2016, "Improved Techniques for Training
GANs" (section 5, Table 1), as its authors' MNIST code trains it: D is a 10-class
classifier, and the product of the run.

Read from openai/improved-gan, mnist_svhn_cifar10/train_mnist_feature_matching.py
(T below) and nn.py (N):
  labels     `labels_per_class` (T:18 count = 10) images of each digit, the first of
             each class in a permutation of the training set by NumPy's
             RandomState(`data_seed`) (T:26, T:108-117): 100 labelled images, fixed
             for the run; every image is also in the unlabelled set (T:99-100).
  batches    per iteration 100 labelled (every labelled image once, in a fresh
             order: T:129-133), 100 unlabelled for D (T:135) and another 100
             unlabelled for G's feature matching, from a second, independent
             order of the training set (trainx_unl2, T:136, T:148).
  G          z ~ U[0, 1)^100 (T:29; here G's first layer maps the U(-1, 1) z every
             G of this project takes onto it); two dense 500 layers without bias,
             batch norm without gain (eps 1e-6) and softplus (T:31-32, N:214-226);
             a dense 784 sigmoid layer, weight-normalised with a trainable scale
             (T:33, N:246-260: nn.l2normalize); Glorot-uniform weights (Lasagne's
             default). Batch norm always uses the batch's statistics (T:34).
  D          Gaussian noise sigma 0.3 on the input, dense 1000-500-250-250-250 ReLU
             each followed by noise sigma 0.5, a dense 10 output (T:38-49); every
             dense layer weight-normalised, W = v g / ||v|| per output unit (N:272),
             v ~ N(0, 0.1^2) (N:264), g trainable in the last layer only (T:49); g and
             b initialised from data: one pass, noise on, over the first 500
             images of the data-seed permutation sets each layer's pre-activations
             to zero mean and unit variance (N:286-291, T:57, T:119).
  losses     the K+1 trick with the fake class's logit fixed at 0: with
             l(x) = logsumexp of D's 10 logits, D(x is real) = sigmoid(l(x));
             labelled: softmax cross-entropy (T:69); unlabelled:
             -1/2 E_unl[l] + 1/2 E_unl[softplus(l)] + 1/2 E_fake[softplus(l)] (T:70);
             D minimises labelled + unlabeled_weight * unlabelled (T:85). G's loss
             is feature matching: the mean over the 250 features of D's last hidden
             layer (before its noise, T:74) of the squared difference between their
             batch means on G(z) and on the unlabelled batch, noise on (T:74-76).
  training   Adam lr 0.003 (T:122), beta1 0.5, beta2 0.999 (N:26) with its 1e-8
             inside the square root (N:37, `SqrtEpsAdam`); one D step then one G step
             per batch (T:144-148); 300 epochs of 600 batches (T:123).
  product    D's parameters averaged, avg <- avg + 1e-4 (p - avg) from avg = 0,
             with the weights before each D step (T:86-88, T:92); the test error is
             the averaged D's with the noise off (T:79-80, T:94).
  data       all 60,000 training images (T:97-98: x_train and x_valid joined) with
             the run's split 'all' (experiments/mnist_semi_supervised.py); another
             split draws the labelled images from its own training images.
  measured   the test errors every epoch (T:150-154), here every eval_every
             iterations, of the classifier and of D itself (evaluation/tracking.py).
Where this differs: the random numbers are this project's stateless streams, not
Theano's; a saved G samples with batch norm's moving statistics (the authors' G never
runs outside training).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from gan_tf.core.params import (FamilyParams, count_problems, param, register_params,
                                run_option_problems, shared, sizes_problems)
from gan_tf.data.order import DeviceData
from gan_tf.data.streams import FAMILY_STREAMS, STREAM_Z_D, STREAM_Z_G, sample_z, stream_seed
from gan_tf.families.adversarial import model_state, optimizer_state
from gan_tf.families.base import OWN_STEP_RUN_OPTIONS, Family, Steps
from gan_tf.models import portable
from gan_tf.models.networks import IMAGE_DIM, NUM_CLASSES

# This family's random streams: the labelled batches' order, the G step's second copy
# of the unlabelled data, D's noise on each pass, the data-dependent init's noise.
STREAM_LABELLED, STREAM_UNLABELLED_G = FAMILY_STREAMS, FAMILY_STREAMS + 1
STREAM_NOISE_LAB, STREAM_NOISE_UNL, STREAM_NOISE_FAKE = (FAMILY_STREAMS + 2,
                                                        FAMILY_STREAMS + 3,
                                                        FAMILY_STREAMS + 4)
STREAM_NOISE_G_REAL, STREAM_NOISE_G_FAKE, STREAM_NOISE_INIT = (FAMILY_STREAMS + 5,
                                                               FAMILY_STREAMS + 6,
                                                               FAMILY_STREAMS + 7)
INIT_IMAGES = 500   # T:119 init_param(trainx[:500])
SIGMA_INPUT, SIGMA_HIDDEN = 0.3, 0.5   # D's Gaussian noise (T:38, T:40-48)


@register_params
@dataclass(frozen=True)
class Params(FamilyParams):
    FAMILY = "semi_supervised"
    eval_needs_validation = False     # eval_every counts test errors (T:94)
    labels_per_class: int = param(10, "labelled training images of each digit (the paper's "
                                      "20, 50, 100, 200 labels: 2, 5, 10, 20)")
    data_seed: int = param(1, "the seed that picks the labelled images (the authors' "
                              "seed_data)")
    unlabeled_weight: float = param(1.0, "weight of D's unlabelled (real vs fake) loss; 0: D "
                                         "learns from the labelled images alone")
    d_hidden: tuple = param((1000, 500, 250, 250, 250), "D's hidden layer sizes; its "
                                                         "last is the feature-matching layer")
    g_hidden: tuple = param((500, 500), "G's hidden layer sizes")
    average_rate: float = param(1e-4, "rate of the moving average of D's parameters "
                                      "(the classifier measured); 0: D itself")
    # Adam's (its own: epsilon under the square root, nn.py's)
    lr: float = shared("lr", 0.003)        # T:122
    beta1: float = shared("beta1", 0.5)    # N:26
    beta2: float = shared("beta2")

    def problems(self, cfg) -> list:
        out = (count_problems("labels_per_class", self.labels_per_class, 1, 5000)
               + count_problems("data_seed", self.data_seed, 0, 2**31 - 1))
        out += sizes_problems("d_hidden", self.d_hidden) + sizes_problems("g_hidden",
                                                                          self.g_hidden)
        for name, high in (("unlabeled_weight", 100.0), ("average_rate", 1.0)):
            v = getattr(self, name)
            if not (type(v) is float and 0.0 <= v <= high):
                out.append(f"{name} must be a number in [0, {high:g}], got {v}")
        # eval_every is this family's: the test errors of its classifiers (tracking.py).
        own = {k: v for k, v in OWN_STEP_RUN_OPTIONS.items() if k != "eval_every"}
        return out + run_option_problems(cfg, "semi_supervised", own,
                                         "its D is a classifier trained by its own step, "
                                         "on one device")


# --- the networks

@keras.saving.register_keras_serializable(package="gan_tf")
class WeightNormDense(keras.layers.Layer):
    """A dense layer with W = v g / ||v|| (per output unit, over the inputs): Salimans &
    Kingma's weight normalisation as nn.DenseLayer (D: epsilon 0, v ~ N(0, 0.1^2))
    and nn.l2normalize (G's output: epsilon 1e-6, Glorot-uniform v) compute it.
    `train_scale` False keeps g at what the data-dependent init set."""

    def __init__(self, units, activation=None, train_scale=True, epsilon=0.0,
                 v_init="normal", seed=0, **kwargs):
        super().__init__(**kwargs)
        self.units, self.train_scale, self.epsilon = units, train_scale, epsilon
        self.activation = keras.activations.get(activation)
        self.v_init, self.seed = v_init, seed

    def build(self, input_shape):
        init = (keras.initializers.RandomNormal(stddev=0.1, seed=self.seed)
                if self.v_init == "normal" else
                keras.initializers.GlorotUniform(seed=self.seed))
        self.v = self.add_weight((input_shape[-1], self.units), initializer=init, name="v")
        self.g = self.add_weight((self.units,), initializer="ones", name="g",
                                 trainable=self.train_scale)
        self.b = self.add_weight((self.units,), initializer="zeros", name="b")

    def pre_activation(self, x):
        """x W (no bias, no activation): what the data-dependent init normalises."""
        norm = tf.sqrt(self.epsilon + tf.reduce_sum(tf.square(self.v), axis=0))
        return tf.matmul(x, self.v * (self.g / norm)[None, :])

    def call(self, x):
        return self.activation(self.pre_activation(x) + self.b)

    def get_config(self):
        return {**super().get_config(), "units": self.units,
                "activation": keras.activations.serialize(self.activation),
                "train_scale": self.train_scale, "epsilon": self.epsilon,
                "v_init": self.v_init, "seed": self.seed}


def _stock_dense(layer):
    """WeightNormDense as a stock Dense for saved files (models/portable.py): the
    kernel v g / ||v|| computed once, exactly as pre_activation computes it."""
    dense = keras.layers.Dense(layer.units, activation=layer.activation, name=layer.name,
                               dtype=layer.dtype_policy)

    def copy():
        norm = tf.sqrt(layer.epsilon + tf.reduce_sum(tf.square(layer.v), axis=0))
        dense.set_weights([np.asarray(layer.v * (layer.g / norm)[None, :]),
                           np.asarray(layer.b)])
    return dense, copy


portable.register(WeightNormDense, _stock_dense)

def generator(cfg, seeds) -> keras.Model:
    """z (batch, z_dim) in [-1, 1] -> (batch, 784) in [0, 1]."""
    z = keras.Input((cfg.z_dim,), name="z")
    h = keras.layers.Rescaling(0.5, offset=0.5, name="to_unit_interval")(z)   # U[0, 1)
    for i, size in enumerate(cfg.params.g_hidden):
        h = keras.layers.Dense(size, use_bias=False, name=f"hidden{i + 1}",
                               kernel_initializer=keras.initializers.GlorotUniform(next(seeds)))(h)
        h = keras.layers.BatchNormalization(scale=False, epsilon=1e-6, name=f"bn{i + 1}")(h)
        h = keras.layers.Activation("softplus", name=f"softplus{i + 1}")(h)
    x = WeightNormDense(IMAGE_DIM, "sigmoid", epsilon=1e-6, v_init="glorot",
                        seed=next(seeds), name="out")(h)
    return keras.Model(z, x, name="generator")


def discriminator(cfg, seeds) -> keras.Model:
    """x (batch, 784) -> 10 class logits, without noise (the noise is the step's)."""
    x = keras.Input((IMAGE_DIM,), name="x")
    h = x
    for i, size in enumerate(cfg.params.d_hidden):
        h = WeightNormDense(size, "relu", train_scale=False, seed=next(seeds),
                            name=f"hidden{i + 1}")(h)
    logits = WeightNormDense(NUM_CLASSES, None, train_scale=True, seed=next(seeds),
                             name="out")(h)
    return keras.Model(x, logits, name="discriminator")


def d_pass(D, x, noise_seed=None):
    """D on x: (its last hidden layer's features, the 10 logits). With `noise_seed`
    (a stateless seed) Gaussian noise sigma 0.3 is added to the input and sigma 0.5 to
    every hidden layer's output after its features are read (T:38-48)."""
    layers = [l for l in D.layers if isinstance(l, WeightNormDense)]
    h = x if noise_seed is None else _noisy(x, SIGMA_INPUT, noise_seed, 0)
    features = h
    for i, layer in enumerate(layers[:-1]):
        features = layer(h)
        h = features if noise_seed is None else _noisy(features, SIGMA_HIDDEN, noise_seed, i + 1)
    return features, layers[-1](h)


def _noisy(x, sigma: float, seed, layer: int):
    """x + N(0, sigma^2) noise drawn from `seed` with `layer` folded in. ThreeFry, as
    data/streams.py draws everything: XLA compiles it on every path (TensorFlow's
    own kernels lack it), so eager and compiled runs draw the same noise."""
    # sigma and layer go in as tensors: as Python numbers each (sigma, layer) pair
    # traced anew, and the eager data-dependent init (five layers) made TensorFlow
    # warn of "excessive retracing" at every run's start.
    return _add_noise(x, tf.constant(sigma, x.dtype), seed, tf.constant(layer, tf.int64))


@tf.function(jit_compile=True, reduce_retracing=True)
def _add_noise(x, sigma, seed, layer):
    seed = tf.random.experimental.stateless_fold_in(seed, layer, alg="threefry")
    return x + sigma * tf.random.stateless_normal(tf.shape(x), seed, alg="threefry")


def init_from_data(D, x, noise_seed) -> None:
    """N:286-291: layer by layer, g <- g / std and b <- -mean / std of x W over x (the
    noise on), so each layer starts with zero-mean, unit-variance pre-activations."""
    layers = [l for l in D.layers if isinstance(l, WeightNormDense)]
    h = _noisy(x, SIGMA_INPUT, noise_seed, 0)
    for i, layer in enumerate(layers):
        pre = layer.pre_activation(h)
        mean = tf.reduce_mean(pre, axis=0)
        std = tf.sqrt(tf.reduce_mean(tf.square(pre - mean), axis=0))
        layer.g.assign(layer.g / std)
        layer.b.assign(-mean / std)
        h = layer(h)
        if i < len(layers) - 1:
            h = _noisy(h, SIGMA_HIDDEN, noise_seed, i + 1)


# --- the losses: pure functions of D's logits (and the labels, the features)

def labelled_loss(logits, labels):
    """Softmax cross-entropy of the labelled batch's 10 logits (T:69)."""
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels, logits))


def unlabelled_loss(real_logits, fake_logits):
    """-1/2 E_real[log D(x)] - 1/2 E_fake[log(1 - D(G(z)))] with D(x) = sigmoid(lse),
    lse the logsumexp of the 10 logits: the K+1-th class's logit fixed at 0 (T:70)."""
    lse_real = tf.reduce_logsumexp(real_logits, axis=1)
    lse_fake = tf.reduce_logsumexp(fake_logits, axis=1)
    return (-0.5 * tf.reduce_mean(lse_real) + 0.5 * tf.reduce_mean(tf.nn.softplus(lse_real))
            + 0.5 * tf.reduce_mean(tf.nn.softplus(lse_fake)))


def feature_matching_loss(real_features, fake_features):
    """mean over features of (batch mean on fakes - batch mean on reals)^2 (T:74-76)."""
    return tf.reduce_mean(tf.square(tf.reduce_mean(fake_features, axis=0)
                                    - tf.reduce_mean(real_features, axis=0)))


def error_count(logits, labels) -> tf.Tensor:
    """How many argmax predictions are wrong."""
    wrong = tf.not_equal(tf.argmax(logits, axis=1, output_type=tf.int32),
                         tf.cast(labels, tf.int32))
    return tf.reduce_sum(tf.cast(wrong, tf.int32))


class SqrtEpsAdam(keras.optimizers.Optimizer):
    """nn.adam_updates (N:26-43): m_hat / sqrt(v_hat + eps), its eps inside the square
    root (Keras' Adam: m_hat / (sqrt(v_hat) + eps))."""

    def __init__(self, learning_rate, beta_1=0.5, beta_2=0.999, epsilon=1e-8, **kwargs):
        super().__init__(learning_rate=learning_rate, **kwargs)
        self.beta_1, self.beta_2, self.epsilon = beta_1, beta_2, epsilon

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._m, self._v = self.add_optimizer_variables(var_list, ["momentum", "velocity"])

    def update_step(self, gradient, variable, learning_rate):
        i = self._get_variable_index(variable)
        m, v = self._m[i], self._v[i]
        t = tf.cast(self.iterations + 1, variable.dtype)
        m.assign(self.beta_1 * m + (1.0 - self.beta_1) * gradient)
        v.assign(self.beta_2 * v + (1.0 - self.beta_2) * tf.square(gradient))
        m_hat = m / (1.0 - tf.pow(self.beta_1, t))
        v_hat = v / (1.0 - tf.pow(self.beta_2, t))
        variable.assign_sub(tf.cast(learning_rate, variable.dtype) * m_hat
                            / tf.sqrt(v_hat + self.epsilon))

    def get_config(self):
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2,
                "epsilon": self.epsilon}


def labelled_subset(labels: np.ndarray, per_class: int, data_seed: int) -> np.ndarray:
    """The indices of the labelled images, by class: the first `per_class` of each
    digit in RandomState(data_seed)'s permutation of the training set (T:108-117)."""
    order = np.random.RandomState(data_seed).permutation(len(labels))
    picked = [order[labels[order] == k][:per_class] for k in range(NUM_CLASSES)]
    if min(len(p) for p in picked) < per_class:
        raise ValueError(f"the training set has fewer than {per_class} images of a digit")
    return np.concatenate(picked)


# --- the step

class SemiSupervisedSteps(Steps):
    """G, D, the average of D, their optimizers and the K+1-class step."""
    VALUES = ("d_loss", "labelled_loss", "unlabelled_loss", "g_loss", "train_error",
              "d_real", "d_fake")

    def __init__(self, G, D, D_avg, cfg, train_images, train_labels):
        super().__init__(cfg, train_images)            # the unlabelled images, for D
        p = cfg.params
        chosen = labelled_subset(np.asarray(train_labels), p.labels_per_class, p.data_seed)
        self.labelled_indices = chosen
        # Fewer labelled images than a batch (20 or 50 labels, batches of 100): every
        # batch holds each of them batch / count times, as the authors' tiling of
        # independent permutations does (T:129-133).
        self.labelled_rows = np.tile(chosen, -(-cfg.batch_size // len(chosen)))
        batch = dict(seed=cfg.seed, batch_size=cfg.batch_size, output=cfg.g_output)
        self.labelled = DeviceData(train_images[self.labelled_rows],
                                   train_labels[self.labelled_rows], stream=STREAM_LABELLED,
                                   **batch)
        self.unlabelled_g = DeviceData(train_images, stream=STREAM_UNLABELLED_G, **batch)
        self.G, self.D, self.D_avg = G, D, D_avg
        adam = (cfg.params.lr, cfg.params.beta1, cfg.params.beta2)
        self.g_opt = SqrtEpsAdam(*adam, name="g_adam")
        self.d_opt = SqrtEpsAdam(*adam, name="d_adam")
        self.g_opt.build(G.trainable_variables)
        self.d_opt.build(D.trainable_variables)

    def describe(self, values: dict) -> str:
        return (f"labelled: {values['labelled_loss']:.4}  unlabelled: "
                f"{values['unlabelled_loss']:.4}  feature matching: {values['g_loss']:.4}")

    def noise(self, stream, t):
        return stream_seed(self.cfg.seed, stream, t)

    def step(self, t):
        cfg, p = self.cfg, self.cfg.params
        idx = self.labelled.indices(t)
        x_lab, y_lab = self.labelled.images_at(idx), tf.gather(self.labelled.labels, idx)
        x_unl, _ = self.batch(t)
        # --- D: the labelled and the unlabelled loss, on three noisy passes
        fake = self.G(sample_z(cfg.seed, STREAM_Z_D, t, cfg.batch_size, cfg.z_dim),
                      training=True)
        d_vars = self.D.trainable_variables
        with tf.GradientTape() as tape:
            _, lab = d_pass(self.D, x_lab, self.noise(STREAM_NOISE_LAB, t))
            _, unl = d_pass(self.D, x_unl, self.noise(STREAM_NOISE_UNL, t))
            _, fake_logits = d_pass(self.D, fake, self.noise(STREAM_NOISE_FAKE, t))
            loss_lab = labelled_loss(lab, y_lab)
            loss_unl = unlabelled_loss(unl, fake_logits)
            d_loss = loss_lab + p.unlabeled_weight * loss_unl
        d_grads = tape.gradient(d_loss, d_vars)
        self.average_d()              # with D's weights before its step (T:86-92)
        self.d_opt.apply(d_grads, d_vars)
        # --- G: feature matching against a second unlabelled batch, through the new D
        x_unl2, _ = self.unlabelled_g.batch(t)
        z = sample_z(cfg.seed, STREAM_Z_G, t, cfg.batch_size, cfg.z_dim)
        g_vars = self.G.trainable_variables
        with tf.GradientTape() as tape:
            real_features, _ = d_pass(self.D, x_unl2, self.noise(STREAM_NOISE_G_REAL, t))
            fake_features, _ = d_pass(self.D, self.G(z, training=True),
                                      self.noise(STREAM_NOISE_G_FAKE, t))
            g_loss = feature_matching_loss(real_features, fake_features)
        self.g_opt.apply(tape.gradient(g_loss, g_vars), g_vars)
        return {"d_loss": d_loss, "labelled_loss": loss_lab, "unlabelled_loss": loss_unl,
                "g_loss": g_loss,
                "train_error": tf.cast(error_count(lab, y_lab), tf.float32) / cfg.batch_size,
                "d_real": tf.reduce_mean(tf.sigmoid(tf.reduce_logsumexp(unl, axis=1))),
                "d_fake": tf.reduce_mean(tf.sigmoid(tf.reduce_logsumexp(fake_logits, 1)))}

    def average_d(self):
        """avg <- avg + rate (p - avg) over D's trainable parameters (T:87); with
        rate 0 the classifier is D itself."""
        rate = self.cfg.params.average_rate
        if rate == 0:
            return
        for a, w in zip(self.D_avg.trainable_variables, self.D.trainable_variables):
            a.assign(a + rate * (w - a))

    @property
    def classifier(self):
        """The classifier the run produces: the average of D, or D without one."""
        return self.D if self.cfg.params.average_rate == 0 else self.D_avg

    def generators(self) -> dict:
        """What eval_every measures (test errors): the classifier, and D itself when
        the classifier is its average."""
        if self.cfg.params.average_rate == 0:
            return {"": self.D}
        return {"": self.D_avg, "d_": self.D}

    def extra_generators(self) -> dict:
        return {"classifier.keras": (self.classifier, {
            "measures": "classifier",
            "labels_per_class": self.cfg.params.labels_per_class,
            "data_seed": self.cfg.params.data_seed,
            "averaged": self.cfg.params.average_rate > 0})}

    def state(self) -> dict:
        return {**model_state("G", self.G), **model_state("D", self.D),
                **model_state("D_avg", self.D_avg), **optimizer_state("g_opt", self.g_opt),
                **optimizer_state("d_opt", self.d_opt)}


class SemiSupervised(Family):
    name, Params = "semi_supervised", Params
    measures = "classifier"

    def generator(self, cfg, seeds):
        return generator(cfg, seeds)

    def discriminator(self, cfg, seeds):
        return discriminator(cfg, seeds)

    def generator_info(self, cfg) -> dict:
        # The run is measured by its classifier; its G is a sampler like any other
        # (its file's card: z in, images out), which evaluate measures by its samples.
        return {"measures": "samples"}

    def build(self, cfg, train_images, train_labels=None, strategy=None):
        if train_labels is None:
            raise ValueError("the semi-supervised GAN needs the training labels")
        G, D = self.build_generator(cfg), self.build_discriminator(cfg)
        # The data-dependent init on the first 500 images of the data seed's
        # permutation (T:108-109, T:119), before any step.
        order = np.random.RandomState(cfg.params.data_seed).permutation(len(train_images))
        first = tf.constant(train_images[order[:INIT_IMAGES]], tf.float32) / 255.0
        init_from_data(D, first, stream_seed(cfg.seed, STREAM_NOISE_INIT, 0))
        # The average starts at zero (T:86), the fixed hidden scales as D's.
        D_avg = self.build_discriminator(cfg)
        D_avg.set_weights(D.get_weights())
        for a in D_avg.trainable_variables:
            a.assign(tf.zeros_like(a))
        return SemiSupervisedSteps(G, D, D_avg, cfg, train_images, train_labels)

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        labels = p.labels_per_class * NUM_CLASSES
        return (f"semi-supervised GAN ({labels} labels, unlabelled weight "
                f"{p.unlabeled_weight:g}, feature matching; D averaged at "
                f"{p.average_rate:g})")


FAMILY = SemiSupervised()
