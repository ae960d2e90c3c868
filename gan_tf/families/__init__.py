"""The model families: one file each (NAME.py, the family NAME), on the shared modules
base.py (what a family is), adversarial.py (the GAN families' shared step) and mlp.py
(the tutorial's GAN, whose networks the other MLP families reuse).

A family's file is found by its name alone: adding one is adding a file. Its module
(which imports TensorFlow) is imported the first time the family is asked for, so a
command that needs no family starts without TensorFlow.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Mapping
from pathlib import Path

from gan_tf.core import params

# Modules of this folder that are not families of their own.
SHARED = ("base", "adversarial")
NAMES = tuple(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)])
              if m.name not in SHARED and not m.name.startswith("_"))


def _module(name: str):
    return importlib.import_module(f"{__name__}.{name}")


params.FAMILY_PARAMS.provide(NAMES, _module)


class _Families(Mapping):
    """name -> family object, each module imported on first use."""

    def __init__(self):
        self._loaded = {}

    def __getitem__(self, name):
        if name not in self._loaded:
            if name not in NAMES:
                raise KeyError(name)
            self._loaded[name] = _module(name).FAMILY
        return self._loaded[name]

    def __iter__(self):
        return iter(NAMES)

    def __len__(self):
        return len(NAMES)

    def __contains__(self, name):
        return name in NAMES


FAMILIES = _Families()


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


def register_layers() -> None:
    """Import every family's module, so the Keras layers each registers are known when a
    file is loaded: today's saved generators are Keras' own layers, but one saved by
    an earlier gan-tf (or a gan_tf-only file) may hold a family's own layer, such as
    the semi-supervised GAN's WeightNormDense."""
    for name in NAMES:
        _module(name)
