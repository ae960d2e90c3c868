"""SRGAN at MNIST size (families/srgan.py): 4x super-resolution of 7x7 digits.

The paper's (Ledig et al. 2017, section 3.2) training, scaled: Adam with beta1 0.9
and learning rate 1e-4, minibatches of 16, the pixel MSE as content and 1e-3 x the
adversarial loss, G started from MSE-only training (here the first 2,000 of 4,000
iterations; the paper: 10^6 SRResNet updates, then 10^5 + 10^5 SRGAN updates at
1e-4 and 1e-5). SRResNet at 32 channels and 4 residual blocks (the paper's 64 and
16), D at 32/64 channels and a 512-unit dense layer (the paper's 64 ... 512 and
1024). The D loss in its cross-entropy form. About 9 min on 2 CPU cores."""

from gan_tf.core.config import Config
from gan_tf.families import srgan


def get_config() -> Config:
    return Config.of(family="srgan", params=srgan.Params(adv_weight=1e-3, pretrain_iters=2_000),
                  init="glorot_normal", loss="xent", batch_size=16,
                  lr=1e-4, beta1=0.9, xla=False, iters=4_000, snapshot_every=250,
                  log_every=50)
