"""The GAN paper's MNIST model (Goodfellow et al. 2014), as its code
(goodfeli/adversarial, mnist.yaml) configures it: D two maxout layers (d_hidden
units of maxout_pieces linear pieces each) and a sigmoid unit, with pylearn2's
dropout on every layer's input when training (d_keep); G the MLP of g_hidden with
ReLU and a sigmoid output. Its training choices (simultaneous updates, SGD with its
schedules, the uniform init, the noise) are the shared step's parameters, set by
experiments/mnist_paper.py, which names the line of mnist.yaml each follows.

Its hook: D's training passes draw their dropout masks from the adversarial step's
stateless streams (the real, fake and G passes each their own).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from gan_tf.core.params import (MAX_WIDTH, AdversarialParams, MlpParams, SigmoidLossParams,
                                count_problems, hidden_sizes, param, register_params)
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import MlpNetworks, TutorialLosses
from gan_tf.models.networks import IMAGE_DIM, MaxoutDiscriminator

MAX_PIECES = 64


@register_params
@dataclass(frozen=True)
class Params(MlpParams, SigmoidLossParams, AdversarialParams):
    FAMILY = "maxout"
    d_hidden: tuple = hidden_sizes("D", (240, 240))
    g_hidden: tuple = hidden_sizes("G", (1200, 1200))
    maxout_pieces: int = param(5, "linear pieces per maxout unit")
    d_keep: tuple = param((), "dropout in D, the keep probability of "
                              "each layer's input, first the pixels, e.g. 0.8,0.5,0.5 (the "
                              "paper's); kept inputs are scaled by 1/keep, as pylearn2; "
                              "empty: none")

    def problems(self, cfg) -> list:
        out = super().problems(cfg) + count_problems("maxout_pieces", self.maxout_pieces,
                                                     1, MAX_PIECES)
        keep = self.d_keep
        if keep and not (all(type(p) is float and math.isfinite(p) and 0 < p <= 1
                             for p in keep) and len(keep) == len(self.d_hidden) + 1):
            out.append(f"d_keep must hold one keep probability in (0, 1] for each of "
                       f"D's {len(self.d_hidden) + 1} layer inputs (the pixels, then "
                       f"each hidden layer), got {keep}")
        if not out and max(self.d_hidden) * self.maxout_pieces > MAX_WIDTH * 4:
            out.append(f"a maxout layer of {max(self.d_hidden)} units x "
                       f"{self.maxout_pieces} pieces has more than {MAX_WIDTH * 4:,} "
                       f"columns; use fewer units or pieces")
        if cfg.strategy != "default":
            out.append("family 'maxout' runs on one device: use strategy 'default'")
        return out


class Maxout(MlpNetworks, TutorialLosses, AdversarialFamily):
    """G: the MLP (MlpNetworks.generator); D: models/networks.MaxoutDiscriminator."""
    name, Params = "maxout", Params

    def discriminator(self, cfg, seeds):

        p = cfg.params
        D = MaxoutDiscriminator(p.d_hidden, p.maxout_pieces, p.d_keep, cfg.params.init,
                                next(seeds), name="discriminator")
        D(np.zeros((1, IMAGE_DIM), np.float32))   # builds the weights
        return D

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        if dropout_seed is not None and D.keep:
            return D(x, training=True, dropout_seed=dropout_seed)
        return D(x, training=True)


FAMILY = Maxout()
