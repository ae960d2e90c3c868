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
              its dropout masks there, the packed D packs its input).
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
    trainer = "gan"          # 'gan' (training/loop.Trainer) or 'vae' (training/vae.py)
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

    def discriminator(self, cfg, seeds):
        raise NotImplementedError

    # --- losses and the step hooks

    def losses(self, cfg):
        """(d_loss(real_logits, fake_logits), g_loss(fake_logits)): cfg.loss's form
        of cfg.g_loss's objective (models/losses.py)."""
        from gan_tf.models.losses import get_losses
        return get_losses(cfg)

    def d_logits(self, D, x, y, dropout_seed=None):
        """D's outputs on x (with the one-hot labels y, or None) in training mode.
        `dropout_seed` is the stateless seed of this pass's dropout masks, for a
        family whose D draws them."""
        return D(x if y is None else [x, y], training=True)

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
