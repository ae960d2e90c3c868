"""The Wasserstein GAN (Arjovsky et al. 2017) on the DCGAN's networks, as the paper's
own experiments (its section 4: a DCGAN generator and critic, the critic keeping its
batch norm): mnist-dcgan-10-epochs' 4x4 stride-2 convolutions of 64 and 128 channels,
N(0, 0.02) weights, G with batch norm and a tanh output; D a critic
(gan_tf/families/wgan_dcgan.py) trained as Algorithm 1 and the authors' code
(martinarjovsky/WassersteinGAN, main.py):
  * every critic weight clipped to [-0.01, 0.01] (main.py's --clamp_lower/upper -0.01,
    0.01),
  * 5 critic steps per G step (main.py's --Diters 5), each on its own real batch and z,
  * RMSProp at 5e-5 for both (main.py's --lrD/--lrG 0.00005, optim.RMSprop: PyTorch's
    decay 0.99, no momentum),
  * batch 64 (main.py's --batchSize 64).
Not followed: the 100 critic steps for the first 25 G steps and every 500th (main.py's
Diters), which WGAN-GP's reimplementation drops too; main.py clamps before each critic
step, we clip after it (Algorithm 1's order); z ~ U(-1, 1) as every model here, where
main.py draws N(0, 1); 28x28 images (main.py's 64x64 DCGAN has one more stage).
The budget is what a session's share of 2 CPU cores gives (see docs/gan-family.md for
the row and its time), the quality curve every 100 G steps. XLA off, as every
convolutional run on a CPU."""

from gan_tf.core.config import Config
from gan_tf.families import wgan_dcgan


def get_config() -> Config:
    return Config.of(family="wgan_dcgan",
                  params=wgan_dcgan.Params(conv_width=64, d_batch_norm=True, clip=0.01,
                                           gp_weight=0.0),
                  init="dcgan_normal", g_output="tanh", d_steps=5, optimizer="rmsprop",
                  lr=5e-5, batch_size=64, xla=False, iters=2_000, eval_every=100,
                  snapshot_every=100, log_every=20)
