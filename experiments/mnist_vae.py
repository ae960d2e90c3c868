"""The VAE of Kingma & Welling (2014) at the tutorial GAN's scale: encoder 784-128-
(mu, log-variance), decoder z-128-784 with a sigmoid, Bernoulli likelihood on the
pixels in [0, 1], z of size 100 (the GAN's), Adam with the GAN's TF1 defaults, the
same 100,000 iterations of 128 images. Sampled and evaluated through generator.keras,
which maps the GAN's u ~ U(-1, 1) to z ~ N(0, I) (see gan_tf/vae.py)."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(family="vae")
