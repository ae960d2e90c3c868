"""SRGAN's step (families/srgan.py) inside the GAN's compiled loop.

Iteration t takes minibatch t (the GAN's order, TF1 next_batch) as the
high-resolution digits I_HR and their bicubic reductions as I_LR. Before
`pretrain_iters`, or always with adv_weight 0 (SRResNet), it is one Adam step of G
on the pixel MSE. After, it is a D step (cross-entropy on I_HR against G(I_LR)),
then a G step on MSE + adv_weight * l_Gen through the just-updated D, on the same
minibatch, as the GAN loop's alternating steps. Nothing here is random but the
data order, so a resumed run is the uninterrupted one bit for bit.
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.models.super_resolution import content_loss, downsample, upsample_nearest
from gan_tf.training.loop import Trainer

VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "content", "g_adversarial", "g_grad_norm")
# The fixed training digits the frames upscale (the first of the training set).
FRAME_DIGITS = 8


class SrganTrainer(Trainer):
    """The GAN Trainer's data, chunked loop and checkpoints around SRGAN's step."""
    VALUES = VALUES
    LOSSES = ("d_loss", "g_loss")

    def describe(self, values: dict) -> str:
        line = f"MSE: {values['content']:.4}"
        if self.cfg.params.adv_weight > 0:
            line += (f"  adversarial: {values['g_adversarial']:.4}  D loss: "
                     f"{values['d_loss']:.4} (0 while D waits)")
        return line

    def step(self, t):
        p = self.cfg.params
        x, _ = self.batch(t)
        lr = downsample(x)
        if p.adv_weight == 0:
            return self.pixel_step(x, lr)
        if p.pretrain_iters == 0:
            return self.adversarial_step(x, lr)
        return tf.cond(t < p.pretrain_iters, lambda: self.pixel_step(x, lr),
                       lambda: self.adversarial_step(x, lr))

    def pixel_step(self, hr, lr):
        """One step of G on the pixel MSE alone (SRResNet); D's values are 0."""
        with tf.GradientTape() as tape:
            mse = content_loss(self.G(lr, training=True), hr)
        g_vars = self.G.trainable_variables
        grads = tape.gradient(mse, g_vars)
        self.g_opt.apply(grads, g_vars)
        zero = tf.zeros([])
        return {"d_loss": zero, "d_real": zero, "d_fake": zero, "g_loss": mse,
                "content": mse, "g_adversarial": zero,
                "g_grad_norm": tf.linalg.global_norm(grads)}

    def adversarial_step(self, hr, lr):
        """A D step on (I_HR, G(I_LR)), then G's on MSE + adv_weight * l_Gen."""
        w = self.cfg.params.adv_weight
        fake = self.G(lr, training=True)
        with tf.GradientTape() as tape:
            real_logits = self.D(hr, training=True)
            fake_logits = self.D(fake, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
        d_vars = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        with tf.GradientTape() as tape:
            sr = self.G(lr, training=True)
            mse = content_loss(sr, hr)
            adversarial = self.g_loss_fn(self.D(sr, training=True))
            g_loss = mse + w * adversarial
        g_vars = self.G.trainable_variables
        grads = tape.gradient(g_loss, g_vars)
        self.g_opt.apply(grads, g_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)), "g_loss": g_loss,
                "content": mse, "g_adversarial": adversarial,
                "g_grad_norm": tf.linalg.global_norm(grads)}

    def frame_images(self, frame: int):
        """A frame's 16 tiles in [0, 1]: FRAME_DIGITS fixed training digits, each as
        its 7x7 input (4x4 blocks) beside G's 28x28 output."""
        hr = tf.cast(self.images[:FRAME_DIGITS], tf.float32) / 127.5 - 1.0
        lr = downsample(hr)
        sr = self.G(lr, training=False)
        tiles = tf.stack([upsample_nearest(lr), tf.cast(sr, tf.float32)], axis=1)
        return ((tf.reshape(tiles, [-1, hr.shape[1]]) + 1.0) / 2.0).numpy()
