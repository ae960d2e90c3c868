"""What a model family is: the seam between a GAN variant and the generic loop.

A family (one file in this folder) owns
  Params      a small frozen dataclass of its own parameters (core.config registers
              it, so `--family NAME` and its flags, and config.json's 'params', are
              known),
  networks    `generator(cfg, seeds)` and `discriminator(cfg, seeds)`, Keras models
              built from models/' blocks (each layer drawing its own seed from
              `seeds`, under cfg.precision's dtype policy),
  losses      `losses(cfg)`: (D loss, G loss), pure functions of D's outputs,
  hooks       what the generic loop (training/loop.py) asks of it at each step:
              `d_logits`, D's outputs on a batch in training mode (the maxout D draws
              its dropout masks there, the packed D packs its input);
              `d_penalty`, a term of D's loss that needs D itself, not only its
              outputs (WGAN-GP's gradient penalty), where `penalised`;
              `after_d_update`, what follows each update of D (the WGAN's clipping);
              `d_means`, what D's outputs on the real and the fake batch report
              (probabilities for a logit, the raw scores of a critic).
The generic loop owns everything else: the data order, the random streams, the
chunked compiled loop, tf.distribute, the moving average of G, checkpoints.

A family imports from core/ and models/ only, and never another family (the
layering test checks both), and imports TensorFlow lazily, inside its functions:
`gan_tf/__init__` registers every family, and a command's --help must not wait for
TensorFlow.
"""

from __future__ import annotations


class Family:
    """The defaults every family starts from: an unconditional GAN trained by the
    generic loop with the tutorials' losses."""
    name = ""
    Params = None
    # How the generic code treats its runs:
    trainer = "gan"          # 'gan' (training/loop.Trainer), 'vae' (training/vae.py),
                             # 'srgan' (training/super_resolution.py) or 'cycle'
                             # (training/cycle.py)
    # What G maps: 'sample', U(-1, 1) noise to an image (every GAN, the VAE's decoder);
    # 'super_resolution', a 7x7 image to a 28x28 one (SRGAN: measured by
    # evaluation/super_resolution.py, not by sampling); 'translation', an image of one
    # domain to one of another (CycleGAN: evaluation/translation.py).
    task = "sample"
    # The shared options whose defaults (the tutorial's MLP: its xavier_init, a sigmoid
    # output) this family refuses, with the values it needs: Config(family=NAME,
    # **needs) is the family's smallest valid config.
    needs: dict = {}
    stackable = False        # N seeds train as one program (training/stack.py)
    convolutional = False    # off XLA on CPUs; one inter-op thread to be reproducible

    def __init__(self):
        if self.Params is None or self.Params.FAMILY != self.name:
            raise TypeError(f"family {self.name!r} must name its own Params")

    # --- networks

    def build_generator(self, cfg):
        """z (batch, z_dim) in [-1, 1] [, one-hot label] -> image (batch, 784) in G's
        output range."""
        from gan_tf.models import networks
        with networks.precision(cfg):
            return self.generator(cfg, networks.layer_seeds(cfg, "generator"))

    def build_discriminator(self, cfg):
        """x (batch, 784) [, one-hot label] -> D's output (batch, 1): a logit for the
        tutorials' losses."""
        from gan_tf.models import networks
        with networks.precision(cfg):
            return self.discriminator(cfg, networks.layer_seeds(cfg, "discriminator"))

    def generator(self, cfg, seeds):
        raise NotImplementedError

    def generator_input_dim(self, cfg) -> int:
        """The width of G's (first) input: z's, for a sampler."""
        return cfg.z_dim

    def generator_info(self, cfg) -> dict:
        """What a saved G's NAME.json records beside its iteration, for measuring the
        file on its own (CycleGAN: the map it translates by)."""
        return {}

    def discriminator(self, cfg, seeds):
        raise NotImplementedError

    # --- losses and the step hooks

    def losses(self, cfg):
        """(d_loss(real_logits, fake_logits), g_loss(fake_logits)): cfg.loss's form
        of cfg.g_loss's objective (models/losses.py)."""
        from gan_tf.models.losses import get_losses
        return get_losses(cfg)

    def d_logits(self, D, x, y, dropout_seed=None, z=None):
        """D's outputs on x (with the one-hot labels y, or None) in training mode.
        `dropout_seed` is the stateless seed of this pass's dropout masks, for a
        family whose D draws them; `z` is the noise G made x from (None for real
        images), for a family whose D reads it back (InfoGAN's codes)."""
        return D(x if y is None else [x, y], training=True)

    def penalised(self, cfg) -> bool:
        """Whether D's loss has a `d_penalty` term."""
        return False

    def d_penalty(self, cfg, d, real, fake, eps):
        """A term added to D's loss inside its tape: `d` is D's training-mode pass on
        a batch of images (the labels bound), `eps` (batch, 1) uniform draws in [0, 1)
        for the points between `real` and `fake` it may look at."""
        raise NotImplementedError

    def after_d_update(self, cfg, D):
        """Runs after every optimizer update of D (inside the compiled step)."""
        return None   # a body AutoGraph can convert (a docstring alone it cannot)

    def d_means(self, real_logits, fake_logits) -> dict:
        """The D step's 'd_real' and 'd_fake': D's mean probability of 'real' on the
        real and on the fake batch."""
        import tensorflow as tf
        return {"d_real": tf.reduce_mean(tf.sigmoid(real_logits)),
                "d_fake": tf.reduce_mean(tf.sigmoid(fake_logits))}

    def describe_loss(self, cfg) -> str:
        """What the run trains, for its first line and its errors."""
        return f"loss {cfg.loss!r}"


class MlpNetworks:
    """The tutorials' fully connected networks, a family's choice (mixed in before
    Family): D 784 -> d_hidden (ReLU) -> 1, G z -> g_hidden (ReLU) -> 784 with G's
    output activation; with a `conditional` family parameter both take the label."""

    def discriminator(self, cfg, seeds):
        from gan_tf.models import networks
        return networks.mlp("discriminator", cfg, networks.IMAGE_DIM, "x",
                            cfg.params.d_hidden, 1, None, seeds)

    def generator(self, cfg, seeds):
        from gan_tf.models import networks
        return networks.mlp("generator", cfg, cfg.z_dim, "z", cfg.params.g_hidden,
                            networks.IMAGE_DIM, cfg.g_output, seeds)


class DcganNetworks:
    """The DCGAN's convolutional networks (models/conv_nets.py), a family's choice
    (mixed in before Family), from its parameters conv_width, d_batch_norm and, where
    it has them, dcgan_fc and conditional."""
    convolutional = True

    def discriminator(self, cfg, seeds):
        from gan_tf.models import conv_nets
        p = cfg.params
        return conv_nets.discriminator(cfg, seeds, p.conv_width, p.d_batch_norm,
                                       getattr(p, "dcgan_fc", 0),
                                       getattr(p, "conditional", False))

    def generator(self, cfg, seeds):
        from gan_tf.models import conv_nets
        return conv_nets.generator(cfg, seeds, cfg.params.conv_width,
                                   getattr(cfg.params, "dcgan_fc", 0))


# --- the Wasserstein critic (WGAN, WGAN-GP), on either family of networks

MAX_CLIP, MAX_GP_WEIGHT = 10.0, 1000.0
CLIP_HELP = ("clip every critic weight to [-clip, clip] after each update (the WGAN: "
             "0.01); 0: no clipping")
GP_HELP = ("weight of the gradient penalty on the critic (WGAN-GP's lambda: 10); 0: "
           "none")


def critic_problems(params, cfg) -> list:
    """The critic's parameters (clip, gp_weight) and the shared options a critic
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
    odd = {"loss": "log", "g_loss": "nonsaturating", "real_label": 1.0,
           "update": "alternating", "d_loss_scale": 1.0}
    bad = [f"{k}={getattr(cfg, k)!r}" for k, v in odd.items() if getattr(cfg, k) != v]
    if bad:
        out.append(f"family {params.FAMILY!r} trains a Wasserstein critic with its own "
                   f"losses: drop {', '.join(bad)}")
    return out


class WassersteinCritic:
    """The WGAN's losses and Lipschitz constraint as the loop's hooks (mixed in
    before Family); the family's Params has `clip` and `gp_weight`. D's output is a
    score: the steps report its mean on the real and the fake batch, whose
    difference is the critic's Wasserstein estimate."""

    def losses(self, cfg):
        from gan_tf.models import wasserstein
        return wasserstein.critic_loss, wasserstein.generator_loss

    def penalised(self, cfg) -> bool:
        return cfg.params.gp_weight > 0

    def d_penalty(self, cfg, d, real, fake, eps):
        from gan_tf.models import wasserstein
        return cfg.params.gp_weight * wasserstein.gradient_penalty(d, real, fake, eps)

    def after_d_update(self, cfg, D):
        if cfg.params.clip > 0:
            from gan_tf.models import wasserstein
            wasserstein.clip_weights(D.trainable_variables, cfg.params.clip)

    def d_means(self, real_logits, fake_logits) -> dict:
        import tensorflow as tf
        return {"d_real": tf.reduce_mean(tf.cast(real_logits, tf.float32)),
                "d_fake": tf.reduce_mean(tf.cast(fake_logits, tf.float32))}

    def describe_loss(self, cfg) -> str:
        p = cfg.params
        how = (f"weights clipped to +-{p.clip}" if p.clip > 0 else
               f"gradient penalty {p.gp_weight}" if p.gp_weight > 0 else "unconstrained")
        return f"Wasserstein critic ({how})"


# --- the image-to-image families (SRGAN, CycleGAN): a G that maps images, trained by
# a trainer of its own, which implements none of the sampling GANs' loop options

IMAGE_TO_IMAGE_OPTIONS = {
    "g_output": "tanh", "g_loss": "nonsaturating", "d_steps": 1, "update": "alternating",
    "d_loss_scale": 1.0, "real_label": 1.0, "g_ema": 0.0, "eval_every": 0,
    "parzen_every": 0, "strategy": "default", "precision": "float32", "same_z": False,
    "fresh_sample_noise": False, "noise": "uniform", "d_lr": 0.0}


def option_problems(cfg, family: str, options: dict, why: str) -> list:
    """One sentence naming every shared option of cfg that differs from `options`
    (name -> the value the family needs), with the values found, and `why`."""
    wrong = [k for k, v in options.items() if getattr(cfg, k) != v]
    if not wrong:
        return []
    return [f"family {family!r} needs {', '.join(f'{k}={options[k]!r}' for k in wrong)} "
            f"(got {', '.join(f'{k}={getattr(cfg, k)!r}' for k in wrong)}): {why}"]

