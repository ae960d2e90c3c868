"""PacGAN (Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks") on MNIST: the tutorials' MLP GAN whose D judges packs of
`pack` samples at once, concatenated (models/packing.pack), so that a G that puts
out few modes makes packs that look alike, and D can tell them from real packs.

Its hook: D's input. The adversarial step draws batch_size real images and batch_size z
as for any GAN; d_logits packs consecutive samples, so D sees batch_size / pack
packs, all real or all fake (the authors' packed D: fjxmlzn/PacGAN, which draws pack
times the batch, one pack a row: give --batch-size pack x 128 to judge 128 packs).
D's first layer takes 784 x pack inputs; nothing else changes, G included. (The
paper's own experiments, its 2-D mixtures and Stacked MNIST, are re-run in
studies/replications/pacgan/.)
"""

from __future__ import annotations

from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.params import (AdversarialParams, MlpParams, SigmoidLossParams, count_problems,
                                param, register_params)
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import MlpNetworks, TutorialLosses
from gan_tf.models import networks
from gan_tf.models.networks import IMAGE_DIM
from gan_tf.models.packing import pack

MAX_PACK = 16


@register_params
@dataclass(frozen=True)
class Params(MlpParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "pacgan"
    pack: int = param(2, "samples D judges at once, concatenated (the paper's m: 2, 3 or 4)")

    def problems(self, cfg) -> list:
        out = super().problems(cfg) + count_problems("pack", self.pack, 1, MAX_PACK)
        if not out and cfg.batch_size % self.pack:
            out.append(f"batch_size ({cfg.batch_size}) must be a multiple of pack "
                       f"({self.pack}): D judges whole packs")
        return out


class Pacgan(MlpNetworks, TutorialLosses, AdversarialFamily):
    """G: the MLP (MlpNetworks.generator); D: the MLP on pack x 784 inputs."""
    name, Params = "pacgan", Params

    def discriminator(self, cfg, seeds):
        return networks.mlp("discriminator", cfg, networks.IMAGE_DIM * cfg.params.pack,
                            "x", cfg.params.d_hidden, 1, None, seeds)

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        """x (B, 784) -> D's logits on its B / pack packs of consecutive samples."""

        m = D.inputs[0].shape[-1] // IMAGE_DIM
        return D(pack(tf.reshape(x, [-1, m, IMAGE_DIM]), slot_axis=1), training=True)


FAMILY = Pacgan()
