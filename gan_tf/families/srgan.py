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

The networks and terms are models/super_resolution.py's; the step is
training/super_resolution.py's (the trainer this family names); the measures
(PSNR, SSIM, the classifier's accuracy on upscaled test digits, the blur measure,
against bicubic) are evaluation/super_resolution.py's.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.config import FamilyParams, count_problems, param, register_params
from gan_tf.families.base import IMAGE_TO_IMAGE_OPTIONS, Family, option_problems

MAX_WIDTH, MAX_BLOCKS, MAX_ADV_WEIGHT = 512, 32, 100.0


@register_params
@dataclass(frozen=True)
class Params(FamilyParams):
    FAMILY = "srgan"
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
        if cfg.init not in ("glorot_normal", "dcgan_normal"):
            out.append(f"family 'srgan' builds convolutions; init {cfg.init!r} is an MLP's: "
                       f"add --init glorot_normal (or dcgan_normal)")
        # What G's images are, and the options that mean nothing for a G that
        # upscales instead of sampling, or that this trainer does not implement.
        return out + option_problems(cfg, "srgan", IMAGE_TO_IMAGE_OPTIONS,
                                     "its G upscales 7x7 digits in tanh's range, on one "
                                     "device, one D step per G step")


class Srgan(Family):
    name, Params = "srgan", Params
    trainer = "srgan"
    task = "super_resolution"
    convolutional = True
    needs = {"init": "glorot_normal", "g_output": "tanh"}

    def generator(self, cfg, seeds):
        from gan_tf.models import super_resolution
        return super_resolution.generator(cfg, seeds, cfg.params.width, cfg.params.blocks)

    def discriminator(self, cfg, seeds):
        from gan_tf.models import super_resolution
        return super_resolution.discriminator(cfg, seeds, cfg.params.d_width)

    def generator_input_dim(self, cfg) -> int:
        from gan_tf.models.super_resolution import LR_DIM
        return LR_DIM

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        if p.adv_weight == 0:
            return "SRResNet (pixel MSE only)"
        first = f", after {p.pretrain_iters:,} MSE-only iterations" if p.pretrain_iters else ""
        return f"SRGAN (pixel MSE + {p.adv_weight:g} x adversarial, loss {cfg.loss!r}{first})"


FAMILY = Srgan()
