"""The second tutorial's deeper MLP GAN: D 784-256-128-1, G 100-256-512-784 with a tanh
output and the data scaled to [-1, 1], Adam 1e-4 for both, and the same z batch for
an iteration's D step and G step. Trained by epochs of the 55,000 training images
(430 iterations of 128 each): 100 epochs, a frame every 5."""

from gan_tf.core.config import Config
from gan_tf.families import mlp

ITERS_PER_EPOCH = 430   # ceil(55,000 / 128)


def get_config() -> Config:
    return Config.of(loss="xent", params=mlp.Params(d_hidden=(256, 128), g_hidden=(256, 512)),
                  g_output="tanh",
                  lr=1e-4, same_z=True, iters=100 * ITERS_PER_EPOCH,
                  snapshot_every=5 * ITERS_PER_EPOCH, log_every=43)
