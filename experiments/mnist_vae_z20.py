"""mnist-vae with the small latent space of Kingma & Welling's MNIST experiments
(z of size 20); everything else as mnist-vae."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(family="vae", z_dim=20)
