"""The first recipe of mnist-dcgan (until 2026-12), kept as the Results' 10-epoch rows
were made with it, and as mnist-cdcgan's base: DCGAN (Radford, Metz & Chintala 2016) at MNIST size, following its guidelines:
strided convolutions in D, transposed convolutions in G, batch norm in both, ReLU in
G with a tanh output (data in [-1, 1]), LeakyReLU(0.2) in D, no pooling, and no
hidden fully connected layers. Its training recipe: Adam lr 2e-4 with beta1 0.5,
minibatch 128, weights from N(0, 0.02). 10 epochs of the 55,000 training images
(430 iterations each), a frame every half epoch.

XLA is off: on this 2-core CPU XLA's convolutions ran the loop at 0.4 it/s against
13 it/s for TensorFlow's own (oneDNN) kernels. On a GPU turn it on with --xla."""

from gan_tf.core.config import Config
from gan_tf.families import dcgan

ITERS_PER_EPOCH = 430   # ceil(55,000 / 128)


def get_config() -> Config:
    return Config.of(family="dcgan", params=dcgan.Params(conv_width=64), init="dcgan_normal", g_output="tanh",
                  loss="xent", lr=2e-4, beta1=0.5, xla=False,
                  iters=10 * ITERS_PER_EPOCH, snapshot_every=ITERS_PER_EPOCH // 2,
                  log_every=43)
