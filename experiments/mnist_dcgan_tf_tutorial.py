"""The DCGAN of TensorFlow's own tutorial (tensorflow.org/tutorials/generative/dcgan),
as a TF user would first meet it, written from its published description:
  * its networks (arch 'dcgan_tutorial', models/networks.py): G Dense 7x7x256 then
    5x5 transposed convolutions 128, 64, 1 with batch norm and LeakyReLU; D 5x5
    convolutions 64, 128 with LeakyReLU and Dropout(0.3), no batch norm,
  * its train_step: z ~ N(0, I) (noise 'gaussian'), one forward pass whose D and G
    losses (binary cross-entropy on logits) are both applied (update 'simultaneous',
    the two GradientTapes of one step),
  * Adam(1e-4) for each with Keras' defaults (beta1 0.9, epsilon 1e-7), batch 256,
    50 epochs (here of the 55,000 training images: 215 iterations each).
XLA off, as for mnist-dcgan (oneDNN's convolutions are faster on a CPU).
"""

from gan_tf.core.config import Config

ITERS_PER_EPOCH = 215   # ceil(55,000 / 256)


def get_config() -> Config:
    return Config.of(family="dcgan_tutorial", g_output="tanh", loss="xent", noise="gaussian",
                  update="simultaneous", lr=1e-4, beta1=0.9, beta2=0.999, adam_eps=1e-7,
                  batch_size=256, xla=False, iters=50 * ITERS_PER_EPOCH,
                  snapshot_every=ITERS_PER_EPOCH, log_every=43)
