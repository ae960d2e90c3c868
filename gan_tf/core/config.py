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
from dataclasses import dataclass, field
from pathlib import Path

from gan_tf.core.errors import UserError

LOSSES = ("log", "xent")
G_LOSSES = ("nonsaturating", "minimax")
OPTIMIZERS = ("adam", "sgd")
G_OUTPUTS = ("sigmoid", "tanh")
INITS = ("xavier_tutorial", "glorot_normal", "dcgan_normal", "uniform")
ARCHS = ("mlp", "dcgan", "maxout", "dcgan_tutorial")
NOISES = ("uniform", "uniform_sqrt3", "gaussian")
UPDATES = ("alternating", "simultaneous")
SPLITS = ("tutorial", "paper")
DATASETS = ("mnist", "fashion_mnist")
# Keras dtype policies: float32 everywhere (the faithful default), or bfloat16 compute
# with float32 variables, optimizer state and losses (models/networks.precision).
PRECISIONS = ("float32", "mixed_bfloat16")
MODELS = ("gan", "vae")
# tf.distribute strategies (training/distribute.py makes them).
STRATEGIES = ("default", "mirrored", "multiworker")
# Fields whose value must be one of a few names.
CHOICES = {"model": MODELS, "loss": LOSSES, "g_loss": G_LOSSES, "optimizer": OPTIMIZERS, "init": INITS,
           "g_output": G_OUTPUTS, "arch": ARCHS, "dataset": DATASETS,
           "strategy": STRATEGIES, "noise": NOISES, "update": UPDATES, "split": SPLITS,
           "precision": PRECISIONS}
# Upper limits: far above any sensible run, low enough that a typo cannot ask for
# terabytes, overflow the int64 sample counter (iteration * d_steps * batch_size) or
# trace a graph for minutes. batch_size: both datasets train on 55,000 images.
INT_LIMITS = {"iters": 10**9, "batch_size": 55_000, "snapshot_every": 10**9,
              "log_every": 10**9, "z_dim": 10_000, "d_steps": 100, "conv_width": 1024,
              "maxout_pieces": 64}
MAX_WIDTH_FC = 16_384
# Zero allowed (off), else up to the limit.
COUNT_LIMITS = {"dcgan_fc": MAX_WIDTH_FC, "momentum_saturate": 10**6, "parzen_every": 10**9, "eval_every": 10**9}
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
EXPERIMENTS_DIR = Path(__file__).resolve().parents[2] / "experiments"


def _f(default, help_text):
    """A dataclass field whose one-line help the CLI shows."""
    return field(default=default, metadata={"help": help_text})


@dataclass(frozen=True)
class Config:
    # --- what to train
    model: str = _f("gan", "'gan' (G against D) or 'vae' (Kingma & Welling's variational "
                           "autoencoder: encoder of d_hidden, decoder of g_hidden, z_dim "
                           "latents; see gan_tf/models/vae.py)")
    loss: str = _f("log", "loss variant: 'log' (the tutorial's hand-written log-loss on "
                          "probabilities) or 'xent' (sigmoid_cross_entropy_with_logits)")
    log_eps: float = _f(1e-7, "for loss 'log': clip probabilities to [eps, 1-eps] as Keras' "
                              "binary cross-entropy does; 0 computes the literal formula "
                              "(float32 overflows to inf/NaN late in training)")
    g_loss: str = _f("nonsaturating", "G's objective: 'nonsaturating' (maximise log D(G(z)), "
                                      "the tutorial's) or 'minimax' (minimise log(1 - "
                                      "D(G(z))), the GAN paper's original game)")
    dataset: str = _f("mnist", "training data: 'mnist' or 'fashion_mnist' (same format, "
                               "10 classes of clothing)")
    arch: str = _f("mlp", "network family: 'mlp' (the tutorials' fully connected nets), "
                          "'dcgan' (strided convolutions, batch norm), 'maxout' (the GAN "
                          "paper's MNIST nets: D of maxout layers of d_hidden units, G an "
                          "MLP of g_hidden) or 'dcgan_tutorial' (TensorFlow's DCGAN "
                          "tutorial's nets); models/networks.py")
    maxout_pieces: int = _f(5, "for arch 'maxout': linear pieces per maxout unit")
    d_keep: tuple = _f((), "dropout in D (arch 'maxout'): the keep probability of each "
                           "layer's input, first the pixels, e.g. 0.8,0.5,0.5 (the paper's); "
                           "kept inputs are scaled by 1/keep, as pylearn2; empty: none")
    d_batch_norm: bool = _f(True, "for arch 'dcgan': batch norm on D's second convolution "
                                  "(the DCGAN guidelines); off, D has none")
    dcgan_fc: int = _f(0, "for arch 'dcgan': a fully connected hidden layer of this many "
                          "units (batch norm, ReLU / LeakyReLU) in G before its projection "
                          "and in D before its logit, as InfoGAN's MNIST networks (Chen et "
                          "al. 2016: 1024); 0: none (the DCGAN guidelines)")
    conv_width: int = _f(64, "for arch 'dcgan': channels of D's first convolution and G's "
                             "last hidden one; the others have twice as many")
    conditional: bool = _f(False, "condition G and D on the one-hot label (Mirza & "
                                  "Osindero's cGAN); frames get one row per class")
    init: str = _f("xavier_tutorial", "weight init: 'xavier_tutorial' (the tutorial's "
                                      "N(0, 1/sqrt(fan_in/2)), untruncated), "
                                      "'glorot_normal', 'dcgan_normal' (N(0, 0.02)) or "
                                      "'uniform' (the GAN paper's mnist.yaml: U(+-0.05) in "
                                      "G, U(+-0.005) in D, G's sigmoid bias from the "
                                      "pixels' means)")
    z_dim: int = _f(100, "size of the generator's noise vector z")
    noise: str = _f("uniform", "z's distribution: 'uniform' (U(-1, 1), the tutorials'), "
                               "'uniform_sqrt3' (U(-sqrt 3, sqrt 3), unit variance: the GAN "
                               "paper's mnist.yaml) or 'gaussian' (N(0, I), pylearn2's "
                               "default); G maps U(-1, 1) to it with its first layer, so "
                               "saved generators take uniform z")
    split: str = _f("tutorial", "training images: 'tutorial' (the first 55,000, the last "
                                "5,000 for validation) or 'paper' (the first 50,000, the "
                                "last 10,000 for validation, as the GAN paper)")
    d_hidden: tuple = _f((128,), "D's hidden layer sizes, e.g. 256,128 (the tutorial: 128); "
                                  "for model 'vae' the encoder's")
    g_hidden: tuple = _f((128,), "G's hidden layer sizes, e.g. 256,512 (the tutorial: 128); "
                                  "for model 'vae' the decoder's")
    g_output: str = _f("sigmoid", "G's output: 'sigmoid' (images and data in [0, 1]) or "
                                  "'tanh' (images and data in [-1, 1])")
    same_z: bool = _f(False, "the G step reuses the D step's z (the second tutorial) "
                             "instead of drawing a fresh batch")
    # --- how to train
    iters: int = _f(100_000, "training iterations (one D step, then one G step, each)")
    batch_size: int = _f(128, "minibatch size")
    d_steps: int = _f(1, "discriminator steps per generator step (k of the GAN paper's "
                         "Algorithm 1), each on a fresh real batch and fresh z")
    update: str = _f("alternating", "'alternating' (a D step, then a G step through the "
                                    "updated D: the tutorials') or 'simultaneous' (both "
                                    "from one pass, G's loss on the same D outputs: the GAN "
                                    "paper's code)")
    d_loss_scale: float = _f(1.0, "factor on D's loss (the paper's code: 0.5, the mean of "
                                  "its real and fake terms)")
    optimizer: str = _f("adam", "'adam' (the tutorial's) or 'sgd' (with --momentum, as the "
                                "GAN paper)")
    momentum: float = _f(0.0, "momentum of the 'sgd' optimizer (its start, with "
                              "momentum_saturate)")
    momentum_final: float = _f(0.0, "for momentum_saturate > 0: the momentum reached then")
    momentum_saturate: int = _f(0, "the epoch (1-based) by which 'sgd' momentum has risen "
                                   "linearly to momentum_final (pylearn2's "
                                   "MomentumAdjustor); 0: constant momentum")
    lr_decay: float = _f(1.0, "'sgd' learning rate divided by this after every update, "
                              "down to lr_min (pylearn2's ExponentialDecay); 1: constant")
    lr_min: float = _f(1e-6, "the floor of lr_decay")
    lr: float = _f(1e-3, "learning rate for D and G (Adam: the TF1 default)")
    d_lr: float = _f(0.0, "D's own learning rate (the two time-scale rule of Heusel et al. "
                          "2017: D faster than G); 0: lr")
    real_label: float = _f(1.0, "D's target for real images: below 1 is one-sided label "
                                "smoothing (Salimans et al. 2016: 0.9); fakes stay at 0")
    g_ema: float = _f(0.0, "keep an exponential moving average of G's weights with this "
                           "decay (Yazici et al. 2019, e.g. 0.999): it draws the frames, is "
                           "measured by eval_every and saved as generator-ema.keras; 0: "
                           "none")
    beta1: float = _f(0.9, "Adam beta1 (TF1 default)")
    beta2: float = _f(0.999, "Adam beta2 (TF1 default)")
    adam_eps: float = _f(1e-8, "Adam epsilon (TF1 default; Keras' own default is 1e-7)")
    seed: int = _f(0, "seed of every random stream: init, z, data order, sample noise")
    xla: bool = _f(True, "compile the training loop with XLA (jit_compile); much faster")
    precision: str = _f("float32", "'float32' (the tutorials') or 'mixed_bfloat16' (Keras' "
                                   "mixed policy: bfloat16 matmuls and convolutions, float32 "
                                   "weights, optimizer state and losses; fast on CPUs with "
                                   "bfloat16 units, e.g. AMX)")
    strategy: str = _f("default", "tf.distribute strategy: 'default' (one device), "
                                  "'mirrored' (all local GPUs, or --devices) or "
                                  "'multiworker' (processes/machines from TF_CONFIG)")
    devices: str = _f("", "for strategy 'mirrored': comma-separated devices, e.g. "
                          "/gpu:0,/gpu:1 (default: all local GPUs)")
    # --- what to record
    snapshot_every: int = _f(1000, "iterations between sample frames, 'Iter:' lines and "
                                   "checkpoints")
    log_every: int = _f(100, "iterations between stats.jsonl records (divides "
                             "snapshot_every); also how often a stop request is noticed")
    fresh_sample_noise: bool = _f(False, "draw new z for every frame, as the tutorial did, "
                                         "instead of 16 fixed z for the whole run")
    gif_fps: float = _f(10.0, "frames per second of training.gif")
    tensorboard: bool = _f(True, "also write losses and frames as TensorBoard events")
    parzen_every: int = _f(0, "iterations between quick Parzen estimates during training "
                              "(2,000 samples, sigma chosen on 500 validation images, "
                              "reported on 500 others) into stats.jsonl and parzen.png; "
                              "a multiple of log_every; 0: none")
    eval_every: int = _f(0, "iterations between quality measures during training (the "
                            "classifier's score, Frechet distance to the validation images, "
                            "confident share and class KL, of 5,000 samples) into "
                            "stats.jsonl, quality.png and TensorBoard; the best G by that "
                            "distance is saved as generator-best.keras; a multiple of "
                            "log_every; 0: none")

    def __post_init__(self):
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
        for name in ("d_hidden", "g_hidden"):
            sizes = getattr(self, name)
            if not (sizes and len(sizes) <= MAX_LAYERS
                    and all(type(h) is int and 0 < h <= MAX_WIDTH for h in sizes)):
                problems.append(f"{name} must be 1 to {MAX_LAYERS} layer sizes, each from 1 "
                                f"to {MAX_WIDTH:,}, got {sizes}")
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
        if self.precision != "float32" and self.strategy != "default":
            problems.append(f"precision {self.precision!r} is measured on one device only: "
                            f"use strategy 'default'")
        if self.model == "vae":
            # The VAE is the tutorials' MLP scale on one device; the GAN-only options
            # would be silently ignored, so they are refused.
            odd = {"arch": "mlp", "conditional": False, "g_output": "sigmoid",
                   "strategy": "default", "d_steps": 1, "noise": "uniform",
                   "update": "alternating", "d_loss_scale": 1.0, "parzen_every": 0,
                   "eval_every": 0, "g_ema": 0.0, "real_label": 1.0, "d_lr": 0.0, "d_batch_norm": True,
               "dcgan_fc": 0}
            bad = [f"{k}={getattr(self, k)!r}" for k, v in odd.items() if getattr(self, k) != v]
            if bad:
                problems.append(f"model 'vae' needs the defaults of {', '.join(bad)} "
                                f"(an MLP with a sigmoid output, unconditional, one device)")
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
        """The GAN paper's options (arch 'maxout', dropout, simultaneous updates, the SGD
        schedules): what they need, and what they cannot be combined with."""
        problems = []
        keep = self.d_keep
        if keep and not (all(type(p) is float and math.isfinite(p) and 0 < p <= 1
                             for p in keep) and len(keep) == len(self.d_hidden) + 1):
            problems.append(f"d_keep must hold one keep probability in (0, 1] for each of "
                            f"D's {len(self.d_hidden) + 1} layer inputs (the pixels, then "
                            f"each hidden layer), got {keep}")
        if self.arch == "maxout" and max(self.d_hidden) * self.maxout_pieces > MAX_WIDTH * 4:
            problems.append(f"a maxout layer of {max(self.d_hidden)} units x "
                            f"{self.maxout_pieces} pieces has more than {MAX_WIDTH * 4:,} "
                            f"columns; use fewer units or pieces")
        if keep and self.arch != "maxout":
            problems.append("d_keep (dropout in D) needs arch 'maxout'")
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
        paper = {"arch": "maxout"} if self.arch == "maxout" else {}
        paper.update({k: v for k, v in (("update", "simultaneous"),) if getattr(self, k) == v})
        if self.noise != "uniform":
            paper["noise"] = self.noise
        if paper and self.strategy != "default":
            problems.append(f"{', '.join(f'{k} {v!r}' for k, v in paper.items())} run on "
                            f"one device: use strategy 'default'")
        for name, default in (("dcgan_fc", 0), ("d_batch_norm", True)):
            if getattr(self, name) != default and self.arch != "dcgan":
                problems.append(f"{name} changes the DCGAN's networks: it needs arch 'dcgan'")
        if self.arch == "dcgan_tutorial" and self.conditional:
            problems.append("arch 'dcgan_tutorial' is TensorFlow's unconditional DCGAN: "
                            "drop --conditional (or use arch 'dcgan')")
        if self.arch == "maxout" and self.conditional:
            problems.append("arch 'maxout' is the paper's unconditional model: drop "
                            "--conditional")
        return problems

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> "Config":
        return cls.from_dict(json.loads(text))

    @classmethod
    def from_dict(cls, values: dict) -> "Config":
        """A saved config. Unknown keys and wrong types are errors; so is a missing key
        that every saved config has named since the first version. A key added later
        is filled from ADDED_LATER, the value that reproduces a run saved before it
        existed, never from whatever today's default is."""
        cfg = override(cls(), values)        # names unknown keys and bad types first
        missing = sorted(k for k in SAVED_SINCE_FIRST if k not in values)
        if missing:
            raise UserError(f"the saved config lacks {', '.join(missing)} (every saved "
                            f"config names them: they decide what the run trains)")
        return override(cfg, {k: v for k, v in ADDED_LATER.items() if k not in values})


def field_help() -> dict:
    return {f.name: f.metadata.get("help", "") for f in dataclasses.fields(Config)}


def override(cfg: Config, changes: dict) -> Config:
    """`dataclasses.replace` that rejects unknown keys and wrong types by name."""
    fields = {f.name: f for f in dataclasses.fields(Config)}
    clean = {}
    for key, value in changes.items():
        if key not in fields:
            close = [n for n in fields if n.replace("_", "") == key.replace("_", "")
                     .replace("-", "")]
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UserError(f"unknown config key {key!r}{hint}")
        want = type(getattr(cfg, key))
        # JSON and Python both allow an int where a float is meant, and JSON has only
        # lists where a tuple is meant; nothing else coerces.
        if want is float and type(value) is int:
            value = float(value)
        if want is tuple and type(value) is list:
            value = tuple(value)
        if type(value) is not want:
            raise UserError(f"config key {key!r} must be {want.__name__}, "
                            f"got {type(value).__name__} {value!r}")
        clean[key] = value
    return dataclasses.replace(cfg, **clean)


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
    fixed = {k: v for k, v in changes.items()
             if k not in RESUMABLE_CHANGES and getattr(saved, k) != v}
    if fixed:
        raise UserError(f"cannot change {', '.join(sorted(fixed))} when resuming {where} "
                        f"(only {', '.join(RESUMABLE_CHANGES)} may change); start a new "
                        f"{what} instead")
    return dataclasses.replace(saved, **{k: changes[k] for k in RESUMABLE_CHANGES
                                         if k in changes})


def resumes(saved: Config, cfg: Config) -> bool:
    """cfg continues `saved`: the same but for RESUMABLE_CHANGES."""
    return dataclasses.replace(saved, **{k: getattr(cfg, k) for k in RESUMABLE_CHANGES}) == cfg


def from_experiment(experiment: str | None, changes: dict) -> Config:
    """The config of a new run: experiments/NAME.py (or the defaults) with the flags'
    changes."""
    # None is "no --experiment"; an empty name is a mistake, never the defaults.
    return override(Config() if experiment is None else load_experiment(experiment), changes)
