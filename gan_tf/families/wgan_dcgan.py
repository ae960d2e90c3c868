"""The Wasserstein critic of wgan.py on the DCGAN's networks (models/conv_nets.py):
the WGAN paper's own experiments train DCGAN networks with a clipped critic that
keeps its batch norm (Arjovsky et al. 2017, section 4); WGAN-GP's critic has none,
since its penalty is taken per sample (Gulrajani et al. 2017, section 4), so
gp_weight > 0 needs d_batch_norm off.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.params import AdversarialParams, count_problems, param, register_params
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.base import (CLIP_HELP, GP_HELP, DcganNetworks, WassersteinCritic,
                                  critic_problems)

MAX_CONV_WIDTH = 1024


@register_params
@dataclass(frozen=True)
class Params(AdversarialParams):
    FAMILY = "wgan_dcgan"
    conv_width: int = param(64, "channels of D's first convolution "
                                "and G's last hidden one; the others have twice as many")
    d_batch_norm: bool = param(True, "batch norm on D's second "
                                     "convolution (the DCGAN guidelines); off, D has none")
    clip: float = param(0.01, CLIP_HELP)
    gp_weight: float = param(0.0, GP_HELP)

    def problems(self, cfg) -> list:
        return (count_problems("conv_width", self.conv_width, 1, MAX_CONV_WIDTH)
                + critic_problems(self, cfg))


class WganDcgan(WassersteinCritic, DcganNetworks, AdversarialFamily):
    name, Params = "wgan_dcgan", Params


FAMILY = WganDcgan()
