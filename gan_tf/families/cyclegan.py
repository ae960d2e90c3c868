"""CycleGAN (Zhu et al. 2017) on an unpaired task whose answer is known: domain A is
MNIST's first half of the training digits, domain B the second half rotated 90
degrees and inverted (models/cycle.to_b). No digit of A is ever shown with its
image in B; the two domains do not even hold the same digits.

Two generators, G: A -> B and F: B -> A, and two PatchGAN discriminators, D_B on B
and D_A on A (models/cycle.py). The paper's full objective (its Eq. 3), in the
least-squares form it trains with (section 4):
    G, F:  (D_B(G(a)) - 1)^2 + (D_A(F(b)) - 1)^2
           + cycle_weight (|F(G(a)) - a|_1 + |G(F(b)) - b|_1)
    D_B:   1/2 ((D_B(b) - 1)^2 + D_B(G(a))^2), D_A likewise
with cycle_weight 10 (the paper's lambda), plus what the authors' code
(junyanz/pytorch-CycleGAN-and-pix2pix) trains every model with: the identity term
identity_weight * cycle_weight * (|G(b) - b|_1 + |F(a) - a|_1) (cycle_gan_model.py
backward_G, lambda_identity 0.5), D updated on a history of pool_size fakes
(image_pool.py, pool_size 50), and the learning rate decaying linearly to 0
(get_scheduler's 'linear' policy: n_epochs constant, n_epochs_decay falling). Its
training step is
training/cycle.py's; its measures (the translation's error against the true map,
the classifier's accuracy on translated digits mapped back, the cycle's error)
evaluation/translation.py's. generator.keras is G (A -> B), generator-inverse.keras
F (B -> A).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from gan_tf.core.config import FamilyParams, count_problems, param, register_params
from gan_tf.families.base import IMAGE_TO_IMAGE_OPTIONS, Family, option_problems

MAX_WIDTH, MAX_BLOCKS, MAX_CYCLE_WEIGHT, MAX_POOL = 256, 16, 1000.0, 10_000
# models/cycle.DOMAIN_MAPS, named here too so that checking a config needs no TensorFlow
DOMAIN_MAPS = ("rotate_invert", "invert", "rotate")


@register_params
@dataclass(frozen=True)
class Params(FamilyParams):
    FAMILY = "cyclegan"
    width: int = param(16, "channels of the ResNet generators' first convolution (the "
                           "paper's 64); 2x and 4x after each stride-2 stage")
    blocks: int = param(2, "residual blocks of each generator at 7x7 (the paper's 6 at "
                           "128x128, 9 at 256x256)")
    d_width: int = param(16, "channels of the PatchGAN's first convolution (the paper's "
                             "64)")
    mixing: bool = param(True, "a fully connected layer across the 7x7 positions in each "
                               "generator (off: the paper's all-convolutional G)")
    cycle_weight: float = param(10.0, "weight of the cycle-consistency loss (the paper's "
                                      "lambda 10); 0: none")
    # Added 2026-12-06; a run saved before trained without them (`before`).
    identity_weight: float = param(0.5, "weight of the identity loss |G(b) - b|_1 + "
                                        "|F(a) - a|_1, as a fraction of cycle_weight (the "
                                        "authors' code's lambda_identity 0.5); 0: none",
                                   before=0.0)
    pool_size: int = param(50, "how many earlier fakes each D is also updated with (the "
                               "authors' image pool of 50); 0: the current fakes only",
                           before=0)
    domain_map: str = param("rotate_invert", "domain B is MNIST under this map: "
                                             "'rotate_invert' (90 degrees and inverted), "
                                             "'invert' or 'rotate' alone",
                            before="rotate_invert")
    decay_start: int = param(0, "iteration from which the learning rate falls linearly "
                                "(the authors' n_epochs)")
    decay_iters: int = param(0, "iterations over which it falls, to lr/(decay_iters+1) at "
                                "the last (the authors' n_epochs_decay); 0: constant lr")

    def problems(self, cfg) -> list:
        out = (count_problems("width", self.width, 1, MAX_WIDTH)
               + count_problems("blocks", self.blocks, 0, MAX_BLOCKS)
               + count_problems("d_width", self.d_width, 1, MAX_WIDTH))
        v = self.cycle_weight
        if not (type(v) is float and 0.0 <= v <= MAX_CYCLE_WEIGHT):
            out.append(f"cycle_weight must be a number in [0, {MAX_CYCLE_WEIGHT:g}], got {v}")
        if not (type(self.identity_weight) is float
                and 0.0 <= self.identity_weight <= MAX_CYCLE_WEIGHT):
            out.append(f"identity_weight must be a number in [0, {MAX_CYCLE_WEIGHT:g}], "
                       f"got {self.identity_weight}")
        out += (count_problems("pool_size", self.pool_size, 0, MAX_POOL)
                + count_problems("decay_start", self.decay_start, 0, 10**9)
                + count_problems("decay_iters", self.decay_iters, 0, 10**9))
        if (not out and self.decay_iters > 0
                and self.decay_start + self.decay_iters < cfg.iters):
            end = self.decay_start + self.decay_iters
            out.append(f"the learning rate has decayed to lr/{self.decay_iters + 1} at "
                       f"iteration {end:,} (decay_start {self.decay_start:,} + decay_iters "
                       f"{self.decay_iters:,}), before iters {cfg.iters:,}: train for "
                       f"{end:,} iterations, or move the decay (the authors' half "
                       f"constant, half falling: --decay-start {cfg.iters // 2} "
                       f"--decay-iters {cfg.iters - cfg.iters // 2}), or "
                       f"--decay-iters 0 for a constant rate")
        if self.domain_map not in DOMAIN_MAPS:
            out.append(f"domain_map must be one of {', '.join(DOMAIN_MAPS)}, got "
                       f"{str(self.domain_map)[:40]!r}")
        if type(self.mixing) is not bool:
            out.append(f"mixing must be true or false, got {self.mixing!r}")
        if cfg.init not in ("glorot_normal", "dcgan_normal"):
            out.append(f"family 'cyclegan' builds convolutions; init {cfg.init!r} is an "
                       f"MLP's: add --init dcgan_normal (the paper's N(0, 0.02)) or "
                       f"glorot_normal")
        # its own losses (no 'xent') and its own learning-rate decay (decay_*)
        options = {**IMAGE_TO_IMAGE_OPTIONS, "loss": "log", "lr_decay": 1.0}
        return out + option_problems(cfg, "cyclegan", options,
                                     "it translates digits in tanh's range with its own "
                                     "least-squares losses and learning-rate decay "
                                     "(decay_start, decay_iters), on one device")


class CycleGan(Family):
    name, Params = "cyclegan", Params
    trainer = "cycle"
    task = "translation"
    convolutional = True
    needs = {"init": "dcgan_normal", "g_output": "tanh"}

    def generator(self, cfg, seeds, name="generator"):
        from gan_tf.models import cycle
        p = cfg.params
        return cycle.generator(cfg, seeds, p.width, p.blocks, p.mixing, name)

    def discriminator(self, cfg, seeds, name="discriminator"):
        from gan_tf.models import cycle
        return cycle.discriminator(cfg, seeds, cfg.params.d_width, name)

    def build_inverse(self, cfg):
        """F: B -> A, G's architecture with weights of its own."""
        from gan_tf.models import networks
        with networks.precision(cfg):
            return self.generator(cfg, itertools.count(2 * cfg.seed + 30_000), "inverse")

    def build_discriminator_a(self, cfg):
        """D_A, judging domain A, D_B's architecture with weights of its own."""
        from gan_tf.models import networks
        with networks.precision(cfg):
            return self.discriminator(cfg, itertools.count(2 * cfg.seed + 40_000),
                                      "discriminator_a")

    def losses(self, cfg):
        from gan_tf.models import cycle
        return cycle.d_loss, cycle.g_loss

    def generator_info(self, cfg) -> dict:
        return {"domain_map": cfg.params.domain_map}

    def generator_input_dim(self, cfg) -> int:
        from gan_tf.models.networks import IMAGE_DIM
        return IMAGE_DIM

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        extra = "".join([f" + {p.identity_weight * p.cycle_weight:g} x identity L1"
                         if p.identity_weight else "",
                         f"; a pool of {p.pool_size} fakes" if p.pool_size else "",
                         f"; lr falling from iteration {p.decay_start:,}"
                         if p.decay_iters else "",
                         f"; domain B = A under {p.domain_map!r}"
                         if p.domain_map != "rotate_invert" else ""])
        return (f"CycleGAN (least squares + {p.cycle_weight:g} x cycle L1{extra}; "
                f"{'position mixing' if p.mixing else 'all-convolutional'} generators)")


FAMILY = CycleGan()
