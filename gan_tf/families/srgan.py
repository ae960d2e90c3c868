"""SRGAN (Ledig et al. 2017) at MNIST size: 4x super-resolution of 7x7 digits.

G (SRResNet) maps a 7x7 image, the bicubic reduction of a training digit, to 28x28;
D tells G's 28x28 images from the training digits. G minimises the perceptual loss
of the paper's Eq. 3,
    l_SR = content + adv_weight * l_Gen,   l_Gen = -log D(G(I_LR))   (Eq. 6)
with the pixel-wise MSE as the content (Eq. 4: the paper's SRGAN-MSE; its VGG
feature losses need an ImageNet network that MNIST has no counterpart of that is
not also the classifier this project measures with) and adv_weight 1e-3 (the
paper's 10^-3). D minimises the standard cross-entropy (Eq. 2). With adv_weight 0
it is the paper's SRResNet: the MSE-only network of the same size, and D is never
trained. The paper initialises SRGAN from a trained SRResNet ("to avoid undesired
local optima", section 3.2): `pretrain_iters` MSE-only iterations come first.

The networks and terms are models/super_resolution.py's; the step is here
(`SrganSteps`); the measures (PSNR, SSIM, the classifier's accuracy on upscaled test
digits, the blur measure, against bicubic) are evaluation/super_resolution.py's.

The step. Iteration t takes minibatch t (the GAN's order, TF1 next_batch) as the
high-resolution digits I_HR and their bicubic reductions as I_LR. Before
`pretrain_iters`, or always with adv_weight 0 (SRResNet), it is one Adam step of G
on the pixel MSE. After, it is a D step (cross-entropy on I_HR against G(I_LR)),
then a G step on MSE + adv_weight * l_Gen through the just-updated D, on the same
minibatch, as the GAN's alternating steps. Nothing here is random but the data
order, so a resumed run is the uninterrupted one bit for bit.
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.params import (OptimizerParams, SigmoidLossParams, count_problems, param,
                                register_params, run_option_problems, shared)
from gan_tf.families.adversarial import model_state, optimizer_state
from gan_tf.families.base import OWN_STEP_RUN_OPTIONS, Family, Steps
from gan_tf.families.mlp import get_losses
from gan_tf.models import super_resolution
from gan_tf.models.optimizers import make_optimizer
from gan_tf.models.super_resolution import content_loss, downsample, upsample_nearest

MAX_WIDTH, MAX_BLOCKS, MAX_ADV_WEIGHT = 512, 32, 100.0


@register_params
@dataclass(frozen=True)
class Params(SigmoidLossParams, OptimizerParams):
    FAMILY = "srgan"
    g_output = "tanh"     # G's images, and the data, in [-1, 1]
    init: str = shared("init", "glorot_normal")
    width: int = param(32, "channels of SRResNet's trunk (the paper's 64)")
    blocks: int = param(4, "residual blocks of SRResNet (the paper's 16)")
    d_width: int = param(32, "channels of SRGAN D's first convolutions (the paper's 64); "
                             "2x in the later ones, 16x in its dense layer")
    adv_weight: float = param(1e-3, "weight of G's adversarial loss beside the pixel MSE "
                                    "(the paper's 1e-3); 0: SRResNet, MSE only")
    pretrain_iters: int = param(0, "MSE-only iterations before the adversarial ones "
                                   "(the paper starts SRGAN from a trained SRResNet)")

    def problems(self, cfg) -> list:
        out = (count_problems("width", self.width, 1, MAX_WIDTH)
               + count_problems("blocks", self.blocks, 0, MAX_BLOCKS)
               + count_problems("d_width", self.d_width, 1, MAX_WIDTH)
               + count_problems("pretrain_iters", self.pretrain_iters, 0, 10**9))
        v = self.adv_weight
        if not (type(v) is float and 0.0 <= v <= MAX_ADV_WEIGHT):
            out.append(f"adv_weight must be a number in [0, {MAX_ADV_WEIGHT:g}], got {v}")
        if self.init not in ("glorot_normal", "dcgan_normal"):
            out.append(f"family 'srgan' builds convolutions; init {self.init!r} is an MLP's: "
                       f"add --init glorot_normal (or dcgan_normal)")
        return out + run_option_problems(cfg, "srgan", {**OWN_STEP_RUN_OPTIONS,
                                                        "fresh_sample_noise": False},
                                         "its G upscales 7x7 digits, on one device")


VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "content", "g_adversarial", "g_grad_norm")
# The fixed training digits the frames upscale (the first of the training set).
FRAME_DIGITS = 8


class SrganSteps(Steps):
    """G (SRResNet), D, their optimizers and SRGAN's step."""
    VALUES = VALUES

    def __init__(self, G, D, g_opt, d_opt, loss_fns, cfg, train_images):
        super().__init__(cfg, train_images)
        self.G, self.D, self.g_opt, self.d_opt = G, D, g_opt, d_opt
        self.d_loss_fn, self.g_loss_fn = loss_fns
        d_opt.build(D.trainable_variables)
        g_opt.build(G.trainable_variables)

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
        hr = tf.cast(self.data.images[:FRAME_DIGITS], tf.float32) / 127.5 - 1.0
        lr = downsample(hr)
        sr = self.G(lr, training=False)
        tiles = tf.stack([upsample_nearest(lr), tf.cast(sr, tf.float32)], axis=1)
        return ((tf.reshape(tiles, [-1, hr.shape[1]]) + 1.0) / 2.0).numpy()

    def state(self) -> dict:
        return {**model_state("G", self.G), **model_state("D", self.D),
                **optimizer_state("g_opt", self.g_opt), **optimizer_state("d_opt", self.d_opt)}


class Srgan(Family):
    name, Params = "srgan", Params
    measures = "super_resolution"
    convolutional = True

    def generator(self, cfg, seeds):
        return super_resolution.generator(cfg, seeds, cfg.params.width, cfg.params.blocks)

    def discriminator(self, cfg, seeds):
        return super_resolution.discriminator(cfg, seeds, cfg.params.d_width)

    def generator_input_dim(self, cfg) -> int:
        return super_resolution.LR_DIM

    def build(self, cfg, train_images, train_labels=None, strategy=None):
        G, D = self.build_generator(cfg), self.build_discriminator(cfg)
        return SrganSteps(G, D, make_optimizer(cfg), make_optimizer(cfg, role="discriminator"),
                          get_losses(cfg), cfg, train_images)

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        if p.adv_weight == 0:
            return "SRResNet (pixel MSE only)"
        first = f", after {p.pretrain_iters:,} MSE-only iterations" if p.pretrain_iters else ""
        return f"SRGAN (pixel MSE + {p.adv_weight:g} x adversarial, loss {p.loss!r}{first})"


FAMILY = Srgan()
