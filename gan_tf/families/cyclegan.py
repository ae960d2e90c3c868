"""CycleGAN (Zhu et al. 2017) on an unpaired task whose answer is known: domain A is
MNIST's first half of the training digits, domain B the second half rotated 90
degrees and inverted (models/cycle.to_b). No digit of A is ever shown with its
image in B; the two domains do not even hold the same digits.

Two generators, G: A -> B and F: B -> A, and two PatchGAN discriminators, D_B on B
and D_A on A (models/cycle.py). The paper's full objective (its Eq. 3), in the
least-squares form it trains with (section 4):
    G, F:  (D_B(G(a)) - 1)^2 + (D_A(F(b)) - 1)^2
           + cycle_weight (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)
    D_B:   1/2 ((D_B(b) - 1)^2 + D_B(G(a))^2), D_A likewise
with cycle_weight 10 (the paper's lambda), plus what the authors' code
(junyanz/pytorch-CycleGAN-and-pix2pix) trains every model with: the identity term
identity_weight * cycle_weight * (|G(b) - b|_1 + |F(a) - a|_1) (cycle_gan_model.py
backward_G, lambda_identity 0.5), D updated on a history of pool_size fakes
(image_pool.py, pool_size 50), and the learning rate decaying linearly to 0
(get_scheduler's 'linear' policy: n_epochs constant, n_epochs_decay falling). Its
measures (the translation's error against the true map,
the classifier's accuracy on translated digits mapped back, the cycle's error)
evaluation/translation.py's. generator.keras is G (A -> B), generator-inverse.keras
F (B -> A).

The step (`CycleSteps`). Domain A is the first half of the run's training digits, drawn in the GAN's order
(TF1 next_batch over that half); domain B is the second half, each drawn uniformly
at random (stream STREAM_DOMAIN_B at the iteration) and mapped by models/cycle.to_b.
One iteration, in the order of the authors' code (junyanz/pytorch-CycleGAN-and-pix2pix,
cycle_gan_model.py optimize_parameters): one Adam step of G and F together on the
adversarial, cycle and identity terms with D_A and D_B held, then one Adam step of
D_A and D_B together on the fakes that step made (taken before G's update, not
re-drawn), each passed through its history pool first (backward_D_A:
fake_B_pool.query(self.fake_B)). Both learning rates follow models/cycle.decayed_lr.
Every random number is the streams', and the pools are checkpointed, so a resumed
run is the uninterrupted one bit for bit.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from gan_tf.core.params import (OptimizerParams, count_problems, param, register_params,
                                run_option_problems, shared)
from gan_tf.data.streams import (STREAM_DOMAIN_B, STREAM_POOL_A, STREAM_POOL_B, pool_draws,
                                 sample_indices)
from gan_tf.families.adversarial import optimizer_state
from gan_tf.families.base import OWN_STEP_RUN_OPTIONS, Family, Steps
from gan_tf.models import cycle, networks
from gan_tf.models.networks import IMAGE_DIM
from gan_tf.models.optimizers import make_optimizer

MAX_WIDTH, MAX_BLOCKS, MAX_CYCLE_WEIGHT, MAX_POOL = 256, 16, 1000.0, 10_000
# models/cycle.DOMAIN_MAPS, named here too so that checking a config needs no TensorFlow
DOMAIN_MAPS = ("rotate_invert", "invert", "rotate")


@register_params
@dataclass(frozen=True)
class Params(OptimizerParams):
    FAMILY = "cyclegan"
    g_output = "tanh"     # both domains' images in [-1, 1]
    init: str = shared("init", "dcgan_normal")
    width: int = param(16, "channels of the ResNet generators' first convolution (the "
                           "paper's 64); 2x and 4x after each stride-2 stage")
    blocks: int = param(2, "residual blocks of each generator at 7x7 (the paper's 6 at "
                           "128x128, 9 at 256x256)")
    d_width: int = param(16, "channels of the PatchGAN's first convolution (the paper's "
                             "64)")
    mixing: bool = param(True, "a fully connected layer across the 7x7 positions in each "
                               "generator (off: the paper's all-convolutional G)")
    cycle_weight: float = param(10.0, "weight of the cycle-consistency loss (the paper's "
                                      "lambda 10); 0: none")
    # Added 2026-12-06; a run saved before trained without them (`before`).
    identity_weight: float = param(0.5, "weight of the identity loss |G(b) - b|_1 + "
                                        "|F(a) - a|_1, as a fraction of cycle_weight (the "
                                        "authors' code's lambda_identity 0.5); 0: none",
                                   before=0.0)
    pool_size: int = param(50, "how many earlier fakes each D is also updated with (the "
                               "authors' image pool of 50); 0: the current fakes only",
                           before=0)
    domain_map: str = param("rotate_invert", "domain B is MNIST under this map: "
                                             "'rotate_invert' (90 degrees and inverted), "
                                             "'invert' or 'rotate' alone",
                            before="rotate_invert")
    decay_start: int = param(0, "iteration from which the learning rate falls linearly "
                                "(the authors' n_epochs)", before=0)
    decay_iters: int = param(0, "iterations over which it falls, to lr/(decay_iters+1) at "
                                "the last (the authors' n_epochs_decay); 0: constant lr",
                            before=0)

    def problems(self, cfg) -> list:
        out = (count_problems("width", self.width, 1, MAX_WIDTH)
               + count_problems("blocks", self.blocks, 0, MAX_BLOCKS)
               + count_problems("d_width", self.d_width, 1, MAX_WIDTH))
        v = self.cycle_weight
        if not (type(v) is float and 0.0 <= v <= MAX_CYCLE_WEIGHT):
            out.append(f"cycle_weight must be a number in [0, {MAX_CYCLE_WEIGHT:g}], got {v}")
        if not (type(self.identity_weight) is float
                and 0.0 <= self.identity_weight <= MAX_CYCLE_WEIGHT):
            out.append(f"identity_weight must be a number in [0, {MAX_CYCLE_WEIGHT:g}], "
                       f"got {self.identity_weight}")
        out += (count_problems("pool_size", self.pool_size, 0, MAX_POOL)
                + count_problems("decay_start", self.decay_start, 0, 10**9)
                + count_problems("decay_iters", self.decay_iters, 0, 10**9))
        if (not out and self.decay_iters > 0
                and self.decay_start + self.decay_iters < cfg.iters):
            end = self.decay_start + self.decay_iters
            # Every fix named is one its command accepts: --iters also on --resume,
            # the decay's flags only in a new run (a resumed run keeps its decay, as
            # moving it would change the rate its trained iterations had).
            out.append(f"the learning rate has decayed to lr/{self.decay_iters + 1} at "
                       f"iteration {end:,} (decay_start {self.decay_start:,} + decay_iters "
                       f"{self.decay_iters:,}), before iters {cfg.iters:,}: train to the "
                       f"decay's end (--iters {end}), or start a new run (--resume keeps "
                       f"the decay) with the decay moved (the authors' half constant, "
                       f"half falling: --decay-start {cfg.iters // 2} --decay-iters "
                       f"{cfg.iters - cfg.iters // 2}) or with --decay-iters 0 for a "
                       f"constant rate")
        if self.domain_map not in DOMAIN_MAPS:
            out.append(f"domain_map must be one of {', '.join(DOMAIN_MAPS)}, got "
                       f"{str(self.domain_map)[:40]!r}")
        if type(self.mixing) is not bool:
            out.append(f"mixing must be true or false, got {self.mixing!r}")
        if self.init not in ("glorot_normal", "dcgan_normal"):
            out.append(f"family 'cyclegan' builds convolutions; init {self.init!r} is an "
                       f"MLP's: add --init dcgan_normal (the paper's N(0, 0.02)) or "
                       f"glorot_normal")
        if self.lr_decay != 1.0:
            out.append(f"family 'cyclegan' decays its learning rate its own way "
                       f"(decay_start, decay_iters): drop lr_decay={self.lr_decay!r}")
        return out + run_option_problems(cfg, "cyclegan", {**OWN_STEP_RUN_OPTIONS,
                                                           "fresh_sample_noise": False},
                                         "it translates digits, on one device")


VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "g_adversarial", "cycle", "identity",
          "lr", "g_grad_norm")
FRAME_PAIRS = 4   # the frames: the first 4 digits of A and of B, each beside its translation


class CycleSteps(Steps):
    """G, F, D_B, D_A, the optimizers, the history pools and CycleGAN's step."""
    VALUES = VALUES

    def __init__(self, G, F, D, D_a, g_opt, d_opt, loss_fns, cfg, train_images):
        self.G, self.F, self.D, self.D_a = G, F, D, D_a
        self.g_opt, self.d_opt = g_opt, d_opt
        self.d_loss_fn, self.g_loss_fn = loss_fns
        half = len(train_images) // 2
        super().__init__(cfg, train_images[:half])
        self.images_b = tf.constant(train_images[half:], tf.uint8)
        self.n_b = len(train_images) - half
        self._g_vars = G.trainable_variables + F.trainable_variables
        self._d_vars = D.trainable_variables + D_a.trainable_variables
        g_opt.build(self._g_vars)
        d_opt.build(self._d_vars)
        # The history pools (fakes of B for D_B, of A for D_A) and how full each is:
        # state, checkpointed with the weights. None without a pool, so a run saved
        # before pools existed has the checkpoint it had.
        size = cfg.params.pool_size
        self.pools = None if size == 0 else {
            key: (keras.Variable(np.zeros([size, IMAGE_DIM], np.float32), trainable=False,
                                 name=f"pool_{key}"),
                  # int64: a GPU keeps int32 variables in host memory, out of the
                  # compiled loop's reach; a checkpoint's int32 count is cast on load
                  # (training/run.restore), so older runs resume as they were.
                  keras.Variable(0, dtype="int64", trainable=False, name=f"pool_{key}_filled"))
            for key in ("a", "b")}

    def describe(self, values: dict) -> str:
        return (f"cycle L1: {values['cycle']:.4}  G adversarial: {values['g_adversarial']:.4}"
                f"  D loss: {values['d_loss']:.4}")

    def batch_b(self, t):
        """Domain B's minibatch of iteration t, in [-1, 1]."""
        idx = sample_indices(self.cfg.seed, STREAM_DOMAIN_B, t, self.cfg.batch_size, self.n_b)
        return cycle.to_b(tf.cast(tf.gather(self.images_b, idx), tf.float32) / 127.5 - 1.0,
                          self.cfg.params.domain_map)

    def pooled(self, key: str, stream: int, t, fakes):
        """The fakes D is updated with at iteration t: `fakes` through pool `key`."""
        if self.pools is None:
            return fakes
        pool, filled = self.pools[key]
        u, slots = pool_draws(self.cfg.seed, stream, t, fakes.shape[0], pool.shape[0])
        new_pool, new_filled, shown = cycle.pool_query(pool, filled, fakes, u, slots)
        pool.assign(new_pool)
        filled.assign(new_filled)
        return shown

    def step(self, t):
        p = self.cfg.params
        w, w_id = p.cycle_weight, p.identity_weight * p.cycle_weight
        lr = cycle.decayed_lr(self.cfg.params.lr, t, p.decay_start, p.decay_iters)
        self.g_opt.learning_rate.assign(lr)
        self.d_opt.learning_rate.assign(lr)
        a, _ = self.batch(t)
        b = self.batch_b(t)
        with tf.GradientTape() as tape:
            fake_b, fake_a = self.G(a, training=True), self.F(b, training=True)
            adversarial = (self.g_loss_fn(self.D(fake_b, training=True))
                           + self.g_loss_fn(self.D_a(fake_a, training=True)))
            cyc = (cycle.cycle_loss(a, self.F(fake_b, training=True))
                   + cycle.cycle_loss(b, self.G(fake_a, training=True)))
            g_loss = adversarial + w * cyc
            if w_id:   # G should leave a B image as it is, F an A image
                identity = (cycle.cycle_loss(b, self.G(b, training=True))
                            + cycle.cycle_loss(a, self.F(a, training=True)))
                g_loss += w_id * identity
            else:
                identity = tf.constant(0.0)
        grads = tape.gradient(g_loss, self._g_vars)
        self.g_opt.apply(grads, self._g_vars)
        shown_b = self.pooled("b", STREAM_POOL_B, t, fake_b)
        shown_a = self.pooled("a", STREAM_POOL_A, t, fake_a)
        with tf.GradientTape() as tape:
            real_b, fake_b_scores = self.D(b, training=True), self.D(shown_b, training=True)
            d_loss = (self.d_loss_fn(real_b, fake_b_scores)
                      + self.d_loss_fn(self.D_a(a, training=True),
                                       self.D_a(shown_a, training=True)))
        self.d_opt.apply(tape.gradient(d_loss, self._d_vars), self._d_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(real_b),
                "d_fake": tf.reduce_mean(fake_b_scores), "g_loss": g_loss,
                "g_adversarial": adversarial, "cycle": cyc, "identity": identity,
                "lr": lr, "g_grad_norm": tf.linalg.global_norm(grads)}

    def frame_images(self, frame: int):
        """A frame's 16 tiles in [0, 1]: per row a digit of A, G's translation, a digit
        of B, F's translation."""
        k = FRAME_PAIRS
        a = tf.cast(self.data.images[:k], tf.float32) / 127.5 - 1.0
        b = cycle.to_b(tf.cast(self.images_b[:k], tf.float32) / 127.5 - 1.0,
                       self.cfg.params.domain_map)
        tiles = tf.stack([a, self.G(a, training=False), b, self.F(b, training=False)], 1)
        return ((tf.reshape(tiles, [-1, a.shape[1]]) + 1.0) / 2.0).numpy()

    def extra_generators(self) -> dict:
        return {"generator-inverse.keras": (self.F, {"maps": "B -> A"})}

    def state(self) -> dict:
        named = {}
        for key, model in (("G", self.G), ("F", self.F), ("D", self.D), ("D_a", self.D_a)):
            named.update({f"{key}/{v.path}": v for v in model.weights})
        for key, opt in (("g_opt", self.g_opt), ("d_opt", self.d_opt)):
            named.update(optimizer_state(key, opt))
        for key, (pool, filled) in (self.pools or {}).items():
            named.update({f"pool_{key}/images": pool, f"pool_{key}/filled": filled})
        return named


class CycleGan(Family):
    name, Params = "cyclegan", Params
    measures = "translation"
    convolutional = True

    def generator(self, cfg, seeds, name="generator"):
        p = cfg.params
        return cycle.generator(cfg, seeds, p.width, p.blocks, p.mixing, name)

    def discriminator(self, cfg, seeds, name="discriminator"):
        return cycle.discriminator(cfg, seeds, cfg.params.d_width, name)

    def build_inverse(self, cfg):
        """F: B -> A, G's architecture with weights of its own."""
        with networks.precision(cfg):
            return self.generator(cfg, itertools.count(2 * cfg.seed + 30_000), "inverse")

    def build_discriminator_a(self, cfg):
        """D_A, judging domain A, D_B's architecture with weights of its own."""
        with networks.precision(cfg):
            return self.discriminator(cfg, itertools.count(2 * cfg.seed + 40_000),
                                      "discriminator_a")

    def losses(self, cfg):
        return cycle.d_loss, cycle.g_loss

    def build(self, cfg, train_images, train_labels=None, strategy=None):
        G, F = self.build_generator(cfg), self.build_inverse(cfg)
        D, D_a = self.build_discriminator(cfg), self.build_discriminator_a(cfg)
        return CycleSteps(G, F, D, D_a, make_optimizer(cfg),
                          make_optimizer(cfg, role="discriminator"), self.losses(cfg), cfg,
                          train_images)

    def generator_info(self, cfg) -> dict:
        return {"domain_map": cfg.params.domain_map}

    def generator_input_dim(self, cfg) -> int:
        return IMAGE_DIM

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        extra = "".join([f" + {p.identity_weight * p.cycle_weight:g} x identity L1"
                         if p.identity_weight else "",
                         f"; a pool of {p.pool_size} fakes" if p.pool_size else "",
                         f"; lr falling from iteration {p.decay_start:,}"
                         if p.decay_iters else "",
                         f"; domain B = A under {p.domain_map!r}"
                         if p.domain_map != "rotate_invert" else ""])
        return (f"CycleGAN (least squares + {p.cycle_weight:g} x cycle L1{extra}; "
                f"{'position mixing' if p.mixing else 'all-convolutional'} generators)")


FAMILY = CycleGan()
