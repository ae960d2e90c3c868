"""A fresh driver for a Config: its family's Steps (networks, optimizers, step),
built by the family itself, in the driver that compiles them."""

from __future__ import annotations

from gan_tf import families
from gan_tf.training.loop import Driver


def build_trainer(cfg, train_images, train_labels=None, strategy=None) -> Driver:
    """cfg's family's Steps, fresh (created inside strategy.scope() when a strategy
    is given), in a Driver."""
    return Driver(families.get(cfg).build(cfg, train_images, train_labels, strategy), cfg)
