"""A family's own parameters: the frozen dataclass each family file declares (its
`Params`), the registry that finds it by family name, and the bases that several
families share.

Config (core/config.py) holds the options of a run; everything that decides what a
model is and how its own step trains it is a family's parameter. A family has only
the parameters it uses, so a flag it lacks is refused by name ("lr_decay is a
parameter of families ..., not of 'semi_supervised'") instead of by a list of
exceptions. The bases:

  OptimizerParams     the optimizer's: 'adam' (TF1's defaults), 'sgd' with the GAN
                      paper's schedules, or 'rmsprop' (models/optimizers.py)
  AdversarialParams   the shared adversarial step's (families/adversarial.py): init,
                      z's distribution, G's output, k D steps, simultaneous updates,
                      same z, D's own learning rate, the EMA of G
  ImprovedParams      Salimans et al. 2016's techniques in that step: minibatch
                      discrimination, historical averaging (feature matching is a
                      g_loss; virtual batch norm the DCGAN's g_vbn)
  SigmoidLossParams   the tutorial's losses on D's sigmoid (families/mlp.py): their
                      form, the minimax G loss, label smoothing
  MlpParams           D's and G's hidden sizes

A field's name means one thing in every family that has it, and each is defined once
here (`shared`), with its help and its check.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar

MAX_LAYERS, MAX_WIDTH = 8, 16_384

_NONE = object()


def param(default, help_text, before=_NONE):
    """A dataclass field whose one-line help the CLI shows. A parameter added after its
    family's first runs names `before`: the value that reproduces a run whose saved
    config predates it, so that today's default never changes a saved run (a saved
    config that lacks any other parameter is refused)."""
    meta = {"help": help_text}
    if before is not _NONE:
        meta["before"] = before
    return field(default=default, metadata=meta)


# --- the parameters several families share: name -> (default, help, allowed). `allowed`
# is a tuple of choices, or (test, "what is allowed") for a number.

def _in(low, high, low_open=False, high_open=False):
    def test(v):
        return ((v > low) if low_open else (v >= low)) and ((v < high) if high_open
                                                              else (v <= high))
    return test


SHARED = {
    # the optimizer (models/optimizers.make_optimizer)
    "optimizer": ("adam", "'adam' (the tutorial's), 'sgd' (with --momentum, as the GAN "
                          "paper) or 'rmsprop' (the WGAN's: decay 0.99, no momentum)",
                  ("adam", "sgd", "rmsprop")),
    "lr": (1e-3, "learning rate for D and G (Adam: the TF1 default)",
           (_in(0, 10, low_open=True), "in (0, 10]")),
    "beta1": (0.9, "Adam beta1 (TF1 default)", (_in(0, 1, high_open=True), "in [0, 1)")),
    "beta2": (0.999, "Adam beta2 (TF1 default)", (_in(0, 1, high_open=True), "in [0, 1)")),
    "adam_eps": (1e-8, "Adam epsilon (TF1 default; Keras' own default is 1e-7)",
                 (_in(0, 1), "in [0, 1]")),
    "momentum": (0.0, "momentum of the 'sgd' optimizer (its start, with momentum_saturate)",
                 (_in(0, 1, high_open=True), "in [0, 1)")),
    "momentum_final": (0.0, "for momentum_saturate > 0: the momentum reached then",
                       (_in(0, 1, high_open=True), "in [0, 1)")),
    "momentum_saturate": (0, "the epoch (1-based) by which 'sgd' momentum has risen "
                             "linearly to momentum_final (pylearn2's MomentumAdjustor); "
                             "0: constant momentum", (_in(0, 10**6), "from 0 to 1,000,000")),
    "lr_decay": (1.0, "'sgd' learning rate divided by this after every update, down to "
                      "lr_min (pylearn2's ExponentialDecay); 1: constant",
                 (_in(1, 2), "in [1, 2] (1: no decay)")),
    "lr_min": (1e-6, "the floor of lr_decay", (_in(0, 10, low_open=True), "in (0, 10]")),
    # the shared adversarial step (families/adversarial.py)
    "init": ("xavier_tutorial", "weight init: 'xavier_tutorial' (the tutorial's N(0, "
                                "1/sqrt(fan_in/2)), untruncated), 'glorot_normal', "
                                "'dcgan_normal' (N(0, 0.02)) or 'uniform' (the GAN paper's "
                                "mnist.yaml: U(+-0.05) in G, U(+-0.005) in D, G's sigmoid "
                                "bias from the pixels' means)",
             ("xavier_tutorial", "glorot_normal", "dcgan_normal", "uniform")),
    "noise": ("uniform", "z's distribution: 'uniform' (U(-1, 1), the tutorials'), "
                         "'uniform_sqrt3' (U(-sqrt 3, sqrt 3), unit variance: the GAN "
                         "paper's mnist.yaml) or 'gaussian' (N(0, I), pylearn2's default); "
                         "G maps U(-1, 1) to it with its first layer, so saved generators "
                         "take uniform z", ("uniform", "uniform_sqrt3", "gaussian")),
    "g_output": ("sigmoid", "G's output: 'sigmoid' (images and data in [0, 1]) or 'tanh' "
                            "(images and data in [-1, 1])", ("sigmoid", "tanh")),
    "same_z": (False, "the G step reuses the D step's z (the second tutorial) instead of "
                      "drawing a fresh batch", None),
    "d_steps": (1, "discriminator steps per generator step (k of the GAN paper's "
                   "Algorithm 1), each on a fresh real batch and fresh z",
                (_in(1, 100), "from 1 to 100")),
    "update": ("alternating", "'alternating' (a D step, then a G step through the updated "
                              "D: the tutorials') or 'simultaneous' (both from one pass, "
                              "G's loss on the same D outputs: the GAN paper's code)",
               ("alternating", "simultaneous")),
    "d_loss_scale": (1.0, "factor on D's loss (the paper's code: 0.5, the mean of its real "
                          "and fake terms)", (_in(0, 100, low_open=True), "in (0, 100]")),
    "d_lr": (0.0, "D's own learning rate (the two time-scale rule of Heusel et al. 2017: "
                  "D faster than G); 0: lr", (_in(0, 10), "in [0, 10] (0: lr)")),
    "g_ema": (0.0, "keep an exponential moving average of G's weights with this decay "
                   "(Yazici et al. 2019, e.g. 0.999): it draws the frames, is measured by "
                   "eval_every and saved as generator-ema.keras; 0: none",
              (_in(0, 1, high_open=True), "in [0, 1) (0: no average)")),
    # the tutorial's losses (families/mlp.py)
    "loss": ("log", "loss variant: 'log' (the tutorial's hand-written log-loss on "
                    "probabilities) or 'xent' (sigmoid_cross_entropy_with_logits)",
             ("log", "xent")),
    "log_eps": (1e-7, "for loss 'log': clip probabilities to [eps, 1-eps] as Keras' binary "
                      "cross-entropy does; 0 computes the literal formula (float32 "
                      "overflows to inf/NaN late in training)",
                (_in(0, 0.5, high_open=True), "in [0, 0.5)")),
    "g_loss": ("nonsaturating", "G's objective: 'nonsaturating' (maximise log D(G(z)), the "
                                "tutorial's) or 'minimax' (minimise log(1 - D(G(z))), the "
                                "GAN paper's original game) or 'feature_matching' (match the "
                                "batch means of D's last hidden layer on real and fake: "
                                "Salimans et al. 2016, section 3.1)",
               ("nonsaturating", "minimax", "feature_matching")),
    "real_label": (1.0, "D's target for real images: below 1 is one-sided label smoothing "
                        "(Salimans et al. 2016: 0.9); fakes stay at 0",
                   (_in(0.5, 1, low_open=True), "in (0.5, 1] (1: no smoothing)")),
    # Salimans et al. 2016's techniques in the shared step (ImprovedParams)
    "minibatch_kernels": (0, "minibatch discrimination (Salimans et al. 2016, section 3.2): "
                             "this many kernels B between D's last hidden layer and its "
                             "output (the paper's: 100); 0: none",
                          (_in(0, 1000), "from 0 to 1,000 (0: none)")),
    "minibatch_dims": (5, "the dimensions C of each minibatch kernel (the paper's: 5)",
                       (_in(1, 100), "from 1 to 100")),
    "historical_averaging": (0.0, "add this weight times ||theta - the mean of theta's past "
                                  "values||^2 to each player's loss (Salimans et al. 2016, "
                                  "section 3.3); 0: none",
                             (_in(0, 1000), "in [0, 1000] (0: none)")),
    "g_vbn": (False, "virtual batch norm in G instead of batch norm (Salimans et al. 2016, "
                     "section 3.5): statistics of a reference batch of z fixed at the start "
                     "plus the example itself", None),
}


def shared(name: str, default=_NONE, before=_NONE):
    """The dataclass field of shared parameter `name` (its help, today's default or a
    family's own)."""
    base, help_text, _ = SHARED[name]
    return param(base if default is _NONE else default, help_text, before)


def shared_problems(params, cfg) -> list:
    """The checks of the shared parameters `params` has, of their combinations, and of
    them with cfg's run options: one sentence each, naming the fix."""
    values = {f.name: getattr(params, f.name) for f in dataclasses.fields(params)
              if f.name in SHARED}
    problems, bad = [], set()
    for name, value in values.items():
        allowed = SHARED[name][2]
        default = SHARED[name][0]
        if type(value) is not type(default):
            problems.append(f"{name} must be {type(default).__name__}, got {value!r}")
            bad.add(name)
        elif isinstance(allowed, tuple) and allowed and isinstance(allowed[0], str):
            if value not in allowed:
                problems.append(f"unknown {name} {value!r}; choose one of "
                                f"{', '.join(allowed)}")
                bad.add(name)
        elif allowed is not None:
            test, text = allowed
            # NaN passes every comparison with False, so finiteness is checked first.
            if type(value) is float and not math.isfinite(value):
                problems.append(f"{name} must be finite, not NaN or infinity")
                bad.add(name)
            elif not test(value):
                problems.append(f"{name} must be {text}, got {value}")
                bad.add(name)
    v = values.get
    scheduled = v("lr_decay", 1.0) != 1.0 or v("momentum_saturate", 0)
    if scheduled and v("optimizer") != "sgd":
        problems.append("lr_decay and momentum_saturate schedule the 'sgd' optimizer; add "
                        "--optimizer sgd")
    if v("momentum_saturate", 0) and not v("momentum", 0.0) > 0:
        problems.append("momentum_saturate ramps the momentum up from --momentum, which "
                        "must then be above 0 (the paper's: 0.5)")
    if v("lr_decay", 1.0) != 1.0 and not bad & {"lr_min", "lr", "d_lr"}:
        for rate in ("lr", "d_lr"):
            if v(rate) and v("lr_min") > v(rate):
                problems.append(f"lr_min ({v('lr_min')}) must not exceed {rate} "
                                f"({v(rate)})")
    if v("update") == "simultaneous" and (v("d_steps") != 1 or v("same_z")):
        problems.append("update 'simultaneous' makes one pass for both nets: it needs "
                        "d_steps 1 and no same_z")
    if v("g_loss") == "feature_matching":
        if not isinstance(params, ImprovedParams):
            problems.append(f"g_loss 'feature_matching' reads D's last hidden layer, which "
                            f"family {params.FAMILY!r} does not expose: use family mlp or "
                            f"dcgan")
        elif v("update") == "simultaneous":
            problems.append("g_loss 'feature_matching' runs in the alternating step: drop "
                            "update 'simultaneous'")
    # what only the single device's step implements
    single = [f"{name} {v(name)!r}" for name, plain in
              (("update", "alternating"), ("noise", "uniform"), ("g_ema", 0.0),
               ("g_loss", v("g_loss") if v("g_loss") != "feature_matching" else ""),
               ("minibatch_kernels", 0), ("historical_averaging", 0.0), ("g_vbn", False))
              if name in values and v(name) != plain]
    if single and cfg.strategy != "default":
        problems.append(f"{', '.join(single)} run on one device: use strategy 'default'")
    return problems


# --- the registry: family name -> its Params. A family's module imports TensorFlow, so
# it is imported the first time its Params are asked for: the commands that never need
# one (and every --help but train's) answer without TensorFlow's start-up.

class _FamilyParams(Mapping):
    """family name -> its Params class; a family's module is imported on first use."""

    def __init__(self):
        self._names: tuple = ()
        self._load = None
        self._classes: dict[str, type] = {}

    def provide(self, names, load) -> None:
        """The family names, and `load(name)`, which imports that family's module
        (whose @register_params adds its Params here)."""
        self._names, self._load = tuple(names), load

    def register(self, cls) -> None:
        if self._classes.get(cls.FAMILY, cls) is not cls:
            raise ValueError(f"two families named {cls.FAMILY!r}")
        self._classes[cls.FAMILY] = cls

    def __getitem__(self, name):
        if name not in self._classes and name in self._names:
            self._load(name)
        return self._classes[name]

    def __iter__(self):
        return iter(dict.fromkeys(self._names + tuple(self._classes)))

    def __len__(self):
        return len(set(self._names) | set(self._classes))

    def __contains__(self, name):
        return name in self._classes or name in self._names


FAMILY_PARAMS = _FamilyParams()


def register_params(cls):
    """Class decorator of a family's Params: `family NAME` and config.json's 'params'
    of that family become known to Config. Names are unique."""
    FAMILY_PARAMS.register(cls)
    return cls


@dataclass(frozen=True)
class FamilyParams:
    """A family's own parameters (none here). Every field is also a train flag, so a
    field name means one thing in every family that has it. `g_output` is G's output
    activation, which sets the data's range: a field where a family lets it be chosen,
    else this class attribute."""
    FAMILY: ClassVar[str] = ""
    g_output = "sigmoid"     # no annotation: a class attribute, not a field
    # Whether eval_every's measures compare with the validation images (the quality
    # of samples); a classifier family measures test errors, as its authors print.
    eval_needs_validation = True

    def problems(self, cfg) -> list:
        """What is wrong with these parameters, or with the run options of `cfg` for
        this family: one sentence each, naming the fix. (The shared parameters' own
        checks are shared_problems', which Config applies to every family.)"""
        return []


@dataclass(frozen=True)
class OptimizerParams(FamilyParams):
    """The optimizer's parameters (models/optimizers.make_optimizer)."""
    optimizer: str = shared("optimizer")
    lr: float = shared("lr")
    beta1: float = shared("beta1")
    beta2: float = shared("beta2")
    adam_eps: float = shared("adam_eps")
    momentum: float = shared("momentum")
    momentum_final: float = shared("momentum_final")
    momentum_saturate: int = shared("momentum_saturate")
    lr_decay: float = shared("lr_decay")
    lr_min: float = shared("lr_min")


@dataclass(frozen=True)
class AdversarialParams(OptimizerParams):
    """The shared adversarial step's parameters (families/adversarial.AdversarialGan)."""
    init: str = shared("init")
    noise: str = shared("noise")
    g_output: str = shared("g_output")
    same_z: bool = shared("same_z")
    d_steps: int = shared("d_steps")
    update: str = shared("update")
    d_loss_scale: float = shared("d_loss_scale")
    d_lr: float = shared("d_lr")
    g_ema: float = shared("g_ema")


@dataclass(frozen=True)
class ImprovedParams(FamilyParams):
    """Salimans et al. 2016's techniques in the shared adversarial step, for a family
    whose D is a Keras model with a layer named 'out' on its last hidden layer (mlp,
    dcgan); feature matching is the g_loss 'feature_matching'. Added 2026-12-07:
    every earlier run trained without them (`before`)."""
    minibatch_kernels: int = shared("minibatch_kernels", before=0)
    minibatch_dims: int = shared("minibatch_dims", before=5)
    historical_averaging: float = shared("historical_averaging", before=0.0)


@dataclass(frozen=True)
class SigmoidLossParams(FamilyParams):
    """The tutorial's losses on D's sigmoid (families/mlp.get_losses)."""
    loss: str = shared("loss")
    log_eps: float = shared("log_eps")
    g_loss: str = shared("g_loss")
    real_label: float = shared("real_label")


def hidden_sizes(net: str, default=(128,)):
    """A family's d_hidden or g_hidden parameter: the hidden layer sizes of its MLP
    `net` ('D' or 'G'; the VAE's encoder and decoder)."""
    return param(default, f"{net}'s hidden layer sizes, e.g. 256,128 (the tutorial: 128; "
                          f"for family 'vae' the {'encoder' if net == 'D' else 'decoder'}'s)")


@dataclass(frozen=True)
class MlpParams(FamilyParams):
    """The parameters of a family whose nets are MLPs: D's and G's hidden sizes (a
    family's Params may start from these)."""
    d_hidden: tuple = hidden_sizes("D")
    g_hidden: tuple = hidden_sizes("G")

    def problems(self, cfg) -> list:
        return sizes_problems("d_hidden", self.d_hidden) + sizes_problems("g_hidden",
                                                                          self.g_hidden)


def sizes_problems(name: str, sizes) -> list:
    """A tuple of layer sizes (d_hidden, g_hidden): 1 to MAX_LAYERS, each 1 to MAX_WIDTH."""
    if sizes and len(sizes) <= MAX_LAYERS and all(type(h) is int and 0 < h <= MAX_WIDTH
                                                   for h in sizes):
        return []
    return [f"{name} must be 1 to {MAX_LAYERS} layer sizes, each from 1 to {MAX_WIDTH:,}, "
            f"got {sizes}"]


def count_problems(name: str, value, low: int, high: int) -> list:
    if type(value) is int and low <= value <= high:
        return []
    return [f"{name} must be an integer from {low:,} to {high:,}, got {value}"]


def run_option_problems(cfg, family: str, options: dict, why: str) -> list:
    """One sentence naming every run option of cfg (a Config field) that differs from
    `options` (name -> the value the family needs), with the values found, and `why`:
    for the driver's features (another strategy, precision, quality measures) that a
    family's own step does not implement."""
    wrong = [k for k, v in options.items() if getattr(cfg, k) != v]
    if not wrong:
        return []
    return [f"family {family!r} needs {', '.join(f'{k}={options[k]!r}' for k in wrong)} "
            f"(got {', '.join(f'{k}={getattr(cfg, k)!r}' for k in wrong)}): {why}"]
