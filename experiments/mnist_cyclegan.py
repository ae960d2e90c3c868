"""CycleGAN (families/cyclegan.py) between MNIST and MNIST rotated 90 degrees and
inverted, unpaired: the paper's training (Zhu et al. 2017, section 4 and appendix
7.1), scaled: Adam 2e-4 with beta1 0.5, N(0, 0.02) weights, lambda 10, the
least-squares losses; minibatches of 16 instead of 1, a constant learning rate (no
linear decay), G and F with position mixing (the all-convolutional G: `--no-mixing`)."""

from gan_tf.core.config import Config
from gan_tf.families import cyclegan


def get_config() -> Config:
    return Config(family="cyclegan", params=cyclegan.Params(), init="dcgan_normal",
                  g_output="tanh", batch_size=16, lr=2e-4, beta1=0.5, xla=False,
                  iters=3_000, snapshot_every=250, log_every=50)
