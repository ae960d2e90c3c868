"""InfoGAN (Chen et al. 2016) on the cGAN tutorial's settings (mnist-cgan and
mnist-acgan: the MLP networks with 128 hidden units, sigmoid cross-entropy,
minibatch 64, 100,000 iterations) with the paper's MNIST codes
(gan_tf/families/infogan.py): z = 62 noise values, one 10-way categorical code and 2
continuous codes (z_dim 65, every value drawn from U(-1, 1); the categorical code is
z[:, 62]'s bin), lambda 1. The paper's own learning rates (D 2e-4, G 1e-3) and conv
networks are not used here: only the codes and the mutual-information term differ
from mnist-acgan's setting."""

from gan_tf.core.config import Config
from gan_tf.families import infogan


def get_config() -> Config:
    return Config.of(family="infogan", params=infogan.Params(categorical=10, continuous=2,
                                                          info_weight=1.0),
                  z_dim=65, loss="xent", batch_size=64)
