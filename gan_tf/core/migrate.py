"""A config saved by any earlier version, as this version's keys.

Three layouts have been saved (config.json, sweep.json's "config"):
  flat      (2026-11-23 .. 2026-12-02) every option at the top; 'model' and 'arch'
            chose the networks, their options beside the training options
  shared    (2026-12-02 .. 2026-12-07) 'family' and the family's 'params', beside
            about forty options "shared" by every family, most of them the GANs'
  run       (now) the run's options at the top; everything that decides the model
            and its step in the family's 'params' (core/params.py)
`migrate` turns each into the last. A value is never taken from today's defaults: a
key added after a config was saved is filled with the behaviour it trained with,
recorded here once (ADDED_LATER, and a family parameter's `before`).
"""

from __future__ import annotations

import dataclasses

from gan_tf.core.errors import UserError
from gan_tf.core.params import FAMILY_PARAMS

# Every saved config of the flat and shared layouts names these (the first version's
# fields, 2026-11-23).
SAVED_SINCE_FIRST = ("loss", "log_eps", "init", "z_dim", "iters", "batch_size", "lr",
                     "adam_eps", "seed", "xla", "snapshot_every", "log_every",
                     "fresh_sample_noise", "gif_fps", "tensorboard")
# Fields added since, each with the value that reproduces a run saved before it.
ADDED_LATER = {"model": "gan", "g_loss": "nonsaturating", "dataset": "mnist", "arch": "mlp",
               "conv_width": 64, "conditional": False, "d_hidden": (128,),
               "g_hidden": (128,), "g_output": "sigmoid", "same_z": False, "d_steps": 1,
               "optimizer": "adam", "momentum": 0.0, "beta1": 0.9, "beta2": 0.999,
               "strategy": "default", "devices": "", "noise": "uniform",
               "maxout_pieces": 5, "d_keep": (), "update": "alternating",
               "d_loss_scale": 1.0, "lr_decay": 1.0, "lr_min": 1e-6, "momentum_final": 0.0,
               "momentum_saturate": 0, "split": "tutorial", "parzen_every": 0,
               "precision": "float32", "eval_every": 0, "g_ema": 0.0, "real_label": 1.0,
               "d_lr": 0.0, "d_batch_norm": True,
               "dcgan_fc": 0, "tf32": False}
# The run options added since the run layout (in ADDED_LATER too): 'tf32' (2026-12-07),
# False for every earlier run, which trained in float32 (no run had used a GPU).
ADDED_TO_RUN_LAYOUT = ("tf32",)
# The flat layout's keys that chose the model ('model' 'gan' or 'vae', 'arch') and its
# networks' options: the family's parameters since the shared layout.
FLAT_FAMILY_KEYS = ("model", "arch", "conditional", "d_hidden", "g_hidden", "conv_width",
                    "d_batch_norm", "dcgan_fc", "maxout_pieces", "d_keep")
# The shared layout's options that are a family's parameters since the run layout,
# with the value they had by default then. A family that does not have one now either
# refused any other value or ignored it; a saved config that sets another value for
# such a family is refused rather than trained as something else.
SHARED_TO_PARAMS = {"loss": "log", "log_eps": 1e-7, "g_loss": "nonsaturating",
                    "init": "xavier_tutorial", "noise": "uniform", "g_output": "sigmoid",
                    "same_z": False, "d_steps": 1, "update": "alternating",
                    "d_loss_scale": 1.0, "optimizer": "adam", "momentum": 0.0,
                    "momentum_final": 0.0, "momentum_saturate": 0, "lr_decay": 1.0,
                    "lr_min": 1e-6, "lr": 1e-3, "d_lr": 0.0, "real_label": 1.0,
                    "g_ema": 0.0, "beta1": 0.9, "beta2": 0.999, "adam_eps": 1e-8}


def migrate(values: dict) -> dict:
    """A saved config of any layout as the run layout: family (a known one), params (a
    dict), run options."""
    values = dict(values)
    if "params" not in values and "family" not in values:
        return _from_shared(_from_flat(values))
    if any(k in values for k in SHARED_TO_PARAMS):
        return _from_shared(values)
    family_params(values)
    return values


def family_params(values: dict) -> tuple:
    """(the family's Params class, its saved params dict) of a saved config, which must
    name a known family and hold its params as a JSON object."""
    family, params = values.get("family"), values.get("params")
    if type(family) is not str or family not in FAMILY_PARAMS:
        raise UserError(f"the saved config's family {family!r} is unknown; choose one of "
                        f"{', '.join(sorted(FAMILY_PARAMS))}")
    if not isinstance(params, dict):
        raise UserError(f"the saved config's params must be a JSON object of the family's "
                        f"parameters, got {params!r}")
    return FAMILY_PARAMS[family], params


def _from_flat(values: dict) -> dict:
    """family + params from the flat keys: the family's parameters are the flat keys it
    owns (a flat key it does not own had no effect on its runs and is dropped; one a
    flat config lacks takes the value it had before the key existed)."""
    if "hidden" in values:   # the very first version (2026-11-23): one size for D and G
        hidden = values.pop("hidden")
        sizes = (hidden,) if type(hidden) is int else hidden
        values.setdefault("d_hidden", sizes)
        values.setdefault("g_hidden", sizes)
    out = {k: v for k, v in values.items() if k not in FLAT_FAMILY_KEYS}
    flat = {k: values.get(k, ADDED_LATER[k]) for k in FLAT_FAMILY_KEYS}
    family = "vae" if flat["model"] == "vae" else flat["arch"]
    if type(family) is not str or family not in FAMILY_PARAMS:
        raise UserError(f"the saved config's model {flat['model']!r} / arch "
                        f"{flat['arch']!r} names no family; choose one of "
                        f"{', '.join(sorted(FAMILY_PARAMS))}")
    owned = {f.name for f in dataclasses.fields(FAMILY_PARAMS[family])}
    out["family"] = family
    out["params"] = {k: v for k, v in flat.items() if k in owned}
    return out


def _from_shared(values: dict) -> dict:
    """The shared options into the family's params: every one the family has; one it
    does not have is dropped if it holds the value the family trained with (its
    default then, or what the family fixes, e.g. SRGAN's tanh output), else refused."""
    for key in SHARED_TO_PARAMS.keys() & values.keys():   # a bad value is named first
        value, want = values[key], type(SHARED_TO_PARAMS[key])
        if type(value) is not want and not (want is float and type(value) is int):
            raise UserError(f"config key {key!r} must be {want.__name__}, got "
                            f"{type(value).__name__} {value!r}")
    saved_params = values.get("params")
    twice = sorted(SHARED_TO_PARAMS.keys() & values.keys()
                   & (saved_params.keys() if isinstance(saved_params, dict) else set()))
    if twice:
        raise UserError(f"the saved config names {', '.join(twice)} twice, at its top and in "
                        f"its params (today's configs: in params only); keep one")
    missing = sorted(k for k in SAVED_SINCE_FIRST if k not in values)
    if missing:
        raise UserError(f"the saved config lacks {', '.join(missing)} (every saved config "
                        f"names them: they decide what the run trains)")
    cls, params = family_params(values)
    family = cls.FAMILY
    owned = {f.name for f in dataclasses.fields(cls)}
    out = {k: v for k, v in values.items() if k not in SHARED_TO_PARAMS}
    params = dict(params)
    for key, then in SHARED_TO_PARAMS.items():
        value = values.get(key, ADDED_LATER.get(key, then))
        if key in owned:
            params.setdefault(key, value)
        elif value != then and value != getattr(cls, key, then):
            raise UserError(f"the saved config sets {key} {value!r}, which family "
                            f"{family!r} does not take (it trained with {then!r}); set it "
                            f"to {then!r} or remove it from the file")
    out["params"] = params
    return out


def legacy_family(current: str, changes: dict) -> str | None:
    """The family that the flat keys 'model' and 'arch' (the flags --model, --arch of
    the flat layout) ask for, if any, for a config of family `current`; both are
    removed from `changes`."""
    model, arch = changes.pop("model", None), changes.pop("arch", None)
    if model not in (None, "gan", "vae"):
        raise UserError(f"unknown model {model!r}; choose gan or vae (or a --family)")
    if arch is not None and (type(arch) is not str or arch == "vae"
                             or arch not in FAMILY_PARAMS):
        raise UserError(f"unknown arch {arch!r}; choose one of "
                        f"{', '.join(n for n in sorted(FAMILY_PARAMS) if n != 'vae')}")
    if model == "vae":
        if arch not in (None, "mlp"):
            raise UserError(f"model 'vae' is an MLP: drop arch {arch!r}")
        return "vae"
    if arch is not None:
        return arch
    if model == "gan" and current == "vae":
        return "mlp"
    return None
