"""The one training configuration: a frozen dataclass, its validation, and experiments.

Every run is fully described by a `Config`. Experiments (files in `experiments/`)
start from the default and change only what differs; the CLI turns each field
into a `--flag`. Unknown or mistyped overrides are errors, never ignored.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import json
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import ClassVar
from pathlib import Path

from gan_tf.core.errors import UserError

LOSSES = ("log", "xent")
G_LOSSES = ("nonsaturating", "minimax")
OPTIMIZERS = ("adam", "sgd", "rmsprop")
G_OUTPUTS = ("sigmoid", "tanh")
INITS = ("xavier_tutorial", "glorot_normal", "dcgan_normal", "uniform")
NOISES = ("uniform", "uniform_sqrt3", "gaussian")
UPDATES = ("alternating", "simultaneous")
SPLITS = ("tutorial", "paper")
DATASETS = ("mnist", "fashion_mnist")
# Keras dtype policies: float32 everywhere (the faithful default), or bfloat16 compute
# with float32 variables, optimizer state and losses (models/networks.precision).
PRECISIONS = ("float32", "mixed_bfloat16")
# tf.distribute strategies (training/distribute.py makes them).
STRATEGIES = ("default", "mirrored", "multiworker")
# Fields whose value must be one of a few names.
CHOICES = {"loss": LOSSES, "g_loss": G_LOSSES, "optimizer": OPTIMIZERS, "init": INITS,
           "g_output": G_OUTPUTS, "dataset": DATASETS,
           "strategy": STRATEGIES, "noise": NOISES, "update": UPDATES, "split": SPLITS,
           "precision": PRECISIONS}
# Upper limits: far above any sensible run, low enough that a typo cannot ask for
# terabytes, overflow the int64 sample counter (iteration * d_steps * batch_size) or
# trace a graph for minutes. batch_size: both datasets train on 55,000 images.
INT_LIMITS = {"iters": 10**9, "batch_size": 55_000, "snapshot_every": 10**9,
              "log_every": 10**9, "z_dim": 10_000, "d_steps": 100}
MAX_WIDTH_FC = 16_384
# Zero allowed (off), else up to the limit.
COUNT_LIMITS = {"momentum_saturate": 10**6, "parzen_every": 10**9, "eval_every": 10**9}
MAX_LAYERS, MAX_WIDTH = 8, 16_384
MAX_SEED = 2**31 - 1    # Keras' seeded initializers take 32-bit seeds
# Seeds of one sweep: a stack traces each seed's loss on its own, so its graph grows
# with N.
MAX_SEEDS = 64
# name: (lower test, upper test, what is allowed)
FLOAT_RANGES = {
    "lr": (lambda v: v > 0, lambda v: v <= 10, "in (0, 10]"),
    "momentum": (lambda v: v >= 0, lambda v: v < 1, "in [0, 1)"),
    "beta1": (lambda v: v >= 0, lambda v: v < 1, "in [0, 1)"),
    "beta2": (lambda v: v >= 0, lambda v: v < 1, "in [0, 1)"),
    "adam_eps": (lambda v: v >= 0, lambda v: v <= 1, "in [0, 1]"),
    "log_eps": (lambda v: v >= 0, lambda v: v < 0.5, "in [0, 0.5)"),
    "momentum_final": (lambda v: v >= 0, lambda v: v < 1, "in [0, 1)"),
    "lr_decay": (lambda v: v >= 1, lambda v: v <= 2, "in [1, 2] (1: no decay)"),
    "lr_min": (lambda v: v > 0, lambda v: v <= 10, "in (0, 10]"),
    "d_loss_scale": (lambda v: v > 0, lambda v: v <= 100, "in (0, 100]"),
    "d_lr": (lambda v: v >= 0, lambda v: v <= 10, "in [0, 10] (0: lr)"),
    "g_ema": (lambda v: v >= 0, lambda v: v < 1, "in [0, 1) (0: no average)"),
    "real_label": (lambda v: v > 0.5, lambda v: v <= 1, "in (0.5, 1] (1: no smoothing)"),
    # A GIF stores each frame's delay in hundredths of a second, up to 655.35 s.
    "gif_fps": (lambda v: v >= 0.1, lambda v: v <= 50, "in [0.1, 50] frames per second"),
}
# A resumed run may be extended, and moved to other devices (the algorithm is the
# same under every strategy); nothing else may change.
RESUMABLE_CHANGES = ("iters", "strategy", "devices")
# A saved config (config.json, sweep.json's "config") names every field. Those of the
# first version (2026-11-23) must be there. Fields added since are filled, when a
# config saved before them lacks them, with the behaviour it trained with: recorded
# here once, so that a change of a default can never change a saved run.
SAVED_SINCE_FIRST = ("loss", "log_eps", "init", "z_dim", "iters", "batch_size", "lr",
                     "adam_eps", "seed", "xla", "snapshot_every", "log_every",
                     "fresh_sample_noise", "gif_fps", "tensorboard")
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
               "dcgan_fc": 0}
# Until 2026-12 a config was flat: the model was chosen by these keys (model 'gan' or
# 'vae', arch) and its networks' options sat beside the training options. Now each
# family owns its parameters (gan_tf/families/); `migrate` turns a flat config into
# family + params.
FLAT_FAMILY_KEYS = ("model", "arch", "conditional", "d_hidden", "g_hidden", "conv_width",
                    "d_batch_norm", "dcgan_fc", "maxout_pieces", "d_keep")
EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "experiments"


_NONE = object()


def param(default, help_text, before=_NONE):
    """A dataclass field whose one-line help the CLI shows (Config's and every family's
    Params'). A family parameter added after its family's first runs names `before`:
    the value that reproduces a run whose saved config predates it (ADDED_LATER's rule
    for the shared fields), so that today's default never changes a saved run."""
    meta = {"help": help_text}
    if before is not _NONE:
        meta["before"] = before
    return field(default=default, metadata=meta)


def help_table(text: str) -> dict:
    """A table of 'name  help...' entries, continuation lines indented, as a dict of
    one-line helps."""
    out, name = {}, None
    for line in text.strip("\n").splitlines():
        if line[:1] != " ":
            name, _, line = line.partition(" ")
            out[name] = ""
        out[name] = (out[name] + " " + line.strip()).strip()
    return out


# --- model families. Each (gan_tf/families/NAME.py) owns a small frozen dataclass of
# its parameters, registered here by name so that Config can read and check it. The
# families package names every family (gan_tf/__init__ imports it, so every family is
# known as soon as any gan_tf module is); a family's module, which imports TensorFlow,
# is imported the first time its Params are asked for, so the commands that never
# need one (and every --help but train's) answer without TensorFlow's start-up.

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
    field name means one thing in every family that has it."""
    FAMILY: ClassVar[str] = ""

    def problems(self, cfg) -> list:
        """What is wrong with these parameters, or with the shared options of `cfg`
        for this family: one sentence each, naming the fix."""
        return []


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


FIELD_HELP = help_table("""
family            the model family, each a file of gan_tf/families/ with parameters
                  of its own (the flags after the shared ones): 'mlp' (the
                  tutorials' MLP GAN, or their cGAN), 'dcgan', 'dcgan_tutorial'
                  (TensorFlow's DCGAN tutorial), 'maxout' (the GAN paper's MNIST
                  model), 'pacgan' (the MLP GAN with a packed D), 'lsgan' (least
                  squares), 'wgan' and 'wgan_dcgan' (the Wasserstein critic, clipped
                  or gradient-penalised, on the MLP or the DCGAN), 'acgan' (the
                  auxiliary classifier GAN), 'infogan' (InfoGAN's codes), 'srgan'
                  (4x super-resolution of 7x7 digits), 'cyclegan' (unpaired
                  translation to rotated, inverted digits), 'vae' (Kingma &
                  Welling's VAE)
params            the family's parameters (its Params dataclass); None: its defaults
loss              loss variant: 'log' (the tutorial's hand-written log-loss on
                  probabilities) or 'xent' (sigmoid_cross_entropy_with_logits)
log_eps           for loss 'log': clip probabilities to [eps, 1-eps] as Keras'
                  binary cross-entropy does; 0 computes the literal formula (float32
                  overflows to inf/NaN late in training)
g_loss            G's objective: 'nonsaturating' (maximise log D(G(z)), the
                  tutorial's) or 'minimax' (minimise log(1 - D(G(z))), the GAN
                  paper's original game)
dataset           training data: 'mnist' or 'fashion_mnist' (same format, 10 classes
                  of clothing)
init              weight init: 'xavier_tutorial' (the tutorial's N(0,
                  1/sqrt(fan_in/2)), untruncated), 'glorot_normal', 'dcgan_normal'
                  (N(0, 0.02)) or 'uniform' (the GAN paper's mnist.yaml: U(+-0.05)
                  in G, U(+-0.005) in D, G's sigmoid bias from the pixels' means)
z_dim             size of the generator's noise vector z
noise             z's distribution: 'uniform' (U(-1, 1), the tutorials'),
                  'uniform_sqrt3' (U(-sqrt 3, sqrt 3), unit variance: the GAN
                  paper's mnist.yaml) or 'gaussian' (N(0, I), pylearn2's default); G
                  maps U(-1, 1) to it with its first layer, so saved generators take
                  uniform z
split             training images: 'tutorial' (the first 55,000, the last 5,000 for
                  validation) or 'paper' (the first 50,000, the last 10,000 for
                  validation, as the GAN paper)
g_output          G's output: 'sigmoid' (images and data in [0, 1]) or 'tanh'
                  (images and data in [-1, 1])
same_z            the G step reuses the D step's z (the second tutorial) instead of
                  drawing a fresh batch
iters             training iterations (one D step, then one G step, each)
batch_size        minibatch size
d_steps           discriminator steps per generator step (k of the GAN paper's
                  Algorithm 1), each on a fresh real batch and fresh z
update            'alternating' (a D step, then a G step through the updated D: the
                  tutorials') or 'simultaneous' (both from one pass, G's loss on the
                  same D outputs: the GAN paper's code)
d_loss_scale      factor on D's loss (the paper's code: 0.5, the mean of its real
                  and fake terms)
optimizer         'adam' (the tutorial's), 'sgd' (with --momentum, as the GAN
                  paper) or 'rmsprop' (the WGAN's: decay 0.99, no momentum)
momentum          momentum of the 'sgd' optimizer (its start, with
                  momentum_saturate)
momentum_final    for momentum_saturate > 0: the momentum reached then
momentum_saturate the epoch (1-based) by which 'sgd' momentum has risen linearly to
                  momentum_final (pylearn2's MomentumAdjustor); 0: constant momentum
lr_decay          'sgd' learning rate divided by this after every update, down to
                  lr_min (pylearn2's ExponentialDecay); 1: constant
lr_min            the floor of lr_decay
lr                learning rate for D and G (Adam: the TF1 default)
d_lr              D's own learning rate (the two time-scale rule of Heusel et al.
                  2017: D faster than G); 0: lr
real_label        D's target for real images: below 1 is one-sided label smoothing
                  (Salimans et al. 2016: 0.9); fakes stay at 0
g_ema             keep an exponential moving average of G's weights with this decay
                  (Yazici et al. 2019, e.g. 0.999): it draws the frames, is measured
                  by eval_every and saved as generator-ema.keras; 0: none
beta1             Adam beta1 (TF1 default)
beta2             Adam beta2 (TF1 default)
adam_eps          Adam epsilon (TF1 default; Keras' own default is 1e-7)
seed              seed of every random stream: init, z, data order, sample noise
xla               compile the training loop with XLA (jit_compile); much faster
precision         'float32' (the tutorials') or 'mixed_bfloat16' (Keras' mixed
                  policy: bfloat16 matmuls and convolutions, float32 weights,
                  optimizer state and losses; fast on CPUs with bfloat16 units, e.g.
                  AMX)
strategy          tf.distribute strategy: 'default' (one device), 'mirrored' (all
                  local GPUs, or --devices) or 'multiworker' (processes/machines
                  from TF_CONFIG)
devices           for strategy 'mirrored': comma-separated devices, e.g.
                  /gpu:0,/gpu:1 (default: all local GPUs)
snapshot_every    iterations between sample frames, 'Iter:' lines and checkpoints
log_every         iterations between stats.jsonl records (divides snapshot_every);
                  also how often a stop request is noticed
fresh_sample_noise draw new z for every frame, as the tutorial did, instead of 16
                  fixed z for the whole run
gif_fps           frames per second of training.gif
tensorboard       also write losses and frames as TensorBoard events
parzen_every      iterations between quick Parzen estimates during training (2,000
                  samples, sigma chosen on 500 validation images, reported on 500
                  others) into stats.jsonl and parzen.png; a multiple of log_every;
                  0: none
eval_every        iterations between quality measures during training (the
                  classifier's score, Frechet distance to the validation images,
                  confident share and class KL, of 5,000 samples) into stats.jsonl,
                  quality.png and TensorBoard; the best G by that distance is saved
                  as generator-best.keras; a multiple of log_every; 0: none
""")


@dataclass(frozen=True)
class Config:
    """Every run: its model family and that family's parameters, and the options every
    family shares. Each field is a train flag; its help is FIELD_HELP's."""
    # --- what to train
    family: str = "mlp"
    params: FamilyParams = None
    loss: str = "log"
    log_eps: float = 1e-7
    g_loss: str = "nonsaturating"
    dataset: str = "mnist"
    init: str = "xavier_tutorial"
    z_dim: int = 100
    noise: str = "uniform"
    split: str = "tutorial"
    g_output: str = "sigmoid"
    same_z: bool = False
    # --- how to train
    iters: int = 100_000
    batch_size: int = 128
    d_steps: int = 1
    update: str = "alternating"
    d_loss_scale: float = 1.0
    optimizer: str = "adam"
    momentum: float = 0.0
    momentum_final: float = 0.0
    momentum_saturate: int = 0
    lr_decay: float = 1.0
    lr_min: float = 1e-6
    lr: float = 1e-3
    d_lr: float = 0.0
    real_label: float = 1.0
    g_ema: float = 0.0
    beta1: float = 0.9
    beta2: float = 0.999
    adam_eps: float = 1e-8
    seed: int = 0
    xla: bool = True
    precision: str = "float32"
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
        # NaN passes every comparison with False, so finiteness is checked first.
        bad_float = [n for n in FLOAT_RANGES if not math.isfinite(getattr(self, n))]
        if bad_float:
            problems.append(f"{', '.join(bad_float)} must be finite, not NaN or infinity")
        for name, (low, high, text) in FLOAT_RANGES.items():
            value = getattr(self, name)
            if name not in bad_float and not (low(value) and high(value)):
                problems.append(f"{name} must be {text}, got {value}")
        problems += self._paper_problems(bad_float)
        problems += self.params.problems(self)
        if self.precision != "float32" and self.strategy != "default":
            problems.append(f"precision {self.precision!r} is measured on one device only: "
                            f"use strategy 'default'")
        for name in ("parzen_every", "eval_every"):
            every = getattr(self, name)
            if every and every % self.log_every:
                problems.append(f"{name} ({every}) must be a multiple of log_every "
                                f"({self.log_every})")
        for name in ("g_ema", "eval_every"):
            if getattr(self, name) and self.strategy != "default":
                problems.append(f"{name} runs on one device: use strategy 'default'")
        if ("lr_min" not in bad_float and "d_lr" not in bad_float and self.d_lr
                and self.lr_decay != 1.0 and self.lr_min > self.d_lr):
            problems.append(f"lr_min ({self.lr_min}) must not exceed d_lr ({self.d_lr})")
        if self.snapshot_every % self.log_every:
            problems.append(f"log_every ({self.log_every}) must divide snapshot_every "
                            f"({self.snapshot_every})")
        if problems:
            raise UserError("bad config: " + "; ".join(problems))

    def _paper_problems(self, bad_float) -> list:
        """The GAN paper's training options (simultaneous updates, the SGD schedules,
        its noise): what they need, and what they cannot be combined with. (Its model's
        own checks are the maxout family's.)"""
        problems = []
        scheduled = self.lr_decay != 1.0 or self.momentum_saturate
        if scheduled and self.optimizer != "sgd":
            problems.append("lr_decay and momentum_saturate schedule the 'sgd' optimizer; "
                            "add --optimizer sgd")
        if self.momentum_saturate and not self.momentum > 0:
            problems.append("momentum_saturate ramps the momentum up from --momentum, which "
                            "must then be above 0 (the paper's: 0.5)")
        if ("lr_min" not in bad_float and "lr" not in bad_float and self.lr_decay != 1.0
                and self.lr_min > self.lr):
            problems.append(f"lr_min ({self.lr_min}) must not exceed lr ({self.lr})")
        if self.update == "simultaneous" and (self.d_steps != 1 or self.same_z):
            problems.append("update 'simultaneous' makes one pass for both nets: it needs "
                            "d_steps 1 and no same_z")
        paper = {k: v for k, v in (("update", "simultaneous"),) if getattr(self, k) == v}
        if self.noise != "uniform":
            paper["noise"] = self.noise
        if paper and self.strategy != "default":
            problems.append(f"{', '.join(f'{k} {v!r}' for k, v in paper.items())} run on "
                            f"one device: use strategy 'default'")
        return problems

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
        """A saved config, of this version or any earlier one (`migrate`). Unknown keys
        and wrong types are errors; so is a missing key that every saved config has
        named since the first version. A key added later is filled from ADDED_LATER,
        the value that reproduces a run saved before it existed, never from whatever
        today's default is."""
        if not isinstance(values, dict):
            raise UserError(f"a saved config is a JSON object of keys, got "
                            f"{type(values).__name__}")
        values = migrate(values)
        if not isinstance(values.get("params"), dict):
            raise UserError(f"the saved config's params must be a JSON object of the "
                            f"family's parameters, got {values.get('params')!r}")
        shared = {k: v for k, v in values.items() if k != "params"}
        # names unknown keys and bad types first
        cfg = override(cls(), {**shared, **values["params"]})
        missing = sorted(k for k in SAVED_SINCE_FIRST if k not in values)
        if missing:
            raise UserError(f"the saved config lacks {', '.join(missing)} (every saved "
                            f"config names them: they decide what the run trains)")
        later = {k: v for k, v in ADDED_LATER.items() if k not in values
                 and k not in FLAT_FAMILY_KEYS}
        later.update({f.name: f.metadata["before"] for f in dataclasses.fields(cfg.params)
                      if "before" in f.metadata and f.name not in values["params"]})
        return override(cfg, later)


def migrate(values: dict) -> dict:
    """A saved config of any version as this version's keys: a flat one (before
    2026-12: 'model' and 'arch' chose the networks, their options beside the rest)
    becomes family + params. The family's parameters are taken from the flat keys it
    owns; a flat key it does not own had no effect on its runs and is dropped; one a
    flat config lacks takes the value it had before the key existed (ADDED_LATER)."""
    if "params" in values or "family" in values:
        return dict(values)
    values = dict(values)
    if "hidden" in values:   # the very first version (2026-11-23): one size for D and G
        hidden = values.pop("hidden")
        sizes = (hidden,) if type(hidden) is int else hidden
        values.setdefault("d_hidden", sizes)
        values.setdefault("g_hidden", sizes)
    out = {k: v for k, v in values.items() if k not in FLAT_FAMILY_KEYS}
    flat = {k: values.get(k, ADDED_LATER[k]) for k in FLAT_FAMILY_KEYS}
    family = "vae" if flat["model"] == "vae" else flat["arch"]
    if family not in FAMILY_PARAMS:
        raise UserError(f"the saved config's model {flat['model']!r} / arch "
                        f"{flat['arch']!r} names no family; choose one of "
                        f"{', '.join(sorted(FAMILY_PARAMS))}")
    owned = {f.name for f in dataclasses.fields(FAMILY_PARAMS[family])}
    out["family"] = family
    out["params"] = {k: v for k, v in flat.items() if k in owned}
    return out


def field_help() -> dict:
    """Every flag's help: Config's fields, then every family's parameters (a name that
    several families share is one flag)."""
    out = {f.name: FIELD_HELP[f.name] for f in dataclasses.fields(Config)
           if f.name != "params"}
    for name, fields in param_fields().items():
        owners = sorted(fields)
        out[name] = (f"[{', '.join(owners)}] " + fields[owners[0]].metadata.get("help", ""))
    return out


def flat_values(cfg: Config) -> dict:
    """cfg as flag name -> value: the shared fields, 'family', and the family's
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


def _legacy_family(cfg: "Config", changes: dict) -> str | None:
    """The family that the flat keys 'model' and 'arch' (the flags --model, --arch of
    earlier versions) ask for, if any; removed from `changes`."""
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
    if model == "gan" and cfg.family == "vae":
        return "mlp"
    return None


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
    legacy = _legacy_family(cfg, changes)
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
            owner_words = (f"family {owners[0]}" if len(owners) == 1
                           else f"families {', '.join(owners)}")
            raise UserError(f"{key} is a parameter of {owner_words}, not of {family!r}; "
                            f"add --family {sorted(params[key])[0]} (or drop {key})")
        else:
            names = list(fields) + list(params)
            close = [n for n in names if n.replace("_", "") == key.replace("_", "")
                     .replace("-", "")]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"unknown config key {key!r}{hint}")
    new_params = dataclasses.replace(current, **clean_params)
    return dataclasses.replace(cfg, family=family, params=new_params, **clean)


def experiment_names() -> list[str]:
    return sorted(p.stem.replace("_", "-") for p in EXPERIMENTS_DIR.glob("*.py")
                  if not p.name.startswith("_"))


def load_experiment(name: str) -> Config:
    """Config of `experiments/NAME.py` (dashes or underscores), via its get_config().
    Only the names experiment_names() lists: a path is never executed."""
    path = EXPERIMENTS_DIR / (name.replace("-", "_") + ".py")
    if name.replace("_", "-") not in experiment_names():
        raise UserError(f"unknown experiment {name!r}; available: "
                        f"{', '.join(experiment_names())}")
    spec = importlib.util.spec_from_file_location(f"gan_tf_experiment_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    cfg = module.get_config()
    if not isinstance(cfg, Config):
        raise UserError(f"{path}: get_config() must return a gan_tf.core.config.Config")
    return cfg


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


def from_experiment(experiment: str | None, changes: dict) -> Config:
    """The config of a new run: experiments/NAME.py (or the defaults) with the flags'
    changes."""
    # None is "no --experiment"; an empty name is a mistake, never the defaults.
    return override(Config() if experiment is None else load_experiment(experiment), changes)
