"""A fresh trainer for a Config: the GAN's (loop.Trainer) around its family's
networks and losses, the VAE's (vae.VaeTrainer), SRGAN's
(super_resolution.SrganTrainer) or CycleGAN's (cycle.CycleTrainer).

Above both trainers, so that neither trainer module imports the other.
"""

from __future__ import annotations

import contextlib
import math

from gan_tf import families
from gan_tf.models import networks
from gan_tf.training.loop import Trainer, make_optimizer


def build_trainer(cfg, train_images, train_labels=None, strategy=None) -> Trainer:
    """G, D and their optimizers for cfg, fresh, and the Trainer that runs them (all
    created inside strategy.scope() when a strategy is given)."""
    family = families.get(cfg)
    if family.trainer == "vae":
        from gan_tf.training.vae import build_vae_trainer
        return build_vae_trainer(cfg, train_images)
    if family.trainer == "cycle":
        from gan_tf.training.cycle import CycleTrainer
        return CycleTrainer(family.build_generator(cfg), family.build_inverse(cfg),
                            family.build_discriminator(cfg), family.build_discriminator_a(cfg),
                            make_optimizer(cfg), make_optimizer(cfg, role="discriminator"),
                            family.losses(cfg), cfg, train_images)
    if family.trainer == "srgan":
        from gan_tf.training.super_resolution import SrganTrainer
        G, D = family.build_generator(cfg), family.build_discriminator(cfg)
        return SrganTrainer(G, D, make_optimizer(cfg), make_optimizer(cfg, role="discriminator"),
                            family.losses(cfg), cfg, train_images)
    with strategy.scope() if strategy else contextlib.nullcontext():
        G, D = family.build_generator(cfg), family.build_discriminator(cfg)
        if cfg.init == "uniform" and cfg.g_output == "sigmoid":
            # mnist.yaml: the output layer's init_bias from the training pixels' marginals
            G.get_layer("out").bias.assign(networks.sigmoid_bias_from_marginals(train_images))
        steps = math.ceil(len(train_images) / cfg.batch_size)   # an epoch, for momentum
        # Copies of G's architecture for the moving average and the best G (the
        # Trainer gives them G's initial weights).
        G_ema = family.build_generator(cfg) if cfg.g_ema else None
        G_best = family.build_generator(cfg) if cfg.eval_every else None
        return Trainer(G, D, make_optimizer(cfg, steps),
                       make_optimizer(cfg, steps, role="discriminator"),
                       family.losses(cfg), cfg, train_images, train_labels,
                       strategy=strategy, G_ema=G_ema, G_best=G_best)
