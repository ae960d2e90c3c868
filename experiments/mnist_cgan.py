"""The conditional GAN (Mirza & Osindero 2014) as the cGAN tutorial built it: the
tutorial's MLP GAN with the one-hot label concatenated to G's z (110-128-784) and to
D's image (794-128-1), sigmoid cross-entropy losses, minibatch 64, and the real
batch's labels used for the fakes of both steps. Frames are a 10x10 grid: row k is
conditioned on digit k, and each column shares one z."""

from gan_tf.core.config import Config
from gan_tf.families import mlp


def get_config() -> Config:
    return Config.of(params=mlp.Params(conditional=True), loss="xent", batch_size=64)
