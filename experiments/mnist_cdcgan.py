"""The DCGAN of mnist-dcgan-10-epochs (its Results rows were made with it), conditioned on the label as the cGAN is: G sees [z, one-hot
y], D sees the image with y as 10 constant feature maps. Frames are the cGAN's 10x10
grid, one row per digit. (Not one of the tutorials: the two ideas combined, to see
whether convolutions make the conditioning more reliable than the cGAN's MLP.)"""

from gan_tf.core.config import Config, override

from gan_tf.core.experiments import load_experiment


def get_config() -> Config:
    return override(load_experiment("mnist-dcgan-10-epochs"), {"conditional": True})
