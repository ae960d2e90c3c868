"""What a model family is: the seam between a model and the shared driver.

A family (one file in this folder) owns, top to bottom,
  Params      a small frozen dataclass of its own parameters (core.config registers
              it, so `--family NAME` and its flags, and config.json's 'params', are
              known),
  networks    `generator(cfg, seeds)` and `discriminator(cfg, seeds)`, Keras models
              (each layer drawing its own seed from `seeds`, under cfg.precision's
              dtype policy),
  losses      pure functions of named values (D's outputs on the real and the fake
              batch, labels, z),
  its step    `build(cfg, images, labels, strategy)` returns its `Steps`: the models,
              their optimizers and `step(t)`, one whole training iteration, which the
              driver (training/loop.py) compiles into chunks of many iterations,
  measures    `measures`: what `gan_tf.evaluate` measures for its runs.
The driver owns everything every run shares: the data order, the random streams,
chunking, the NaN watch, checkpoints and resume, tf.distribute, signals, snapshots.
The GAN families share one adversarial step (adversarial.py: k D steps, simultaneous
updates, the moving average of G, same z, several devices); the tutorial's own GAN
(mlp.py) writes its step out in full.

A family imports from core/, data/, models/ and the shared family modules (base,
adversarial and the tutorial's mlp), never another family (the layering test checks).
"""

from __future__ import annotations

import tensorflow as tf

from gan_tf.data.order import DeviceData
from gan_tf.models import conv_nets, networks, wasserstein


class Family:
    """What every family has: a name, its Params, its networks and `build`."""
    name = ""
    Params = None
    # What `gan_tf.evaluate` measures for a run of this family (evaluation/evaluate.py):
    # 'samples', G's samples of U(-1, 1) noise (every GAN, the VAE's decoder);
    # 'super_resolution', G upscales 7x7 digits (evaluation/super_resolution.py);
    # 'translation', G maps a digit to another domain (evaluation/translation.py);
    # 'classifier', D is the product (its test error).
    measures = "samples"
    stackable = False        # N seeds train as one program (training/stack.py)
    convolutional = False    # off XLA on CPUs; one inter-op thread to be reproducible

    def __init__(self):
        if self.Params is None or self.Params.FAMILY != self.name:
            raise TypeError(f"family {self.name!r} must name its own Params")

    # --- networks

    def build_generator(self, cfg):
        """z (batch, z_dim) in [-1, 1] [, one-hot label] -> image (batch, 784) in G's
        output range."""
        with networks.precision(cfg):
            return self.generator(cfg, networks.layer_seeds(cfg, "generator"))

    def build_discriminator(self, cfg):
        """x (batch, 784) [, one-hot label] -> D's output (batch, 1): a logit for the
        tutorials' losses."""
        with networks.precision(cfg):
            return self.discriminator(cfg, networks.layer_seeds(cfg, "discriminator"))

    def generator(self, cfg, seeds):
        raise NotImplementedError

    def discriminator(self, cfg, seeds):
        raise NotImplementedError

    def generator_input_dim(self, cfg) -> int:
        """The width of G's (first) input: z's, for a sampler."""
        return cfg.z_dim

    def generator_info(self, cfg) -> dict:
        """What a saved G's NAME.json records beside its iteration, for measuring the
        file on its own (CycleGAN: the map it translates by)."""
        return {}

    # --- the step

    def build(self, cfg, train_images, train_labels=None, strategy=None) -> "Steps":
        """Fresh networks and optimizers for cfg, and the Steps that train them."""
        raise NotImplementedError

    def describe_loss(self, cfg) -> str:
        """What the run trains, for its first line and its errors."""
        return f"loss {cfg.params.loss!r}"     # the tutorial's losses' (mlp.TutorialLosses)


class Steps:
    """What a family hands the driver: its models and optimizers and `step(t)`, one
    training iteration, traced into the driver's compiled loop body. `VALUES` name
    what a step returns (each a float32 scalar; a stack of seeds: one per seed),
    `LOSSES` those the driver watches for NaN and Inf; `state()` names every variable
    a checkpoint holds; `G` is the generator the run saves (`sampler` draws the
    frames)."""
    VALUES = ("d_loss", "d_real", "d_fake", "g_loss", "g_grad_norm")
    LOSSES = ("d_loss", "g_loss")
    VALUE_SHAPE = ()
    G_ema = G_best = None
    replicas = 1

    def __init__(self, cfg, train_images, train_labels=None):
        if cfg.conditional and train_labels is None:
            raise ValueError("a conditional GAN needs one label per training image")
        self.cfg = cfg
        self.data = DeviceData(train_images, train_labels if cfg.conditional else None,
                               seed=cfg.seed, batch_size=cfg.batch_size,
                               output=cfg.g_output)

    def batch(self, b):
        """Minibatch number b: images in G's output range, and for a conditional GAN
        their one-hot labels (else None)."""
        return self.data.batch(b)

    def step(self, t):
        raise NotImplementedError

    def describe(self, values: dict) -> str:
        """The 'Iter:' line's losses."""
        return f"D loss: {values['d_loss']:.4}  G loss: {values['g_loss']:.4}"

    def state(self) -> dict:
        raise NotImplementedError

    def legacy_state(self) -> dict:
        """The state as checkpoints before 2026-11 named it (where that differs)."""
        return self.state()

    @property
    def sampler(self):
        """The G that draws the frames and is measured for generator-best: the moving
        average where there is one."""
        return self.G if self.G_ema is None else self.G_ema

    def generators(self) -> dict:
        """The models eval_every measures, by the prefix of their stats keys: the
        generators (a classifier family's classifiers)."""
        return {"": self.G}

    def keep_if_best(self, fd, it: int) -> bool:
        return False

    def extra_generators(self) -> dict:
        """The generators saved beside generator.keras: file name -> (model, info)."""
        return {}


class DcganNetworks:
    """The DCGAN's convolutional networks (models/conv_nets.py), a family's choice
    (mixed in before Family), from its parameters conv_width, d_batch_norm and, where
    it has them, dcgan_fc and conditional."""
    convolutional = True

    def discriminator(self, cfg, seeds):
        p = cfg.params
        return conv_nets.discriminator(cfg, seeds, p.conv_width, p.d_batch_norm,
                                       getattr(p, "dcgan_fc", 0),
                                       getattr(p, "conditional", False))

    def generator(self, cfg, seeds):
        return conv_nets.generator(cfg, seeds, cfg.params.conv_width,
                                   getattr(cfg.params, "dcgan_fc", 0))


# --- the Wasserstein critic (WGAN, WGAN-GP), on either family of networks

MAX_CLIP, MAX_GP_WEIGHT = 10.0, 1000.0
CLIP_HELP = ("clip every critic weight to [-clip, clip] after each update (the WGAN: "
             "0.01); 0: no clipping")
GP_HELP = ("weight of the gradient penalty on the critic (WGAN-GP's lambda: 10); 0: "
           "none")


def critic_problems(params, cfg) -> list:
    """The critic's parameters (clip, gp_weight) and the shared step's options a critic
    cannot mean."""
    out = []
    for name, high in (("clip", MAX_CLIP), ("gp_weight", MAX_GP_WEIGHT)):
        v = getattr(params, name)
        if not (type(v) is float and 0.0 <= v <= high):
            out.append(f"{name} must be a number in [0, {high:g}], got {v}")
    if not out and params.clip > 0 and params.gp_weight > 0:
        out.append(f"choose one way to keep the critic Lipschitz: clip ({params.clip}, the "
                   f"WGAN's) or gp_weight ({params.gp_weight}, WGAN-GP's); set the "
                   f"other to 0")
    if not out and params.gp_weight > 0 and getattr(params, "d_batch_norm", False):
        out.append("the gradient penalty is taken per sample, which batch norm in the "
                   "critic breaks (Gulrajani et al. 2017, section 4): add "
                   "--no-d-batch-norm")
    # a critic's own losses are not the sigmoid's, nor scaled, nor simultaneous
    odd = {"update": "alternating", "d_loss_scale": 1.0}
    bad = [f"{k}={getattr(params, k)!r}" for k, v in odd.items() if getattr(params, k) != v]
    if bad:
        out.append(f"family {params.FAMILY!r} trains a Wasserstein critic with its own "
                   f"losses: drop {', '.join(bad)}")
    return out


class WassersteinCritic:
    """The WGAN's losses and Lipschitz constraint as the adversarial step's hooks (mixed in
    before Family); the family's Params has `clip` and `gp_weight`. D's output is a
    score: the steps report its mean on the real and the fake batch, whose
    difference is the critic's Wasserstein estimate."""

    def losses(self, cfg):
        return wasserstein.critic_loss, wasserstein.generator_loss

    def penalised(self, cfg) -> bool:
        return cfg.params.gp_weight > 0

    def d_penalty(self, cfg, d, real, fake, eps):
        return cfg.params.gp_weight * wasserstein.gradient_penalty(d, real, fake, eps)

    def after_d_update(self, cfg, D):
        if cfg.params.clip > 0:
            wasserstein.clip_weights(D.trainable_variables, cfg.params.clip)

    def d_means(self, real_logits, fake_logits) -> dict:
        return {"d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)),
                "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32))}

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        how = (f"weights clipped to +-{p.clip}" if p.clip > 0 else
               f"gradient penalty {p.gp_weight}" if p.gp_weight > 0 else "unconstrained")
        return f"Wasserstein critic ({how})"


# --- the run options that the families with steps of their own (SRGAN, CycleGAN, the
# semi-supervised GAN, the VAE) do not implement: the driver's quality measures, other
# devices and precisions

OWN_STEP_RUN_OPTIONS = {"eval_every": 0, "parzen_every": 0, "strategy": "default",
                        "precision": "float32"}
