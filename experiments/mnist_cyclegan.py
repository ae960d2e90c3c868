"""CycleGAN (families/cyclegan.py) between MNIST and MNIST rotated 90 degrees and
inverted, unpaired: the paper's training (Zhu et al. 2017, section 4 and appendix
7.1) as the authors' code runs it (junyanz/pytorch-CycleGAN-and-pix2pix), scaled:
  * Adam 2e-4 with beta1 0.5 for G and F together and for both Ds together
    (cycle_gan_model.py: optimizer_G over itertools.chain(netG_A, netG_B); train
    options --lr 0.0002 --beta1 0.5), N(0, 0.02) weights (--init_type normal, gain
    0.02), the least-squares losses (--gan_mode lsgan), lambda 10 (--lambda_A/B 10);
  * the identity term at 0.5 lambda (--lambda_identity 0.5) and a pool of 50 earlier
    fakes for each D (--pool_size 50): the Params' defaults;
  * the learning rate constant for the first half, then falling linearly (--n_epochs
    100 --n_epochs_decay 100, --lr_policy linear): here in iterations, 1,500 + 1,500;
  * minibatches of 16 instead of 1 (--batch_size 1), and G and F with position mixing
    (the all-convolutional G: `--no-mixing`).
The paper's own recipe without the code's additions (what the first rows used):
`--identity-weight 0 --pool-size 0 --decay-iters 0`."""

from gan_tf.core.config import Config
from gan_tf.families import cyclegan

ITERS = 3_000


def get_config() -> Config:
    return Config.of(family="cyclegan",
                  params=cyclegan.Params(decay_start=ITERS // 2, decay_iters=ITERS // 2),
                  init="dcgan_normal", batch_size=16, lr=2e-4, beta1=0.5,
                  xla=False, iters=ITERS, snapshot_every=250, log_every=50)
