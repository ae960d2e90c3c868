"""The model families: one file each, behind one seam (base.py).

`get(cfg)` (or a name) is the family object that builds a run's networks, names its
losses and answers the generic loop's hooks. Importing this package registers every
family's parameters with core.config (gan_tf/__init__ does so first thing).
"""

from __future__ import annotations

from gan_tf.families import (acgan, cyclegan, dcgan, dcgan_tutorial, infogan, lsgan, maxout, mlp, pacgan,
                             srgan, vae, wgan, wgan_dcgan)

FAMILIES = {m.FAMILY.name: m.FAMILY for m in (mlp, dcgan, dcgan_tutorial, maxout, pacgan, lsgan,
                                               wgan, wgan_dcgan, acgan, infogan, srgan,
                                               cyclegan, vae)}


def get(cfg_or_name):
    """The family of a Config (or of a family name)."""
    name = cfg_or_name if isinstance(cfg_or_name, str) else cfg_or_name.family
    return FAMILIES[name]


def build_generator(cfg):
    """cfg's G, fresh (its family's networks)."""
    return get(cfg).build_generator(cfg)


def build_discriminator(cfg):
    """cfg's D, fresh (its family's networks)."""
    return get(cfg).build_discriminator(cfg)
