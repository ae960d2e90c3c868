"""The same GAN with the tutorial's second loss: sigmoid_cross_entropy_with_logits."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(loss="xent")
