"""The TensorFlow tutorial's vanilla GAN with its hand-written log-loss (the default)."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(loss="log")
