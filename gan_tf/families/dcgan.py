"""The DCGAN (Radford et al. 2016) at MNIST size, and its conditional form; the
networks are models/conv_nets.py's (the Wasserstein critic trains them too).

The DCGAN guidelines: D strides 28 -> 14 -> 7 with 4x4 convolutions and
LeakyReLU(0.2), G projects z to 7x7 and upsamples with 4x4 transposed
convolutions; batch norm in both (not on D's input layer nor G's output layer),
ReLU in G, a tanh output, no pooling, no hidden fully connected layers (unless
`dcgan_fc`, InfoGAN's MNIST networks). With `conditional` G sees [z, y] and D the
image with y as 10 constant feature maps. The wide layers are models/fast_ops.py's
(their gradients on the forward kernels), every batch norm its fused kernel.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.params import (AdversarialParams, ImprovedParams, SigmoidLossParams,
                                count_problems, param, register_params, shared)
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.base import DcganNetworks
from gan_tf.families.mlp import TutorialLosses

MAX_CONV_WIDTH, MAX_FC = 1024, 16_384


@register_params
@dataclass(frozen=True)
class Params(ImprovedParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "dcgan"
    conv_width: int = param(64, "channels of D's first convolution "
                                "and G's last hidden one; the others have twice as many")
    d_batch_norm: bool = param(True, "batch norm on D's second "
                                     "convolution (the DCGAN guidelines); off, D has none")
    dcgan_fc: int = param(0, "a fully connected hidden layer of this "
                             "many units (batch norm, ReLU / LeakyReLU) in G before its "
                             "projection and in D before its logit, as InfoGAN's MNIST "
                             "networks (Chen et al. 2016: 1024); 0: none (the DCGAN "
                             "guidelines)")
    conditional: bool = param(False, "condition G and D on the one-hot label (Mirza & "
                                     "Osindero's cGAN); frames get one row per class")
    g_vbn: bool = shared("g_vbn", before=False)

    def problems(self, cfg) -> list:
        out = (count_problems("conv_width", self.conv_width, 1, MAX_CONV_WIDTH)
               + count_problems("dcgan_fc", self.dcgan_fc, 0, MAX_FC))
        if self.g_vbn and self.conditional:
            # the flags, not 'drop --conditional': an experiment (mnist-cdcgan) sets it
            out.append("g_vbn's reference batch is of z alone: add --no-conditional or "
                       "--no-g-vbn")
        return out


class Dcgan(DcganNetworks, TutorialLosses, AdversarialFamily):
    name, Params = "dcgan", Params


FAMILY = Dcgan()
