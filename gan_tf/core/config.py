"""The configuration of a run: a frozen dataclass of the run's options, its family, and
that family's parameters.

Every run is fully described by a `Config`: what every run has (the data, its length
and batch, the seed, the device options, the cadences of frames, logs, checkpoints and
measures, z's size) here, and everything that decides the model and how its step
trains it in the family's `params` (core/params.py, and each family's file). The CLI
turns each field and parameter into a `--flag`; experiments (core/experiments.py)
start from the defaults and change what differs. Unknown or mistyped overrides are
errors, never ignored; a saved config of any earlier layout is read through
core/migrate.py.
"""

from __future__ import annotations

import dataclasses
import json
import math
from dataclasses import dataclass

from gan_tf.core.errors import UserError
from gan_tf.core.migrate import ADDED_LATER, legacy_family, migrate
from gan_tf.core.params import FAMILY_PARAMS, FamilyParams, shared_problems

SPLITS = ("tutorial", "paper", "all")
DATASETS = ("mnist", "fashion_mnist")
# Keras dtype policies: float32 everywhere (the faithful default), or bfloat16 compute
# with float32 variables, optimizer state and losses (models/networks.precision).
PRECISIONS = ("float32", "mixed_bfloat16")
# tf.distribute strategies (training/distribute.py makes them).
STRATEGIES = ("default", "mirrored", "multiworker")
# Fields whose value must be one of a few names.
CHOICES = {"dataset": DATASETS, "strategy": STRATEGIES, "split": SPLITS,
           "precision": PRECISIONS}
# Upper limits: far above any sensible run, low enough that a typo cannot ask for
# terabytes, overflow the int64 sample counter (iteration * d_steps * batch_size) or
# trace a graph for minutes. batch_size: both datasets train on 55,000 images (60,000
# with split 'all', which check_data measures).
INT_LIMITS = {"iters": 10**9, "batch_size": 60_000, "snapshot_every": 10**9,
              "log_every": 10**9, "z_dim": 10_000}
# Zero allowed (off), else up to the limit.
COUNT_LIMITS = {"parzen_every": 10**9, "eval_every": 10**9}
MAX_SEED = 2**31 - 1    # Keras' seeded initializers take 32-bit seeds
# Seeds of one sweep: a stack traces each seed's loss on its own, so its graph grows
# with N.
MAX_SEEDS = 64
# A GIF stores each frame's delay in hundredths of a second, up to 655.35 s.
GIF_FPS = (0.1, 50.0)
# A resumed run may be extended, and moved to other devices (the algorithm is the
# same under every strategy), compiled by XLA or not (the same step, rounded
# differently: a CPU run can go on on a GPU, where only XLA's loop is fast); nothing
# else may change.
RESUMABLE_CHANGES = ("iters", "strategy", "devices", "xla")


@dataclass(frozen=True)
class Config:
    """A run: its model family and that family's parameters, and the options of the
    run itself. Each field is a train flag; its help is core/help.RUN_HELP's."""
    # --- what to train
    family: str = "mlp"
    params: FamilyParams = None
    dataset: str = "mnist"
    split: str = "tutorial"
    z_dim: int = 100
    # --- how long, on what
    iters: int = 100_000
    batch_size: int = 128
    seed: int = 0
    xla: bool = True
    precision: str = "float32"
    tf32: bool = False
    strategy: str = "default"
    devices: str = ""
    # --- what to record
    snapshot_every: int = 1000
    log_every: int = 100
    fresh_sample_noise: bool = False
    gif_fps: float = 10.0
    tensorboard: bool = True
    parzen_every: int = 0
    eval_every: int = 0

    def __post_init__(self):
        family_class = FAMILY_PARAMS.get(self.family) if type(self.family) is str else None
        if family_class is None:
            raise UserError(f"bad config: unknown family {self.family!r}; choose one of "
                            f"{', '.join(sorted(FAMILY_PARAMS))}")
        if self.params is None:      # the family's defaults
            object.__setattr__(self, "params", family_class())
        elif type(self.params) is not family_class:
            raise UserError(f"bad config: params {type(self.params).__name__} are not "
                            f"family {self.family!r}'s ({family_class.__module__})")
        problems = []
        for name, most in INT_LIMITS.items():
            value = getattr(self, name)
            if not 0 < value <= most:
                problems.append(f"{name} must be a positive integer up to {most:,}, got "
                                f"{value}")
        for name, allowed in CHOICES.items():
            if getattr(self, name) not in allowed:
                problems.append(f"unknown {name} {getattr(self, name)!r}; choose one of "
                                f"{', '.join(allowed)}")
        for name, most in COUNT_LIMITS.items():
            value = getattr(self, name)
            if not 0 <= value <= most:
                problems.append(f"{name} must be an integer from 0 to {most:,}, got {value}")
        if not 0 <= self.seed <= MAX_SEED:
            problems.append(f"seed must be in [0, {MAX_SEED}], got {self.seed}")
        low, high = GIF_FPS
        if not math.isfinite(self.gif_fps):
            problems.append("gif_fps must be finite, not NaN or infinity")
        elif not low <= self.gif_fps <= high:
            problems.append(f"gif_fps must be in [{low}, {high:g}] frames per second, got "
                            f"{self.gif_fps}")
        problems += shared_problems(self.params, self)
        problems += self.params.problems(self)
        if self.precision != "float32" and self.strategy != "default":
            problems.append(f"precision {self.precision!r} is measured on one device only: "
                            f"use strategy 'default'")
        for name in ("parzen_every", "eval_every"):
            every = getattr(self, name)
            if every and every % self.log_every:
                problems.append(f"{name} ({every}) must be a multiple of log_every "
                                f"({self.log_every})")
        if self.split == "all":
            # Parzen's sigma and the quality measures' reference are validation images.
            needs = [n for n in ("parzen_every", "eval_every") if getattr(self, n)
                     and (n == "parzen_every" or self.params.eval_needs_validation)]
            if needs:
                problems.append(f"{' and '.join(needs)} measure against validation images, "
                                f"which split 'all' does not keep: use split 'tutorial' "
                                f"or drop {' and '.join(needs)}")
        if self.eval_every and self.strategy != "default":
            problems.append("eval_every runs on one device: use strategy 'default'")
        if self.snapshot_every % self.log_every:
            problems.append(f"log_every ({self.log_every}) must divide snapshot_every "
                            f"({self.snapshot_every})")
        if problems:
            raise UserError("bad config: " + "; ".join(problems))

    @classmethod
    def of(cls, params: FamilyParams | None = None, **options) -> "Config":
        """The defaults with `options`: run options, 'family' and the family's
        parameters by name (`Config.of(family="dcgan", lr=2e-4)`), over `params` if
        given (a family's Params). Checked once, as a whole."""
        if params is not None:
            options = {"family": params.FAMILY, **dataclasses.asdict(params), **options}
        return override(cls(), options)

    @property
    def g_output(self) -> str:
        """G's output activation, which sets the data's range: 'sigmoid' ([0, 1]) or
        'tanh' ([-1, 1]); a family's parameter or fixed by its Params."""
        return self.params.g_output

    @property
    def conditional(self) -> bool:
        """Whether G and D take the one-hot label (a family's `conditional` parameter)."""
        return bool(getattr(self.params, "conditional", False))

    def to_json(self) -> str:
        values = dataclasses.asdict(self)       # params as a dict of their own
        return json.dumps(values, indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Config":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        """A saved config, of this version or any earlier one (core/migrate.py).
        Unknown keys and wrong types are errors; so is a missing key, unless it was
        added after the config was saved: then it is filled with the value that
        reproduces that run (ADDED_LATER, a parameter's `before`), never with whatever
        today's default is."""
        if not isinstance(values, dict):
            raise UserError(f"a saved config is a JSON object of keys, got "
                            f"{type(values).__name__}")
        values = migrate(values)      # with a known family, and params a dict
        family, params = values["family"], values["params"]
        run = {k: v for k, v in values.items() if k != "params"}
        names = [f.name for f in dataclasses.fields(cls) if f.name != "params"]
        missing = sorted(k for k in names if k not in run and k not in ADDED_LATER)
        if missing:
            raise UserError(f"the saved config lacks {', '.join(missing)} (every saved "
                            f"config names them: they decide what the run trains)")
        run.update({k: ADDED_LATER[k] for k in names if k not in run})
        params = dict(params)
        lacking = []
        for f in dataclasses.fields(FAMILY_PARAMS[family]):
            if f.name not in params:
                if "before" not in f.metadata:
                    lacking.append(f.name)
                params[f.name] = f.metadata.get("before")
        # unknown keys and bad types are named first
        cfg = override(cls(), {**run, **{k: v for k, v in params.items()
                                         if k not in lacking}})
        if lacking:
            raise UserError(f"the saved config's params lack {', '.join(sorted(lacking))} "
                            f"(family {family!r}'s parameters; every config saved since it "
                            f"had them names them): put them back in config.json")
        return cfg


def flat_values(cfg: Config) -> dict:
    """cfg as flag name -> value: the run options, 'family', and the family's
    parameters (what the train flags set, and what two configs' differences name)."""
    out = {f.name: getattr(cfg, f.name) for f in dataclasses.fields(cfg) if f.name != "params"}
    out.update({f.name: getattr(cfg.params, f.name) for f in dataclasses.fields(cfg.params)})
    return out


def differences(cfg, base, ignore=()) -> str:
    """What a variant run changes from the main runs' config, as flags (the seed and
    the fields in `ignore` left out)."""
    new, old = flat_values(cfg), flat_values(base)
    changed = [f"--{name.replace('_', '-')} {value}" for name, value in new.items()
               if name not in ("seed", *ignore) and value != old.get(name)]
    return ", ".join(changed) or "the same config"


def param_fields() -> dict:
    """parameter name -> {family: its dataclass field}, over every registered family."""
    out = {}
    for family, cls in sorted(FAMILY_PARAMS.items()):
        for f in dataclasses.fields(cls):
            out.setdefault(f.name, {})[family] = f
    return out


def _coerce(key, value, want):
    # JSON and Python both allow an int where a float is meant, and JSON has only
    # lists where a tuple is meant; nothing else coerces.
    if want is float and type(value) is int:
        value = float(value)
    if want is tuple and type(value) is list:
        value = tuple(value)
    if type(value) is not want:
        raise UserError(f"config key {key!r} must be {want.__name__}, "
                        f"got {type(value).__name__} {value!r}")
    return value


def override(cfg: Config, changes: dict) -> Config:
    """`dataclasses.replace` that rejects unknown keys and wrong types by name. The keys
    are Config's fields, 'family', and the family's parameters by name (a new family
    starts from its own defaults); 'model' and 'arch' of flat configs name a family."""
    changes = dict(changes)
    fields = {f.name: f for f in dataclasses.fields(Config) if f.name != "params"}
    params = param_fields()
    if "params" in changes:
        raise UserError("give a family's parameters by name (e.g. conv_width), not as "
                        "'params'")
    family = changes.pop("family", None)
    legacy = legacy_family(cfg.family, changes)
    if family is not None and legacy is not None and legacy != family:
        raise UserError(f"family {family!r} and model/arch {legacy!r} disagree; give "
                        f"only --family")
    family = family if family is not None else legacy
    if family is not None and (type(family) is not str or family not in FAMILY_PARAMS):
        raise UserError(f"unknown family {family!r}; choose one of "
                        f"{', '.join(sorted(FAMILY_PARAMS))}")
    family = family or cfg.family
    current = cfg.params if family == cfg.family else FAMILY_PARAMS[family]()
    own = {f.name: f for f in dataclasses.fields(type(current))}
    clean, clean_params = {}, {}
    for key, value in changes.items():
        if key in fields:
            clean[key] = _coerce(key, value, type(getattr(cfg, key)))
        elif key in own:
            clean_params[key] = _coerce(key, value, type(getattr(current, key)))
        elif key in params:
            owners = sorted(params[key])
            if len(owners) == 1:
                raise UserError(f"{key} is a parameter of family {owners[0]}, not of "
                                f"{family!r}; add --family {owners[0]} (or drop {key})")
            raise UserError(f"{key} is a parameter of families {', '.join(owners)}, not "
                            f"of {family!r}: drop {key} (or choose one of those families)")
        else:
            names = list(fields) + list(params)
            close = [n for n in names if n.replace("_", "") == key.replace("_", "")
                     .replace("-", "")]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"unknown config key {key!r}{hint}")
    new_params = dataclasses.replace(current, **clean_params)
    return dataclasses.replace(cfg, family=family, params=new_params, **clean)


def resumed(saved: Config, changes: dict, where: str, what: str = "run") -> Config:
    """A saved config (of a run, or a sweep's base config) with `changes` applied, if
    they are allowed: only RESUMABLE_CHANGES may differ from what was saved."""
    fixed = [k for k in changes if k not in RESUMABLE_CHANGES and _changes(saved, k, changes[k])]
    if fixed:
        raise UserError(f"cannot change {', '.join(sorted(fixed))} when resuming {where} "
                        f"(only {', '.join(RESUMABLE_CHANGES)} may change); start a new "
                        f"{what} instead")
    return dataclasses.replace(saved, **{k: changes[k] for k in RESUMABLE_CHANGES
                                         if k in changes})


def _changes(cfg: Config, key: str, value) -> bool:
    """Whether setting key (a field, a family parameter or a flat key) changes cfg."""
    try:
        return override(cfg, {key: value}) != cfg
    except UserError:   # a parameter of another family, a bad value: a change
        return True


def resumes(saved: Config, cfg: Config) -> bool:
    """cfg continues `saved`: the same but for RESUMABLE_CHANGES."""
    return dataclasses.replace(saved, **{k: getattr(cfg, k) for k in RESUMABLE_CHANGES}) == cfg
