"""CycleGAN's step (families/cyclegan.py) inside the GAN's compiled loop.

Domain A is the first half of the run's training digits, drawn in the GAN's order
(TF1 next_batch over that half); domain B is the second half, each drawn uniformly
at random (stream STREAM_DOMAIN_B at the iteration) and mapped by models/cycle.to_b.
One iteration, in the order of the authors' code (junyanz/pytorch-CycleGAN-and-pix2pix,
cycle_gan_model.py optimize_parameters): one Adam step of G and F together on the
adversarial and cycle terms with D_A and D_B held, then one Adam step of D_A and
D_B together on the fakes that step made (taken before G's update, not re-drawn).
The paper's history of 50 generated images that D also sees is not kept: D sees
the current fakes only. Every random number is the streams', so a resumed run is
the uninterrupted one bit for bit.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.models import cycle
from gan_tf.training.loop import Trainer
from gan_tf.training.streams import STREAM_DOMAIN_B, sample_indices

VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "g_adversarial", "cycle", "g_grad_norm")
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

    def describe(self, values: dict) -> str:
        return (f"cycle L1: {values['cycle']:.4}  G adversarial: {values['g_adversarial']:.4}"
                f"  D loss: {values['d_loss']:.4}")

    def batch_b(self, t):
        """Domain B's minibatch of iteration t, in [-1, 1]."""
        idx = sample_indices(self.cfg.seed, STREAM_DOMAIN_B, t, self.cfg.batch_size, self.n_b)
        return cycle.to_b(tf.cast(tf.gather(self.images_b, idx), tf.float32) / 127.5 - 1.0)

    def step(self, t):
        w = self.cfg.params.cycle_weight
        a, _ = self.batch(t)
        b = self.batch_b(t)
        with tf.GradientTape() as tape:
            fake_b, fake_a = self.G(a, training=True), self.F(b, training=True)
            adversarial = (self.g_loss_fn(self.D(fake_b, training=True))
                           + self.g_loss_fn(self.D_a(fake_a, training=True)))
            cyc = (cycle.cycle_loss(a, self.F(fake_b, training=True))
                   + cycle.cycle_loss(b, self.G(fake_a, training=True)))
            g_loss = adversarial + w * cyc
        grads = tape.gradient(g_loss, self._g_vars)
        self.g_opt.apply(grads, self._g_vars)
        with tf.GradientTape() as tape:
            real_b, fake_b_scores = self.D(b, training=True), self.D(fake_b, training=True)
            d_loss = (self.d_loss_fn(real_b, fake_b_scores)
                      + self.d_loss_fn(self.D_a(a, training=True),
                                       self.D_a(fake_a, training=True)))
        self.d_opt.apply(tape.gradient(d_loss, self._d_vars), self._d_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(real_b),
                "d_fake": tf.reduce_mean(fake_b_scores), "g_loss": g_loss,
                "g_adversarial": adversarial, "cycle": cyc,
                "g_grad_norm": tf.linalg.global_norm(grads)}

    def frame_images(self, frame: int):
        """A frame's 16 tiles in [0, 1]: per row a digit of A, G's translation, a digit
        of B, F's translation."""
        k = FRAME_PAIRS
        a = tf.cast(self.images[:k], tf.float32) / 127.5 - 1.0
        b = cycle.to_b(tf.cast(self.images_b[:k], tf.float32) / 127.5 - 1.0)
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
        return named

    def legacy_state(self) -> dict:
        return self.state()   # CycleGAN checkpoints were always by name
