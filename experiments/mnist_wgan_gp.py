"""WGAN-GP (Gulrajani et al. 2017) on the tutorial's networks: mnist-wgan's critic
and schedule with the weight clipping replaced by the gradient penalty
(gan_tf/families/wgan.py, models/wasserstein.py), as the paper's Algorithm 1:
  * lambda = 10, the penalty at x^ = x + eps (G(z) - x), eps ~ U[0, 1] per sample,
  * 5 critic steps per G step,
  * Adam with learning rate 1e-4, beta1 0, beta2 0.9 (the paper's defaults; the
    authors' gan_mnist.py uses beta1 0.5 on MNIST).
40,000 G steps with the quality curve every 2,000 (about 8 min a seed on 2 cores);
the critic has no batch norm (the tutorial's MLP has none)."""

from gan_tf.core.config import Config
from gan_tf.families import wgan


def get_config() -> Config:
    return Config.of(family="wgan", params=wgan.Params(clip=0.0, gp_weight=10.0), d_steps=5,
                  lr=1e-4, beta1=0.0, beta2=0.9, iters=40_000, eval_every=2_000,
                  snapshot_every=1_000)
