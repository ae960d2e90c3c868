"""The TensorFlow tutorial's vanilla GAN, top to bottom: networks, losses, step.

Agustinus Kristiadi's "Generative Adversarial Nets in TensorFlow" trains, on MNIST:
  D(x)  = sigmoid(relu(x D_W1 + D_b1) D_W2 + D_b2)       784 -> 128 -> 1
  G(z)  = sigmoid(relu(z G_W1 + G_b1) G_W2 + G_b2)       100 -> 128 -> 784
with every W drawn by its own `xavier_init`, N(0, 1 / sqrt(in_dim / 2)) untruncated
(models/networks.TutorialXavier), every b zero, and z ~ U(-1, 1). Its losses, on
D's probabilities:
  D_loss = -mean(log D(x) + log(1 - D(G(z))))      G_loss = -mean(log D(G(z)))
or, in its second form, sigmoid_cross_entropy_with_logits of D's logits against 1 for
real and 0 for fake (models/losses.py, `--loss log|xent`). Each iteration: one Adam
step of D on a real minibatch of 128 and a z batch, then one Adam step of G on a
fresh z batch (`TutorialGan.step` below); a 4x4 grid of G's samples every 1,000.

The later tutorials change this file's options, not its code: hidden sizes
(`--d-hidden`, `--g-hidden`: the deeper MLP), G's tanh output, `same_z`, k D steps,
the minimax G loss, and `conditional` (Mirza & Osindero's cGAN: G sees [z, y], D
sees [x, y]). Those run through the shared adversarial step (adversarial.py), of
which the tutorial's step is the k = 1 case. The only family whose seeds train as
one stacked program (training/stack.py).
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.config import MlpParams, param, register_params
from gan_tf.data.streams import STREAM_Z_D, STREAM_Z_G
from gan_tf.families.adversarial import AdversarialFamily, AdversarialGan
from gan_tf.models import networks


@register_params
@dataclass(frozen=True)
class Params(MlpParams):
    FAMILY = "mlp"
    conditional: bool = param(False, "condition G and D on the one-hot label (Mirza & "
                                     "Osindero's cGAN); frames get one row per class")


class MlpNetworks:
    """The tutorials' fully connected networks, a family's choice (mixed in before its
    family class): D 784 -> d_hidden (ReLU) -> 1 logit, G z -> g_hidden (ReLU) -> 784
    with G's output activation (cfg.g_output); with a `conditional` family parameter
    both take the one-hot label beside their input."""

    def discriminator(self, cfg, seeds):
        # D_W1, D_b1: 784 -> 128 (ReLU); D_W2, D_b2: 128 -> 1, D's logit (the losses
        # apply the sigmoid where they need D's probability).
        return networks.mlp("discriminator", cfg, networks.IMAGE_DIM, "x",
                            cfg.params.d_hidden, 1, None, seeds)

    def generator(self, cfg, seeds):
        # G_W1, G_b1: 100 -> 128 (ReLU); G_W2, G_b2: 128 -> 784 (sigmoid).
        return networks.mlp("generator", cfg, cfg.z_dim, "z", cfg.params.g_hidden,
                            networks.IMAGE_DIM, cfg.g_output, seeds)


class TutorialGan(AdversarialGan):
    """The tutorial's iteration, written out; other options take the shared step."""

    def step(self, t):
        if not is_tutorial_step(self.cfg):   # k D steps, same z, a cGAN, an EMA of G,
            return super().step(t)           # several devices: adversarial.py's step
        # --- D: one Adam step on minibatch t of the real images and a z batch.
        # G's output is an input here: no gradient flows into G.
        x, _ = self.batch(t)
        fake = self.G(self.z_batch(STREAM_Z_D, t), training=True)
        with tf.GradientTape() as tape:
            real_logits = self.D(x, training=True)
            fake_logits = self.D(fake, training=True)
            d_loss = self.d_loss_fn(real_logits, fake_logits)
        d_vars = self.D.trainable_variables
        self.d_opt.apply(tape.gradient(d_loss, d_vars), d_vars)
        # --- G: one Adam step on a fresh z batch, through the just-updated D.
        z = self.z_batch(STREAM_Z_G, t)
        with tf.GradientTape() as tape:
            g_loss = self.g_loss_fn(self.D(self.G(z, training=True), training=True))
        g_vars = self.G.trainable_variables
        g_grads = tape.gradient(g_loss, g_vars)
        self.g_opt.apply(g_grads, g_vars)
        return {"d_loss": d_loss, "d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits)), "g_loss": g_loss,
                "g_grad_norm": tf.linalg.global_norm(g_grads)}


def is_tutorial_step(cfg) -> bool:
    """Whether cfg trains with the first tutorial's step: one D step then one G step
    on a fresh z, one device, no cGAN, no moving average, D's loss unscaled."""
    return (cfg.d_steps == 1 and cfg.update == "alternating" and not cfg.same_z
            and not cfg.conditional and cfg.g_ema == 0 and cfg.d_loss_scale == 1.0
            and cfg.strategy == "default")


class Mlp(MlpNetworks, AdversarialFamily):
    name, Params = "mlp", Params
    stackable = True

    def steps_class(self, cfg):
        return TutorialGan


FAMILY = Mlp()
