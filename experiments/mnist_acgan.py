"""The auxiliary classifier GAN (Odena et al. 2017) on the cGAN tutorial's settings
(mnist-cgan: the MLP networks, G 110-128-784 on [z, one-hot label], sigmoid
cross-entropy, minibatch 64, the real batch's labels for the fakes, 100,000
iterations), with D 784-128-11 predicting the class instead of being told it
(gan_tf/families/acgan.py, class_weight 1 as the paper). Frames: one row per digit."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(family="acgan", loss="xent", batch_size=64)
