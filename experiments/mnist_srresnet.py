"""SRResNet: mnist-srgan's network trained on the pixel MSE alone, for as many
iterations (4,000): the paper's MSE baseline (Ledig et al. 2017, Table 2), the
network SRGAN starts from."""

from gan_tf.core.config import Config
from gan_tf.families import srgan


def get_config() -> Config:
    return Config.of(family="srgan", params=srgan.Params(adv_weight=0.0),
                  init="glorot_normal", loss="xent", batch_size=16,
                  lr=1e-4, beta1=0.9, xla=False, iters=4_000, snapshot_every=250,
                  log_every=50)
