"""The tutorials' GAN: fully connected G and D (and, with `conditional`, their cGAN).

D: 784 -> d_hidden (ReLU) -> 1 logit; G: z -> g_hidden (ReLU) -> 784 with G's output
(sigmoid for the first tutorial, tanh with data in [-1, 1] for the second). With
`conditional` (Mirza & Osindero's cGAN, the third tutorial) both take the one-hot
label beside their input: G sees [z, y], D sees [x, y]. The only family whose seeds
train as one stacked program (training/stack.py).
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.config import MlpParams, param, register_params
from gan_tf.families.base import Family, MlpNetworks


@register_params
@dataclass(frozen=True)
class Params(MlpParams):
    FAMILY = "mlp"
    conditional: bool = param(False, "condition G and D on the one-hot label (Mirza & "
                                     "Osindero's cGAN); frames get one row per class")


class Mlp(MlpNetworks, Family):
    name, Params = "mlp", Params
    stackable = True



FAMILY = Mlp()
