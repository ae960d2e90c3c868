"""The least-squares GAN (Mao et al. 2017) on the tutorial's networks: the first
tutorial's MLP G and D (784-128-1, z 100-128-784, its xavier_init, z ~ U(-1, 1),
batch 128, 100,000 iterations), with D's sigmoid cross-entropy replaced by the least
squares of gan_tf/families/lsgan.py (a = -1, b = 1, c = 0, the paper's Eq. 8) and
Adam with learning rate 2e-4 and beta1 0.5, the DCGAN's settings, on which Mao et
al. build. Everything else is mnist-basic's."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(family="lsgan", lr=2e-4, beta1=0.5)
