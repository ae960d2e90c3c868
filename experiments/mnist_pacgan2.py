"""PacGAN2 (Lin et al. 2018) on the tutorial's GAN: mnist-basic with D judging packs
of two samples (gan_tf/families/pacgan.py). The batch is 256 images, so that D sees
128 packs a step as the tutorial's D sees 128 images, and G's step 256 samples, as
the authors' code draws pack x batch samples (fjxmlzn/PacGAN); everything else is
mnist-basic's."""

from gan_tf.core.config import Config
from gan_tf.families import pacgan


def get_config() -> Config:
    return Config.of(family="pacgan", params=pacgan.Params(pack=2), batch_size=256)
