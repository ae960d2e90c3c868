"""The DCGAN's networks (Radford et al. 2016) at MNIST size: the blocks of the
families that train them (families/dcgan.py, and the Wasserstein critic on the same
networks, families/wgan_dcgan.py).

The DCGAN guidelines: D strides 28 -> 14 -> 7 with 4x4 convolutions and
LeakyReLU(0.2), G projects z to 7x7 and upsamples with 4x4 transposed
convolutions; batch norm in both (not on D's input layer nor G's output layer),
ReLU in G, a tanh output, no pooling, no hidden fully connected layers (unless
`fc`, InfoGAN's MNIST networks). A conditional D sees the image with the label as
10 constant feature maps. The wide layers are models/fast_ops.py's (their gradients
on the forward kernels), every batch norm its fused kernel.
"""

from __future__ import annotations

import keras

from gan_tf.models.fast_ops import FastConv2D, FastConv2DTranspose, WideDense
from gan_tf.models.networks import (IMAGE_DIM, NUM_CLASSES, batch_norm, float32_if_mixed,
                                    kernel_init, model_inputs)


def discriminator(cfg, seeds, width: int, d_batch_norm: bool = True, fc: int = 0,
                  conditional: bool = False):
    """x (batch, 784) [, one-hot label] -> D's output (batch, 1): 4x4 stride-2
    convolutions of `width` and 2 x `width` channels, LeakyReLU(0.2), batch norm on the
    second (d_batch_norm), a fully connected layer of `fc` units (0: none)."""
    w = width
    x = keras.Input((IMAGE_DIM,), name="x")
    h = keras.layers.Reshape((28, 28, 1), name="image")(x)
    inputs = x
    if conditional:
        y = keras.Input((NUM_CLASSES,), name="label")
        maps = keras.layers.Reshape((1, 1, NUM_CLASSES))(y)
        maps = keras.layers.UpSampling2D(28, name="label_maps")(maps)   # an exact tile
        h = keras.layers.Concatenate(name="with_label")([h, maps])
        inputs = [x, y]

    def conv(h, filters, name, bn, layer=keras.layers.Conv2D):
        # No bias where batch norm follows: its beta is the bias.
        h = layer(filters, 4, strides=2, padding="same", use_bias=not bn,
                  kernel_initializer=kernel_init(cfg.params.init, next(seeds), "discriminator"),
                  name=name)(h)
        if bn:
            h = batch_norm(cfg, name + "_bn")(h)
        return keras.layers.LeakyReLU(0.2, name=name + "_lrelu")(h)
    h = conv(h, w, "conv1", bn=False)      # DCGAN: no batch norm on D's input layer
    # The wide layers' gradients on the forward kernels (models/fast_ops.py: D's
    # conv2 and G's deconv1 1.9x and 2.3x a training step on an AVX2 host). Not on
    # the one-channel sides (conv1, deconv2), where the rearrangement costs more
    # than it saves there (0.84x, 0.78x).
    h = conv(h, 2 * w, "conv2", bn=d_batch_norm, layer=FastConv2D)   # 14 -> 7
    h = keras.layers.Flatten(name="flatten")(h)
    if fc:   # InfoGAN's MNIST D: a fully connected layer before the logit
        h = WideDense(fc, use_bias=False, name="fc",
                      kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                     "discriminator"))(h)
        h = keras.layers.LeakyReLU(0.2, name="fc_lrelu")(batch_norm(cfg, "fc_bn")(h))
    out = keras.layers.Dense(1, name="out", bias_initializer="zeros",
                             kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                            "discriminator"),
                             **float32_if_mixed(cfg))(h)
    return keras.Model(inputs, out, name="discriminator")

def generator(cfg, seeds, width: int, fc: int = 0):
    """z (batch, z_dim) [, one-hot label] -> image (batch, 784): z projected to 7x7 x
    2 `width`, a 4x4 stride-2 transposed convolution to 14x14 x `width`, another to
    28x28 x 1, batch norm and ReLU between, cfg.g_output at the end; a fully connected
    layer of `fc` units first (0: none)."""
    w = width
    inputs, h = model_inputs(cfg, (cfg.z_dim,), "z")
    if fc:   # InfoGAN's MNIST G: a fully connected layer before the projection
        h = keras.layers.Dense(fc, use_bias=False, name="fc",
                               kernel_initializer=kernel_init(cfg.params.init, next(seeds)))(h)
        h = keras.layers.ReLU(name="fc_relu")(batch_norm(cfg, "fc_bn")(h))
    h = keras.layers.Dense(7 * 7 * 2 * w, use_bias=False, name="project",
                           kernel_initializer=kernel_init(cfg.params.init, next(seeds)))(h)
    h = batch_norm(cfg, "project_bn")(h)
    h = keras.layers.ReLU(name="project_relu")(h)
    h = keras.layers.Reshape((7, 7, 2 * w), name="to_maps")(h)
    h = FastConv2DTranspose(w, 4, strides=2, padding="same", use_bias=False,
                            kernel_initializer=kernel_init(cfg.params.init, next(seeds)),
                            name="deconv1")(h)                       # 14x14
    h = batch_norm(cfg, "deconv1_bn")(h)
    h = keras.layers.ReLU(name="deconv1_relu")(h)
    h = keras.layers.Conv2DTranspose(1, 4, strides=2, padding="same",        # 28x28
                                     kernel_initializer=
                                         kernel_init(cfg.params.init, next(seeds)),
                                     name="deconv2")(h)
    h = keras.layers.Reshape((IMAGE_DIM,), name="flat")(h)
    out = keras.layers.Activation(cfg.g_output, name="out", **float32_if_mixed(cfg))(h)
    return keras.Model(inputs, out, name="generator")
