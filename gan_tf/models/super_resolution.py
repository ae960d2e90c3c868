"""SRGAN's networks and terms (Ledig et al. 2017, "Photo-Realistic Single Image
Super-Resolution Using a Generative Adversarial Network"), scaled to MNIST: 4x
super-resolution of 7x7 digits to 28x28.

  downsample        28x28 -> 7x7 by a bicubic kernel (the paper's section 3.2: "we
                    obtained the LR images by downsampling the HR images ... using
                    bicubic kernel with downsampling factor r = 4"), antialiased so
                    that it is a true 4x reduction, not a sampling of every 4th pixel
  upsample_bicubic  7x7 -> 28x28 bicubic interpolation: the baseline every SR method
                    is measured against
  generator         the paper's Figure 4 (SRResNet): a 9x9 convolution and PReLU, B
                    residual blocks (3x3 conv, batch norm, PReLU, 3x3 conv, batch
                    norm, skip), a 3x3 convolution and batch norm with the long skip,
                    two x2 sub-pixel upsamplings (conv to 4 C channels, PixelShuffle,
                    PReLU) and a 9x9 convolution to the image; the paper's 64
                    channels and 16 blocks are `width` and `blocks` here
  discriminator     the paper's Figure 4 (D): 3x3 convolutions of k, k (stride 2), 2k,
                    2k (stride 2) ... with batch norm (not on the first) and
                    LeakyReLU(0.2), a dense layer of 16k (the paper's 1024 for k 64)
                    and LeakyReLU, one logit. 28x28 has room for two of the paper's
                    four stride-2 stages (28 -> 14 -> 7)
  content_loss      the pixel-wise MSE (the paper's Eq. 4, l_MSE, SRGAN-MSE's content)
Images are flat 784-vectors in tanh's [-1, 1] (7x7 inputs flat 49-vectors), as
every model's in this project.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_tf.models.networks import IMAGE_DIM, PixelShuffle, batch_norm, kernel_init

FACTOR = 4
HR_SIDE = 28
LR_SIDE = HR_SIDE // FACTOR
LR_DIM = LR_SIDE * LR_SIDE


def downsample(x):
    """(B, 784) images -> (B, 49): the bicubic kernel, antialiased, 28 -> 7."""
    img = tf.reshape(tf.cast(x, tf.float32), [-1, HR_SIDE, HR_SIDE, 1])
    small = tf.image.resize(img, [LR_SIDE, LR_SIDE], method="bicubic", antialias=True)
    return tf.reshape(small, [-1, LR_DIM])


def upsample_bicubic(lr):
    """(B, 49) -> (B, 784): bicubic interpolation 7 -> 28, clipped to [-1, 1] (the
    cubic overshoots at strokes' edges)."""
    img = tf.reshape(tf.cast(lr, tf.float32), [-1, LR_SIDE, LR_SIDE, 1])
    big = tf.image.resize(img, [HR_SIDE, HR_SIDE], method="bicubic")
    return tf.clip_by_value(tf.reshape(big, [-1, IMAGE_DIM]), -1.0, 1.0)


def upsample_nearest(lr):
    """(B, 49) -> (B, 784): each low-resolution pixel as a 4x4 block (what the
    network is given, at the size of its output, for pictures)."""
    img = tf.reshape(tf.cast(lr, tf.float32), [-1, LR_SIDE, LR_SIDE, 1])
    big = tf.image.resize(img, [HR_SIDE, HR_SIDE], method="nearest")
    return tf.reshape(big, [-1, IMAGE_DIM])


def content_loss(sr, hr):
    """The pixel-wise MSE, mean over pixels and the batch (l_MSE of Eq. 4)."""
    return tf.reduce_mean(tf.square(tf.cast(sr, tf.float32) - tf.cast(hr, tf.float32)))


def _conv(cfg, seeds, filters, size, name, strides=1, bias=True):
    return keras.layers.Conv2D(filters, size, strides=strides, padding="same",
                               use_bias=bias, name=name,
                               kernel_initializer=kernel_init(cfg.params.init, next(seeds)))


def _prelu(name):
    # One slope per channel, shared over the image (PReLU as the paper's Figure 4 uses
    # it, after He et al. 2015).
    return keras.layers.PReLU(shared_axes=[1, 2], name=name)


def generator(cfg, seeds, width: int, blocks: int):
    """(B, 49) low-resolution images -> (B, 784): SRResNet at `width` channels with
    `blocks` residual blocks, a tanh output."""
    lr = keras.Input((LR_DIM,), name="lr")
    h = keras.layers.Reshape((LR_SIDE, LR_SIDE, 1), name="lr_image")(lr)
    h = _prelu("head_prelu")(_conv(cfg, seeds, width, 9, "head")(h))
    skip = h
    for i in range(1, blocks + 1):
        # No bias before batch norm: its beta is the bias.
        r = _conv(cfg, seeds, width, 3, f"block{i}_conv1", bias=False)(h)
        r = _prelu(f"block{i}_prelu")(batch_norm(cfg, f"block{i}_bn1")(r))
        r = _conv(cfg, seeds, width, 3, f"block{i}_conv2", bias=False)(r)
        r = batch_norm(cfg, f"block{i}_bn2")(r)
        h = keras.layers.Add(name=f"block{i}_sum")([h, r])
    h = batch_norm(cfg, "trunk_bn")(_conv(cfg, seeds, width, 3, "trunk", bias=False)(h))
    h = keras.layers.Add(name="long_skip")([h, skip])
    for i in (1, 2):   # 7 -> 14 -> 28
        h = _conv(cfg, seeds, 4 * width, 3, f"up{i}_conv")(h)
        h = _prelu(f"up{i}_prelu")(PixelShuffle(2, name=f"up{i}_shuffle")(h))
    h = _conv(cfg, seeds, 1, 9, "tail")(h)
    h = keras.layers.Reshape((IMAGE_DIM,), name="flat")(h)
    out = keras.layers.Activation("tanh", name="out")(h)
    return keras.Model(lr, out, name="generator")


def discriminator(cfg, seeds, width: int):
    """(B, 784) images -> (B, 1) logit: SRGAN's D at 28x28 (two stride-2 stages)."""
    x = keras.Input((IMAGE_DIM,), name="x")
    h = keras.layers.Reshape((HR_SIDE, HR_SIDE, 1), name="image")(x)
    stages = ((width, 1), (width, 2), (2 * width, 1), (2 * width, 2))
    for i, (filters, stride) in enumerate(stages, 1):
        first = i == 1
        h = keras.layers.Conv2D(filters, 3, strides=stride, padding="same",
                                use_bias=first, name=f"conv{i}",
                                kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                               "discriminator"))(h)
        if not first:   # the paper's D: no batch norm on its first convolution
            h = batch_norm(cfg, f"conv{i}_bn")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"conv{i}_lrelu")(h)
    h = keras.layers.Flatten(name="flatten")(h)
    h = keras.layers.Dense(16 * width, name="dense",
                           kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                          "discriminator"))(h)
    h = keras.layers.LeakyReLU(0.2, name="dense_lrelu")(h)
    out = keras.layers.Dense(1, name="out",
                             kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                            "discriminator"))(h)
    return keras.Model(x, out, name="discriminator")
