"""WGAN-GP (Gulrajani et al. 2017) on the DCGAN's networks (mnist-dcgan-10-epochs':
4x4 stride-2 convolutions of 64 and 128 channels, N(0, 0.02) weights, G with batch
norm and a tanh output), the critic without batch norm (the paper's section 4: the
penalty is per sample), trained as mnist-wgan-gp: lambda 10, 5 critic steps per G
step, Adam 1e-4 with betas (0, 0.9), batch 128.
1,000 G steps (5,000 critic steps, 11.6 epochs of critic batches: what one session
on 2 CPU cores could give it, about 17 min), the quality curve every 100; float32 (the penalty's second derivative through oneDNN's bfloat16
convolutions is not measured). XLA off, as every convolutional run on a CPU."""

from gan_tf.core.config import Config
from gan_tf.families import wgan_dcgan


def get_config() -> Config:
    return Config.of(family="wgan_dcgan",
                  params=wgan_dcgan.Params(conv_width=64, d_batch_norm=False, clip=0.0,
                                           gp_weight=10.0),
                  init="dcgan_normal", g_output="tanh", d_steps=5, lr=1e-4, beta1=0.0,
                  beta2=0.9, xla=False, iters=1_000, eval_every=100, snapshot_every=100,
                  log_every=20)
