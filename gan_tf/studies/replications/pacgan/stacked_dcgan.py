"""Stacked MNIST (the PacGAN paper's Table 2): DCGAN against PacDCGAN2, from its code.

Three MNIST digits as the three channels of one 28x28 image make 1,000 modes; a
generator's modes are the distinct digit triples the MNIST classifier reads in its
samples, channel by channel. `fjxmlzn/PacGAN` (commit b331f4f),
stacked_MNIST_experiments/VEEGAN_experiment/, read with the search tool, is followed
line by line; it is Taehoon Kim's DCGAN-tensorflow with packing added.
Why it is not a model family: its data are not a dataset of the run folder's (three
MNIST digits stacked as channels, drawn with replacement, train and test together),
its G draws 3-channel images that no family's measures read, and the paper's Table 2
scores a trial by the modes of its final G alone; the family seam would add a run
folder and a second data path for no measure of its own.

Data (model.py load_mnist, config.py)
  - the 70,000 MNIST images (train and test together, `np.concatenate((trX, teX))`),
    divided by 255 (so in [0, 1]);
  - `num_training_sample` 128,000 stacked images, each channel an index drawn with
    replacement (`np.random.randint(0, X.shape[0], size=(n, 3))`);
  - packing m: slot j of D's input is the stacked set re-drawn with replacement
    (`ids = np.random.randint(0, X_training.shape[0], size=(n, packing_num))`), the
    slots concatenated on the channel axis (channel j*3 + k);
  - batches of 64 (`batch_size`) in the stored order, no shuffle (`data_X[idx*bs:
    (idx+1)*bs]`): 2,000 iterations an epoch, `epoch` 50, so 100,000 iterations.
Networks (model.py generator / discriminator, ops.py; gf_dim = df_dim = 64)
  - G: z (100-d, U(-1, 1)) -> linear 2*2*512 -> BN, ReLU -> deconv 5x5 stride 2 to
    4x4x256, 7x7x128, 14x14x64 (each BN, ReLU) -> deconv to 28x28x3 -> tanh. The
    output sizes are `conv_out_size_same` (ceil of halving: 28, 14, 7, 4, 2).
  - D: conv 5x5 stride 2 'SAME' to 14x14x64 (no BN) -> 7x7x128, 4x4x256, 2x2x512
    (each BN) with leaky ReLU 0.2 (`lrelu`, max(x, 0.2x)) -> linear 1.
    Its input has 3m channels; nothing else in D changes with m.
  - weights: conv truncated normal 0.02, deconv and linear normal 0.02, biases 0;
    BN (tf.contrib batch_norm): scale 1 and shift 0 trained, epsilon 1e-5, decay 0.9.
  - BN in training mode normalises by the batch it is given: D's real and fake
    batches separately (D is called on each), and each of G's m slots separately
    (`self.G_sep.append(self.generator(self.z[i]))`). G's moving statistics (used
    by `sampler`, BN with train=False) move 10% toward each training call's.
Training (model.py train)
  - losses: sigmoid cross-entropy of D's logits; G's is the non-saturating one.
  - each iteration: one D step, then **two G steps** on the same z ("Run g_optim
    twice to make sure that d_loss does not go to zero"); Adam 2e-4, beta1 0.5 (TF1's
    beta2 0.999 and epsilon 1e-8), one optimizer per player; z re-drawn per iteration.
Measures (model.py log_metrics, after every epoch)
  - 26,000 samples (`num_test_sample`) from one fixed z, `sampler` (slot 0);
  - each channel read by the classifier (`evaluate`: argmax of the Keras CNN of
    train_mnist.py; here the project's committed MNIST classifier); the samples go to
    it as they are, tanh's [-1, 1] range and all;
  - modes = the number of distinct triples; KL = KL(p || uniform over 1,000) with p
    the triples' shares (`JSD().KLD(p, q)`).
  - Table 2: PacDCGAN2 1000.0 ± 0.00 modes, KL 0.06 ± 0.003; their DCGAN 78.9 ± 6.46,
    KL 4.50 ± 0.127; mean ± standard error over 10 trials.

Not followed: the three training-time forward passes the code makes only to print
losses and save pictures (they also move G's BN statistics); each trial's seed is
ours (theirs was `random.randint(1, 100000)`). Optional: bfloat16 for the
convolutions and matmuls (`precision="mixed_bfloat16"`, the train command's spelling:
BN statistics, losses and Adam stay float32), a speed choice this CPU's matrix units reward.
"""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from gan_tf.core.config import PRECISIONS
from gan_tf.evaluation.classifier import predict
from gan_tf.evaluation.modes import triple_modes
from gan_tf.models.packing import pack
from gan_tf.studies.replications.pacgan.protocol import adam_update

Z_DIM, GF, DF, BATCH = 100, 64, 64, 64
NUM_TRAINING, NUM_TEST = 128_000, 26_000
EPOCH_ITERS = NUM_TRAINING // BATCH        # 2,000
ITERS = 50 * EPOCH_ITERS                   # the paper's 100,000
LR, BETA1, ADAM_EPS = 2e-4, 0.5, 1e-8
BN_EPS, BN_DECAY, LEAK, INIT_STD = 1e-5, 0.9, 0.2, 0.02
MODES = 1000
# Table 2, mean ± standard error over 10 trials: (modes, se, KL, se).
PAPER = {"dcgan": (78.9, 6.46, 4.50, 0.127), "pacdcgan2": (1000.0, 0.0, 0.06, 0.003),
         "pacdcgan3": (1000.0, 0.0, 0.06, 0.003), "pacdcgan4": (1000.0, 0.0, 0.07, 0.005)}
METHODS = {"dcgan": 1, "pacdcgan2": 2, "pacdcgan3": 3, "pacdcgan4": 4}
G_SIZES = (2, 4, 7, 14, 28)                # conv_out_size_same of 28, halved
G_CHANNELS = (GF * 8, GF * 4, GF * 2, GF, 3)
D_CHANNELS = (DF, DF * 2, DF * 4, DF * 8)


def stacked_indices(rng: np.random.Generator, num_images: int, n: int = NUM_TRAINING,
                    pack: int = 1) -> np.ndarray:
    """(n, pack, 3) indices into the MNIST images: load_mnist's two draws, the stacked
    set (n, 3) and each packed slot's re-draw of it (n, pack)."""
    triples = rng.integers(0, num_images, size=(n, 3))
    return triples[rng.integers(0, n, size=(n, pack))]


def read_triples(classifier, samples: np.ndarray) -> np.ndarray:
    """(N, 28, 28, 3) samples -> (N, 3) digits, each channel read by the classifier."""
    n = len(samples)
    flat = np.transpose(samples, (3, 0, 1, 2)).reshape(3 * n, 784)
    probs, _ = predict(classifier, flat)
    return probs.argmax(1).reshape(3, n).T


class StackedGAN(tf.Module):
    """One trial: G and D of the DCGAN above, D reading `pack` stacked images."""

    def __init__(self, images_uint8: np.ndarray, pack: int = 1, seed: int = 0,
                 precision: str = "float32", num_training: int = NUM_TRAINING,
                 xla: bool = False):
        super().__init__()
        if precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, not "
                             f"{precision!r}")
        self.pack, self.seed = pack, seed
        self.dtype = tf.bfloat16 if precision == "mixed_bfloat16" else tf.float32
        rng = np.random.default_rng([seed, 0])
        images = np.asarray(images_uint8, np.uint8).reshape(-1, 28, 28)
        # Variables, not constants: XLA would fold a captured constant into the program.
        # The indices int64: a GPU keeps int32 variables in host memory, where the
        # XLA-compiled chunk cannot read them (XLA's "Known issues").
        self.images = tf.Variable(images, trainable=False)
        self.ids = tf.Variable(stacked_indices(rng, len(images), num_training, pack)
                               .astype(np.int64), trainable=False)
        self.epoch_iters = num_training // BATCH
        self.G, self.D = self._init_g(rng), self._init_d(rng)
        self.g_moving = [tf.Variable(tf.zeros([c]), trainable=False) for c in G_CHANNELS[:4]] \
            + [tf.Variable(tf.ones([c]), trainable=False) for c in G_CHANNELS[:4]]
        self.adam = {name: ([tf.Variable(tf.zeros_like(p)) for p in ps],
                            [tf.Variable(tf.zeros_like(p)) for p in ps],
                            tf.Variable(0.0))
                     for name, ps in (("G", self.G), ("D", self.D))}
        self.iteration = tf.Variable(0, dtype=tf.int64)
        self.test_z = tf.constant(rng.uniform(-1, 1, (NUM_TEST, Z_DIM)), tf.float32)
        # XLA on a GPU; on a CPU TensorFlow's own (oneDNN) convolutions are far faster
        # than XLA's (the project's DCGAN found the same: experiments/mnist_dcgan_*).
        self._chunk = tf.function(self._train_chunk, jit_compile=xla)
        self._sample = tf.function(self._sampler, jit_compile=xla)

    # ---- parameters ----
    @staticmethod
    def _normal(rng, shape, truncated=False):
        w = rng.normal(0, INIT_STD, shape)
        if truncated:   # tf.truncated_normal_initializer: re-draw beyond 2 std
            bad = np.abs(w) > 2 * INIT_STD
            while bad.any():
                w[bad] = rng.normal(0, INIT_STD, bad.sum())
                bad = np.abs(w) > 2 * INIT_STD
        return tf.Variable(w.astype(np.float32))

    def _init_g(self, rng):
        # linear; then for each deconv (kernel [5, 5, out, in], bias); BN scale, shift
        ps = [self._normal(rng, (Z_DIM, G_SIZES[0] ** 2 * G_CHANNELS[0])),
              tf.Variable(tf.zeros([G_SIZES[0] ** 2 * G_CHANNELS[0]]))]
        for c_in, c_out in zip(G_CHANNELS[:-1], G_CHANNELS[1:]):
            ps += [self._normal(rng, (5, 5, c_out, c_in)), tf.Variable(tf.zeros([c_out]))]
        for c in G_CHANNELS[:4]:
            ps += [tf.Variable(tf.ones([c])), tf.Variable(tf.zeros([c]))]
        return ps

    def _init_d(self, rng):
        ps, c_in = [], 3 * self.pack
        for c_out in D_CHANNELS:
            ps += [self._normal(rng, (5, 5, c_in, c_out), truncated=True),
                   tf.Variable(tf.zeros([c_out]))]
            c_in = c_out
        ps += [self._normal(rng, (2 * 2 * D_CHANNELS[-1], 1)), tf.Variable(tf.zeros([1]))]
        for c in D_CHANNELS[1:]:
            ps += [tf.Variable(tf.ones([c])), tf.Variable(tf.zeros([c]))]
        return ps

    # ---- the networks ----
    def _mm(self, x, w):
        return tf.cast(tf.matmul(tf.cast(x, self.dtype), tf.cast(w, self.dtype)), tf.float32)

    def _conv(self, x, w):
        return tf.cast(tf.nn.conv2d(tf.cast(x, self.dtype), tf.cast(w, self.dtype), 2,
                                    "SAME"), tf.float32)

    def _deconv(self, x, w, size):
        shape = [tf.shape(x)[0], size, size, w.shape[2]]
        return tf.cast(tf.nn.conv2d_transpose(tf.cast(x, self.dtype), tf.cast(w, self.dtype),
                                              shape, 2, "SAME"), tf.float32)

    @staticmethod
    def _bn(h, scale, shift, mean, var):
        return (h - mean) * tf.math.rsqrt(var + BN_EPS) * scale + shift

    def generate(self, G, z, training: bool = True):
        """z (S, B, 100) -> (S, B, 28, 28, 3) and stats. Training mode normalises each
        slot by its own batch; inference by the moving statistics. stats: per layer,
        each slot's batch (mean, variance), (S, C) each."""
        S, B = z.shape[0], tf.shape(z)[1]
        h = self._mm(tf.reshape(z, [-1, Z_DIM]), G[0]) + G[1]
        h = tf.reshape(h, [-1, G_SIZES[0], G_SIZES[0], G_CHANNELS[0]])
        stats = []
        for i in range(5):
            if i > 0:
                h = self._deconv(h, G[2 * i], G_SIZES[i]) + G[2 * i + 1]
            if i == 4:
                break
            scale, shift = G[10 + 2 * i], G[11 + 2 * i]
            if training:
                slots = tf.reshape(h, [S, -1, G_SIZES[i], G_SIZES[i], G_CHANNELS[i]])
                mean, var = tf.nn.moments(slots, [1, 2, 3], keepdims=True)
                h = tf.reshape(self._bn(slots, scale, shift, mean, var), tf.shape(h))
                stats.append((tf.reshape(mean, [S, -1]), tf.reshape(var, [S, -1])))
            else:
                h = self._bn(h, scale, shift, self.g_moving[i], self.g_moving[4 + i])
            h = tf.nn.relu(h)
        x = tf.tanh(h)
        return tf.reshape(x, [S, B, 28, 28, 3]), stats

    def discriminate(self, D, x):
        """x (B, 28, 28, 3m) -> logits (B,); BN by this batch's statistics."""
        h = x
        for i in range(4):
            h = self._conv(h, D[2 * i]) + D[2 * i + 1]
            if i > 0:
                mean, var = tf.nn.moments(h, [0, 1, 2], keepdims=True)
                h = self._bn(h, D[8 + 2 * i], D[9 + 2 * i], mean, var)
            h = tf.maximum(h, LEAK * h)
        return (self._mm(tf.reshape(h, [-1, 2 * 2 * D_CHANNELS[-1]]), D[8]) + D[9])[:, 0]

    @staticmethod
    def packed(x):
        """(S, B, 28, 28, 3) -> (B, 28, 28, 3S): slot j in channels 3j..3j+2."""
        return pack(x, slot_axis=0)

    def real_batch(self, i):
        """Batch i of the epoch, in the stored order: (B, 28, 28, 3m) in [0, 1]."""
        ids = tf.slice(self.ids, [i * BATCH, 0, 0], [BATCH, self.pack, 3])   # (B, m, 3)
        x = tf.cast(tf.gather(self.images, ids), tf.float32) / 255.0     # (B, m, 3, 28, 28)
        x = tf.transpose(x, [0, 3, 4, 1, 2])                             # (B, 28, 28, m, 3)
        return tf.reshape(x, [-1, 28, 28, 3 * self.pack])

    # ---- training ----
    @staticmethod
    def d_loss(real_logits, fake_logits):
        return (tf.reduce_mean(tf.nn.softplus(-real_logits))
                + tf.reduce_mean(tf.nn.softplus(fake_logits)))

    @staticmethod
    def g_loss(fake_logits):
        return tf.reduce_mean(tf.nn.softplus(-fake_logits))

    def _move_bn(self, stats):
        for i, (mean, var) in enumerate(stats):
            for slot in range(self.pack):   # tf.contrib's update, once per slot's call
                self.g_moving[i].assign(
                    BN_DECAY * self.g_moving[i] + (1 - BN_DECAY) * mean[slot])
                self.g_moving[4 + i].assign(
                    BN_DECAY * self.g_moving[4 + i] + (1 - BN_DECAY) * var[slot])

    def _adam(self, name, params, grads):
        m, v, t = self.adam[name]
        t.assign_add(1.0)
        new, m_new, v_new = adam_update([tf.convert_to_tensor(p) for p in params], grads,
                                        [tf.convert_to_tensor(a) for a in m],
                                        [tf.convert_to_tensor(a) for a in v], t,
                                        lr=LR, beta1=BETA1, eps=ADAM_EPS)
        for var, val in zip(params + m + v, new + m_new + v_new):
            var.assign(val)

    def train_step(self, real, z):
        """One iteration: a D step, then two G steps on the same z. -> (d, g) losses."""
        with tf.GradientTape() as tape:
            fake, stats = self.generate(self.G, z)
            d = self.d_loss(self.discriminate(self.D, real),
                            self.discriminate(self.D, self.packed(fake)))
        self._adam("D", self.D, tape.gradient(d, self.D))
        self._move_bn(stats)
        for _ in range(2):
            with tf.GradientTape() as tape:
                fake, stats = self.generate(self.G, z)
                g = self.g_loss(self.discriminate(self.D, self.packed(fake)))
            self._adam("G", self.G, tape.gradient(g, self.G))
            self._move_bn(stats)
        return d, g

    def _train_chunk(self, steps):
        d = g = tf.constant(0.0)
        for _ in tf.range(steps):
            it = self.iteration
            i = it % self.epoch_iters
            z = tf.random.stateless_uniform(
                [self.pack, BATCH, Z_DIM],
                tf.random.experimental.stateless_fold_in(
                    tf.constant([self.seed, 1], tf.int64), it), -1.0, 1.0)
            d, g = self.train_step(self.real_batch(i), z)
            self.iteration.assign_add(1)
        return d, g

    def train(self, steps: int):
        """`steps` more iterations in one compiled call; -> the last (d, g) losses."""
        d, g = self._chunk(tf.constant(steps, tf.int64))
        return float(d), float(g)

    def _sampler(self, z):
        return self.generate(self.G, z[None], training=False)[0][0]

    def samples(self, n: int = NUM_TEST) -> np.ndarray:
        """(n, 28, 28, 3) from the fixed test z, G in inference mode (`sampler`)."""
        out = [self._sample(self.test_z[i:i + 1000]).numpy() for i in range(0, n, 1000)]
        return np.concatenate(out)[:n]

    def measures(self, classifier, n: int = NUM_TEST) -> dict:
        return triple_modes(read_triples(classifier, self.samples(n)))


def flops_per_iteration(pack: int = 1) -> float:
    """Multiply-adds x 2 of one iteration, counted from the layer shapes: a G forward
    per slot, D on 2 batches in the D step, G + D forward and backward twice more
    (backward ~ 2x forward)."""
    g = Z_DIM * G_SIZES[0] ** 2 * G_CHANNELS[0]
    for i in range(1, 5):
        g += G_SIZES[i - 1] ** 2 * 25 * G_CHANNELS[i - 1] * G_CHANNELS[i]
    d, size, c_in = 0, 28, 3 * pack
    for c_out in D_CHANNELS:
        size = math.ceil(size / 2)
        d += size * size * 25 * c_in * c_out
        c_in = c_out
    d += 2 * 2 * D_CHANNELS[-1]
    d_step = pack * g + 3 * 2 * d             # G forward; D fwd + bwd on real and fake
    g_step = 3 * pack * g + 3 * d             # G and D forward + backward
    return 2.0 * BATCH * (d_step + 2 * g_step)
