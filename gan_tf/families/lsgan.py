"""The least-squares GAN (Mao et al. 2017, "Least Squares Generative Adversarial
Networks"), on the tutorials' MLP networks.

D's last layer is linear and its output a score, not a logit; the two players
minimise (the paper's Eq. 2)
    D:  1/2 E[(D(x) - b)^2] + 1/2 E[(D(G(z)) - a)^2]
    G:  1/2 E[(D(G(z)) - c)^2]
with a = -1, b = 1, c = 0 by default: the choice (b - c = 1, b - a = 2) under which
the game minimises the Pearson chi-square divergence (the paper's Eq. 8), which its
journal version (Mao et al. 2019) finds better than the 0-1 coding a = 0, b = c = 1
(Eq. 9, `--ls-a 0 --ls-c 1`). Measured here on the tutorial's MLP (3,000 iterations,
Adam 2e-4, beta1 0.5, the PCA Frechet distance of tests/test_learning.py, 51 at the
start): -1/1/0 reaches 19.9, the 0-1 coding 42.9. The squared loss penalises samples by how
far they sit from the decision boundary, even on its right side, so G's gradient
does not vanish when D is confident (the paper's Figure 1), where the sigmoid
cross-entropy saturates.

Everything but the losses is the shared adversarial step's: this file is the whole variant.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import tensorflow as tf

from gan_tf.core.params import AdversarialParams, MlpParams, param, register_params
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import MlpNetworks


@register_params
@dataclass(frozen=True)
class Params(MlpParams, AdversarialParams):
    FAMILY = "lsgan"
    ls_a: float = param(-1.0, "D's target for fakes (Mao et al.: a)")
    ls_b: float = param(1.0, "D's target for real images (b)")
    ls_c: float = param(0.0, "the value G wants D to give its "
                             "fakes (c)")

    def problems(self, cfg) -> list:
        out = super().problems(cfg)
        targets = (self.ls_a, self.ls_b, self.ls_c)
        if not all(type(v) is float and abs(v) <= 100 for v in targets):
            out.append(f"ls_a, ls_b and ls_c must be finite numbers in [-100, 100], got "
                       f"{targets}")
        elif self.ls_a == self.ls_b:
            out.append(f"ls_a and ls_b must differ (D's targets for fakes and real "
                       f"images), both are {self.ls_a}")
        return out


def d_loss(real_scores, fake_scores, a=-1.0, b=1.0):
    """1/2 mean((D(x) - b)^2) + 1/2 mean((D(G(z)) - a)^2)."""
    return 0.5 * (tf.reduce_mean(tf.square(real_scores - b))
                  + tf.reduce_mean(tf.square(fake_scores - a)))


def g_loss(fake_scores, c=0.0):
    """1/2 mean((D(G(z)) - c)^2)."""
    return 0.5 * tf.reduce_mean(tf.square(fake_scores - c))


class Lsgan(MlpNetworks, AdversarialFamily):
    name, Params = "lsgan", Params
    stackable = True       # the MLP's Dense layers, stacked; the losses per seed


    def losses(self, cfg):
        p = cfg.params
        return (functools.partial(d_loss, a=p.ls_a, b=p.ls_b),
                functools.partial(g_loss, c=p.ls_c))

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        return f"least squares (a {p.ls_a}, b {p.ls_b}, c {p.ls_c})"


FAMILY = Lsgan()
