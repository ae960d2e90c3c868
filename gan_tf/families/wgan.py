"""The Wasserstein GAN (Arjovsky et al. 2017) and WGAN-GP (Gulrajani et al. 2017) on
the tutorials' MLP networks: D is a critic, its last layer linear and its output a
score; the losses, the weight clipping and the gradient penalty are
models/wasserstein.py's, hooked into the shared adversarial step (adversarial.py) by base.WassersteinCritic.

  clip       every critic weight to [-clip, clip] after each update (the WGAN: 0.01)
  gp_weight  lambda of the gradient penalty (WGAN-GP: 10); 0 with clip 0 leaves the
             critic unconstrained (the ablation the learning tests make)
The training choices that go with each (the critic's 5 steps per G step, RMSProp
5e-5 or Adam 1e-4 with betas (0, 0.9)) are the experiments' (experiments/mnist_wgan.py,
mnist_wgan_gp.py). The same critic on the DCGAN's networks: wgan_dcgan.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.params import AdversarialParams, MlpParams, param, register_params
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.base import CLIP_HELP, GP_HELP, WassersteinCritic, critic_problems
from gan_tf.families.mlp import MlpNetworks


@register_params
@dataclass(frozen=True)
class Params(MlpParams, AdversarialParams):
    FAMILY = "wgan"
    clip: float = param(0.01, CLIP_HELP)
    gp_weight: float = param(0.0, GP_HELP)

    def problems(self, cfg) -> list:
        return super().problems(cfg) + critic_problems(self, cfg)


class Wgan(WassersteinCritic, MlpNetworks, AdversarialFamily):
    name, Params = "wgan", Params


FAMILY = Wgan()
