"""CycleGAN's step (families/cyclegan.py) inside the GAN's compiled loop.

Domain A is the first half of the run's training digits, drawn in the GAN's order
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

import keras
import numpy as np
import tensorflow as tf

from gan_tf.models import cycle
from gan_tf.training.loop import Trainer
from gan_tf.models.networks import IMAGE_DIM
from gan_tf.training.streams import (STREAM_DOMAIN_B, STREAM_POOL_A, STREAM_POOL_B,
                                     pool_draws, sample_indices)

VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "g_adversarial", "cycle", "identity",
          "lr", "g_grad_norm")
FRAME_PAIRS = 4   # the frames: the first 4 digits of A and of B, each beside its translation


class CycleTrainer(Trainer):
    """The GAN Trainer's data, chunked loop and checkpoints around CycleGAN's step."""
    VALUES = VALUES
    LOSSES = ("d_loss", "g_loss")

    def __init__(self, G, F, D, D_a, g_opt, d_opt, loss_fns, cfg, train_images):
        self.G, self.F, self.D, self.D_a = G, F, D, D_a
        self.g_opt, self.d_opt = g_opt, d_opt
        self.d_loss_fn, self.g_loss_fn = loss_fns
        self.strategy, self.replicas = None, 1
        half = len(train_images) // 2
        self._init_data(cfg, train_images[:half], None)
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
                  keras.Variable(0, dtype="int32", trainable=False, name=f"pool_{key}_filled"))
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
        lr = cycle.decayed_lr(self.cfg.lr, t, p.decay_start, p.decay_iters)
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
        a = tf.cast(self.images[:k], tf.float32) / 127.5 - 1.0
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
            named.update({f"{key}/{v.path.split('/', 1)[-1]}": v for v in opt.variables})
        for key, (pool, filled) in (self.pools or {}).items():
            named.update({f"pool_{key}/images": pool, f"pool_{key}/filled": filled})
        return named

    def legacy_state(self) -> dict:
        return self.state()   # CycleGAN checkpoints were always by name
