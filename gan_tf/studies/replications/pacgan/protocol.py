"""The PacGAN paper's 2-D mixture protocol (Lin et al. 2018, Table 1), from its code.

`fjxmlzn/PacGAN`, synthetic_data_experiments/ (commit b331f4f), read with the search
tool; each choice below names the line it follows. The project's older toy
(mode_collapse.py: ReLU MLPs 128 wide, alternating steps, z 16-d) stays as the
tutorial-style demo; this module is the faithful one, and the two are labelled apart.
Why its GAN is not a model family: the protocol trains its 2-D trials batched as one
compiled program (trials stacked on a leading axis, as the paper's table needs dozens
of them), on points, not MNIST images, and scores modes, not a run folder's G.

Data (2DGrid_GAN&PacGAN/config.py, 2DRing_GAN&PacGAN/config.py, pacgan/datasets.py)
  - the grid: centres (i, j) for i, j in range(-4, 5, 2), std 0.05; the ring: 8
    centres (cos 2 pi k/8, sin 2 pi k/8), std 0.01 (`MEANS`, `VARIANCES`); priors equal.
  - num_sample 100,000 points drawn once per trial (GaussianPackingMixture); for
    packing m, column block i of the (100,000, 2m) array is that set re-drawn with
    replacement (`ids = np.random.randint(0, num_examples, ...)`, one draw per block),
    so the m points a D input packs are independent draws of the mixture.
  - batches of 100 (`batch_size`) from a fresh shuffle each epoch (ShuffledScheme):
    1,000 iterations an epoch; `num_epoch` 400.
Networks (2DGrid_GAN&PacGAN/pacgan_task.py, create_model_brick)
  - G: z (2-d, N(0, I): `num_zdim` 2, `num_zmode` 1, `z_mode_r` 0, `z_mode_std` 1;
    distributions.circle_gaussian_mixture) -> 4 x [Linear 400 without bias,
    BatchNormalization, ReLU] -> Linear 2 with bias (`use_bias=False`, then
    `decoder.linear_transformations[-1].use_bias = True`).
  - D: 3 x LinearMaxout (200 units, 5 pieces) -> Linear 1; input 2m (`num_xdim *
    num_packing`). No dropout (`_create_model(with_dropout=False)` for both models).
  - every weight N(0, 0.02^2) (`weights_init_std` 0.02), every bias 0; the BN scale 1
    and shift 0 (Blocks' BatchNormalization defaults), epsilon 1e-4 (Blocks' default).
  - each of G's m calls (one per packed slot, `for i in range(num_packing)` in
    create_models) normalises with its own batch's statistics; the population
    statistics used for sampling are the mean and standard deviation averaged over
    the m calls (the "merge same variables" block) and moved 5% a step toward them
    (`m * 0.05 + p * 0.95`).
Training (pacgan/bricks.py compute_losses; ALI's ali/algorithms.py)
  - D loss softplus(-D(x)) + softplus(D(G(z))), G loss softplus(D(x)) +
    softplus(-D(G(z))) (the non-saturating one), means over the batch.
  - ali_algorithm: both gradients taken at the same point and applied together (a
    simultaneous update), each parameter with its own Adam(1e-4, beta1 0.8; beta2
    0.999, epsilon 1e-8 from Blocks' defaults) (`learning_rate`, `beta1`).
Measures (pacgan/extensions.py MetricLogger, after every epoch)
  - 2,500 samples (`num_log_figure_sample`) from one fixed z (GraphLogger), G in
    inference mode (population statistics: the decoder is applied outside the
    batch_normalization context).
  - a sample belongs to the mode at the smallest standardised distance
    sqrt(sum((x - mu)^2 / var)) if that is below 3 (`dis_thre`); modes = modes with
    at least one such sample; high quality = their share of all samples.
  - reverse KL: KL(P_G || P_data) over modes, P_G the modes' shares of the high-
    quality samples, P_data uniform = log K - entropy (MetricLogger's "entropy of
    coverage", scipy.stats.entropy of the same counts). This is our reading: the
    code logs the entropy and the JSD, the paper's table the reverse KL.
  - Table 1 reports the mean and the *standard error* over 10 trials (its caption);
    we report both the sample standard deviation and the standard error.

Not followed: Blocks' monitoring pass over 5,000 training points each epoch also
moved the BN population statistics 50 more steps with the same G (negligible next
to the 1,000 training steps). Trials differ in their seed (the paper: a random
Blocks and Fuel seed per trial, `blocks_random`, `fuel_random`).

Remedies on the same protocol (not in the paper's Table 1, which has GAN, ALI and
PacGAN2-4): minibatch discrimination (Salimans et al. 2016) and the unrolled GAN
(Metz et al. 2017), see `Method`; the minibatch features are models/improved.py's,
which the GAN families' minibatch layer computes too.

Every trial of a method trains at once: the weights carry a leading trial axis and
every layer is a batched matmul, so one XLA-compiled call runs an epoch of all
trials (a speed choice only; the trials share nothing but the call).
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import tensorflow as tf

from gan_tf.data import mixtures
from gan_tf.evaluation.modes import mixture_modes
from gan_tf.models.improved import minibatch_distances, minibatch_features
from gan_tf.models.packing import pack

Z_DIM, G_HIDDEN, G_LAYERS = 2, 400, 4
D_HIDDEN, D_PIECES, D_LAYERS = 200, 5, 3
INIT_STD, BN_EPS, BN_MOVE = 0.02, 1e-4, 0.05
LR, BETA1, BETA2, ADAM_EPS = 1e-4, 0.8, 0.999, 1e-8
BATCH, NUM_SAMPLE, EPOCHS, EVAL_SAMPLES = 100, 100_000, 400, 2500

# Table 1 of the paper (10 trials, mean ± standard error): modes, high quality (%),
# reverse KL. GAN is its "GAN [15]" row (its own runs of the protocol above).
PAPER = {
    "ring/gan": (6.3, 0.5, 98.2, 0.2, 0.45, 0.09),
    "ring/pacgan2": (7.9, 0.1, 95.6, 2.0, 0.07, 0.03),
    "ring/pacgan3": (7.8, 0.1, 97.7, 0.3, 0.10, 0.02),
    "ring/pacgan4": (7.8, 0.1, 95.9, 1.4, 0.07, 0.02),
    "grid/gan": (17.3, 0.8, 94.8, 0.7, 0.70, 0.07),
    "grid/pacgan2": (23.8, 0.7, 91.3, 0.8, 0.13, 0.04),
    "grid/pacgan3": (24.6, 0.4, 94.2, 0.4, 0.06, 0.02),
    "grid/pacgan4": (24.8, 0.2, 93.6, 0.6, 0.04, 0.01),
}


@dataclasses.dataclass(frozen=True)
class Method:
    """pack: D judges `pack` samples at once (PacGAN). minibatch: Salimans et al.'s
    minibatch discrimination with this many kernels (0: off) of `mb_dims` each,
    between D's last maxout layer and its output. unroll: G's loss is taken against
    D after this many look-ahead Adam steps, differentiated through them (Metz et
    al.); D itself still takes one step."""
    pack: int = 1
    minibatch: int = 0
    mb_dims: int = 5
    unroll: int = 0

    @property
    def name(self) -> str:
        if self.minibatch:
            return "minibatch"
        if self.unroll:
            return f"unrolled{self.unroll}"
        return "gan" if self.pack == 1 else f"pacgan{self.pack}"


METHODS = {m.name: m for m in (Method(), Method(pack=2), Method(pack=3), Method(pack=4),
                               Method(minibatch=100), Method(unroll=5))}


class Trials:
    """`len(seeds)` independent trials of one method on one mixture, trained together."""

    def __init__(self, mixture: str, method: Method, seeds, num_sample: int = NUM_SAMPLE,
                 lr: float = LR):
        """lr: Adam's step size (the paper's 1e-4; tests take larger steps to learn in
        seconds)."""
        self.centres, self.std = mixtures.MIXTURES[mixture]
        self.method, self.seeds = method, tuple(seeds)
        T, m = len(self.seeds), method.pack
        self.T, self.num_sample, self.lr = T, num_sample, lr
        if num_sample % BATCH:
            raise ValueError(f"num_sample {num_sample} must be a multiple of {BATCH}")
        data, g, d = [], [], []
        for seed in self.seeds:
            rng = np.random.default_rng([seed, 2018])
            k = rng.integers(0, len(self.centres), num_sample)
            points = self.centres[k] + self.std * rng.normal(size=(num_sample, 2))
            data.append(np.concatenate(
                [points[rng.integers(0, num_sample, num_sample)] for _ in range(m)], 1))
            g.append(rng.normal(0.0, INIT_STD, size=self._g_size()))
            d.append(rng.normal(0.0, INIT_STD, size=self._d_size()))
        self.data = tf.constant(np.stack(data), tf.float32)            # (T, N, 2m)
        self.G = self._g_variables(np.stack(g))
        self.D = self._d_variables(np.stack(d))
        if method.minibatch:
            self._init_minibatch()
        self.pop = [tf.Variable(tf.zeros([T, G_HIDDEN])) for _ in range(G_LAYERS)] + \
                   [tf.Variable(tf.ones([T, G_HIDDEN])) for _ in range(G_LAYERS)]
        params = self.G + self.D
        self.adam_m = [tf.Variable(tf.zeros_like(p)) for p in params]
        self.adam_v = [tf.Variable(tf.zeros_like(p)) for p in params]
        self.step = tf.Variable(0, dtype=tf.int64)
        self.epoch = 0
        rng = np.random.default_rng([2333, 2018])   # one fixed z for every measure
        self.eval_z = tf.constant(rng.normal(size=(EVAL_SAMPLES, Z_DIM)), tf.float32)
        self._epoch_fn = tf.function(self._run_epoch, jit_compile=True)

    # ---- parameters: flat N(0, 0.02) draws cut into the layers' shapes ----
    def _g_shapes(self):
        dims = [Z_DIM] + [G_HIDDEN] * G_LAYERS
        return [(a, b) for a, b in zip(dims[:-1], dims[1:])] + [(G_HIDDEN, 2)]

    def _d_shapes(self):
        m, out = self.method.pack, D_HIDDEN * D_PIECES
        shapes = [(2 * m, out), (D_HIDDEN, out), (D_HIDDEN, out)]
        head = D_HIDDEN + self.method.minibatch
        if self.method.minibatch:
            shapes.append((D_HIDDEN, self.method.minibatch * self.method.mb_dims))
        return shapes + [(head, 1)]

    def _g_size(self):
        return sum(a * b for a, b in self._g_shapes())

    def _d_size(self):
        return sum(a * b for a, b in self._d_shapes())

    def _cut(self, flat, shapes):
        out, at = [], 0
        for a, b in shapes:
            out.append(tf.Variable(tf.constant(flat[:, at:at + a * b].reshape(-1, a, b),
                                               tf.float32)))
            at += a * b
        return out

    def _g_variables(self, flat):
        ws = self._cut(flat, self._g_shapes())
        T = self.T
        scale = [tf.Variable(tf.ones([T, G_HIDDEN])) for _ in range(G_LAYERS)]
        shift = [tf.Variable(tf.zeros([T, G_HIDDEN])) for _ in range(G_LAYERS)]
        return ws + scale + shift + [tf.Variable(tf.zeros([T, 1, 2]))]

    def _d_variables(self, flat):
        ws = self._cut(flat, self._d_shapes())
        biases = [tf.Variable(tf.zeros([self.T, 1, D_HIDDEN * D_PIECES]))
                  for _ in range(D_LAYERS)] + [tf.Variable(tf.zeros([self.T, 1, 1]))]
        if self.method.minibatch:
            biases.append(tf.Variable(tf.zeros([self.T, 1, self.method.minibatch])))
        return ws + biases

    def _init_minibatch(self):
        """Salimans et al.'s data-dependent init of the minibatch layer, on a batch of
        real points: each kernel's weights divided by half its mean nearest-row L1
        distance, and its bias set so the feature averages 0 over the batch."""
        h = self._features(self.D, self.data[:, :BATCH])
        w, b, dims = self.D[D_LAYERS], self.D[-1], self.method.mb_dims
        l1 = minibatch_distances(h, w, dims)
        scale = 0.5 * tf.reduce_mean(tf.reduce_min(l1, 2), 1)           # (T, kernels)
        w.assign(w / tf.repeat(scale, dims, axis=1)[:, None, :])
        f = minibatch_features(h, w, tf.zeros_like(b), dims)
        b.assign(-tf.reduce_mean(f, 1, keepdims=True))

    # ---- the networks, as functions of their parameter lists ----
    @staticmethod
    def generate(G, z, pop=None):
        """z (T, S, B, 2) -> (x (T, S, B, 2), batch means, batch stdevs). With `pop`
        (population means then stdevs), inference mode."""
        ws, scale, shift, bias = G[:G_LAYERS + 1], G[G_LAYERS + 1:2 * G_LAYERS + 1], \
            G[2 * G_LAYERS + 1:3 * G_LAYERS + 1], G[-1]
        h, means, stdevs = z, [], []
        for i in range(G_LAYERS):
            h = tf.einsum("tsbi,tio->tsbo", h, ws[i])
            if pop is None:
                mean, var = tf.nn.moments(h, axes=[2], keepdims=True)
                stdev = tf.sqrt(var + BN_EPS)
                means.append(tf.reduce_mean(mean, axis=[1, 2]))
                stdevs.append(tf.reduce_mean(stdev, axis=[1, 2]))
            else:
                mean = pop[i][:, None, None]
                stdev = pop[G_LAYERS + i][:, None, None]
            h = (h - mean) / stdev * scale[i][:, None, None] + shift[i][:, None, None]
            h = tf.nn.relu(h)
        x = tf.einsum("tsbi,tio->tsbo", h, ws[-1]) + bias[:, None]
        return x, means, stdevs

    def _features(self, D, x):
        """D's last maxout layer: x (T, R, 2m) -> (T, R, 200)."""
        h = x
        for i in range(D_LAYERS):
            h = tf.matmul(h, D[i]) + D[len(self._d_shapes()) + i]
            h = tf.reduce_max(tf.reshape(h, tf.concat([tf.shape(h)[:2],
                                                       [D_HIDDEN, D_PIECES]], 0)), -1)
        return h

    def discriminate(self, D, x, real_rows: int):
        """x (T, R, 2m) -> logits (T, R). Minibatch features are taken within the
        real rows and within the fake rows apart (Salimans et al.'s code feeds D one
        batch of each)."""
        n_w = len(self._d_shapes())
        h = self._features(D, x)
        if self.method.minibatch:
            w, b, dims = D[D_LAYERS], D[-1], self.method.mb_dims
            h = tf.concat([h, tf.concat([minibatch_features(h[:, :real_rows], w, b, dims),
                                         minibatch_features(h[:, real_rows:], w, b, dims)],
                                        1)], -1)
        return (tf.matmul(h, D[n_w - 1]) + D[n_w + D_LAYERS])[..., 0]

    def packed_fake(self, G, z):
        """z (T, m, B, 2) -> (G's samples packed (T, B, 2m), batch means, stdevs)."""
        fake, means, stdevs = self.generate(G, z)
        return pack(fake, slot_axis=1), means, stdevs

    def judge(self, D, real, fake):
        """real and packed fake (T, B, 2m) -> (d_loss, g_loss), each (T,)."""
        logits = self.discriminate(D, tf.concat([real, fake], 1), BATCH)
        d_real, d_fake = logits[:, :BATCH], logits[:, BATCH:]
        d_loss = tf.reduce_mean(tf.nn.softplus(-d_real) + tf.nn.softplus(d_fake), 1)
        g_loss = tf.reduce_mean(tf.nn.softplus(d_real) + tf.nn.softplus(-d_fake), 1)
        return d_loss, g_loss

    def losses(self, G, D, real, z):
        """real (T, B, 2m), z (T, m, B, 2) -> (d_loss, g_loss) (T,), batch stats."""
        fake, means, stdevs = self.packed_fake(G, z)
        return (*self.judge(D, real, fake), means, stdevs)

    # ---- training ----
    def _per_trial(self, stream, counter, draw):
        """draw(key) for each trial with its own key (seed, stream, counter): a trial
        draws the same numbers whichever trials it trains beside."""
        return tf.stack([draw(tf.random.experimental.stateless_fold_in(
            tf.constant([s, stream], tf.int64), counter)) for s in self.seeds])

    def _z(self, counter):
        return self._per_trial(2, counter, lambda k: tf.random.stateless_normal(
            [self.method.pack, BATCH, Z_DIM], k))

    def lookahead(self, G, real, z, steps: int, fake=None):
        """D's parameters after `steps` look-ahead Adam steps on this batch from its
        current state (weights, moments, step count), each step a differentiable
        function of G: Metz et al.'s unrolled D. Nothing is assigned. `fake`: G's packed
        samples of z, when the caller has them (G does not change during the look-ahead,
        so its samples are drawn once: generating them again at each of the steps cost
        as much as the look-ahead's D, for the same numbers)."""
        if fake is None:
            fake = self.packed_fake(G, z)[0]
        D = [tf.convert_to_tensor(p) for p in self.D]
        n_g = len(self.G)
        m = [tf.convert_to_tensor(x) for x in self.adam_m[n_g:]]
        v = [tf.convert_to_tensor(x) for x in self.adam_v[n_g:]]
        for k in range(steps):
            with tf.GradientTape() as inner:
                inner.watch(D)
                d_loss = tf.reduce_sum(self.judge(D, real, fake)[0])
            grads = inner.gradient(d_loss, D)
            D, m, v = adam_update(D, grads, m, v, tf.cast(self.step + 1 + k, tf.float32),
                                  self.lr)
        return D

    def train_step(self, real, z):
        params = self.G + self.D
        with tf.GradientTape(persistent=True) as tape:
            fake, means, stdevs = self.packed_fake(self.G, z)
            d_loss, g_loss = self.judge(self.D, real, fake)
            if self.method.unroll:
                # G's loss against the unrolled D, on the same batch and samples.
                unrolled = self.lookahead(self.G, real, z, self.method.unroll, fake)
                g_loss = self.judge(unrolled, real, fake)[1]
            # Summed over trials: each trial's parameters get their own loss's gradient.
            d_sum, g_sum = tf.reduce_sum(d_loss), tf.reduce_sum(g_loss)
        grads = tape.gradient(g_sum, self.G) + tape.gradient(d_sum, self.D)
        del tape
        t = tf.cast(self.step + 1, tf.float32)
        new, m, v = adam_update([tf.convert_to_tensor(p) for p in params], grads,
                                [tf.convert_to_tensor(x) for x in self.adam_m],
                                [tf.convert_to_tensor(x) for x in self.adam_v], t, self.lr)
        for var, val in zip(params, new):
            var.assign(val)
        for var, val in zip(self.adam_m, m):
            var.assign(val)
        for var, val in zip(self.adam_v, v):
            var.assign(val)
        for i in range(G_LAYERS):
            self.pop[i].assign(BN_MOVE * means[i] + (1 - BN_MOVE) * self.pop[i])
            self.pop[G_LAYERS + i].assign(
                BN_MOVE * stdevs[i] + (1 - BN_MOVE) * self.pop[G_LAYERS + i])
        self.step.assign_add(1)
        return d_loss, g_loss

    def _run_epoch(self, epoch):
        order = self._per_trial(1, epoch, lambda k: tf.argsort(
            tf.random.stateless_uniform([self.num_sample], k)))
        d_sum = g_sum = tf.zeros([self.T])
        steps = self.num_sample // BATCH
        for i in tf.range(steps):
            idx = tf.slice(order, [0, i * BATCH], [self.T, BATCH])
            real = tf.gather(self.data, idx, batch_dims=1)
            d, g = self.train_step(real, self._z(epoch * steps + tf.cast(i, tf.int64)))
            d_sum += d
            g_sum += g
        return d_sum / tf.cast(steps, tf.float32), g_sum / tf.cast(steps, tf.float32)

    def train_epoch(self):
        d, g = self._epoch_fn(tf.constant(self.epoch, tf.int64))
        self.epoch += 1
        return d.numpy(), g.numpy()

    def samples(self) -> np.ndarray:
        """(T, 2500, 2): each trial's G in inference mode on the one fixed z."""
        z = tf.tile(self.eval_z[None, None], [self.T, 1, 1, 1])
        return self.generate(self.G, z, self.pop)[0][:, 0].numpy()

    def measures(self) -> list[dict]:
        return [mixture_modes(s, self.centres, self.std) for s in self.samples()]


def adam_update(params, grads, m, v, t, lr=LR, beta1=BETA1, eps=ADAM_EPS):
    """One Adam step (Kingma and Ba's, as Blocks', TF1's and Keras' Adam write it):
    lr_t = lr sqrt(1 - b2^t) / (1 - b1^t), p -= lr_t m / (sqrt(v) + eps)."""
    lr_t = lr * tf.sqrt(1 - BETA2 ** t) / (1 - beta1 ** t)
    m = [beta1 * a + (1 - beta1) * g for a, g in zip(m, grads)]
    v = [BETA2 * a + (1 - BETA2) * g * g for a, g in zip(v, grads)]
    return [p - lr_t * a / (sqrt0(b) + eps) for p, a, b in zip(params, m, v)], m, v


def sqrt0(v):
    """sqrt(v), with gradient 0 where v is 0. The unrolled GAN differentiates through
    D's Adam steps, and a maxout D gives many weights an exactly zero gradient (the
    pieces no row picks), so their v is 0 at the first step. sqrt's gradient there is
    0.5 / sqrt(0) = inf, and XLA's compiled gradient multiplies it by the incoming 0:
    NaN, which reached every one of G's weights at the first iteration (measured: the
    unrolled rows of the table trained on NaN from step 1, and their samples left the
    plot). The forward value is sqrt(v) exactly; the inner where keeps the unused
    branch's gradient finite."""
    pos = v > 0
    return tf.where(pos, tf.sqrt(tf.where(pos, v, tf.ones_like(v))), tf.zeros_like(v))


def summary(values) -> tuple[float, float, float]:
    """mean, sample std (ddof 1) and standard error of a list."""
    a = np.asarray(values, float)
    a = a[np.isfinite(a)]
    if len(a) < 2:
        return (float(a.mean()) if len(a) else math.nan, 0.0, 0.0)
    sd = float(a.std(ddof=1))
    return float(a.mean()), sd, sd / math.sqrt(len(a))
