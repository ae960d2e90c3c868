"""The Wasserstein GAN (Arjovsky et al. 2017) on the tutorial's networks: the first
tutorial's MLP G and D (784-128-1, z 100-128-784, its xavier_init, z ~ U(-1, 1),
batch 128), D a critic (gan_tf/families/wgan.py) trained as the paper's Algorithm 1:
  * every critic weight clipped to [-0.01, 0.01] after each update (c = 0.01),
  * 5 critic steps per G step (n_critic = 5), each on its own real batch and z,
  * RMSProp with learning rate 5e-5 for both (alpha = 5e-5), as the authors' code
    (martinarjovsky/WassersteinGAN, main.py: optim.RMSprop(lr=opt.lrD), PyTorch's
    decay 0.99 and no momentum).
Not followed: the authors' 100 critic steps for the first 25 G steps and every
500th (main.py's Diters), which WGAN-GP's reimplementation also drops.
40,000 G steps (200,000 critic steps: twice the tutorial's D updates), with the
quality curve every 2,000, about 5 min a seed on 2 cores. Everything else is
mnist-basic's."""

from gan_tf.core.config import Config
from gan_tf.families import wgan


def get_config() -> Config:
    return Config.of(family="wgan", params=wgan.Params(clip=0.01, gp_weight=0.0), d_steps=5,
                  optimizer="rmsprop", lr=5e-5, iters=40_000, eval_every=2_000,
                  snapshot_every=1_000)
