"""CycleGAN's networks and terms (Zhu et al. 2017, "Unpaired Image-to-Image Translation
using Cycle-Consistent Adversarial Networks"), scaled to MNIST, and the task with a
known answer it is measured on.

  to_b, to_a          the fixed map between the two domains, and its inverse:
                      domain B is MNIST rotated 90 degrees counter-clockwise and
                      inverted (x -> -x in tanh's range); the model is never told it
  generator           the paper's ResNet generator (its appendix 7.2: c7s1-k, d2k,
                      d4k, R residual blocks of 4k, u2k, uk, c7s1-3) at k = `width`,
                      instance norm and ReLU, one output channel and tanh; 28 -> 14 -> 7
                      and back. `mixing` adds, in the middle, one fully connected
                      layer across the 7x7 positions, shared by the channels (the
                      token mixing of Tolstikhin et al. 2021's MLP-Mixer): the
                      paper's all-convolutional G can only move content as far as its
                      receptive field, with the same filter everywhere, and names
                      geometric changes as its failure case (section 5.3)
  discriminator       the paper's PatchGAN (C64-C128-C256-C512, 4x4 convolutions,
                      instance norm but not on the first, LeakyReLU 0.2, a 1-channel
                      convolution last) at k = `width` with its first two stages
                      strided (28 -> 14 -> 7): a 7x7 map of scores, one per patch
  d_loss, g_loss      the least-squares GAN's terms the paper trains with (section 4:
                      "we replace the negative log likelihood objective by a least-
                      squares loss"), D's halved as the paper does
  cycle_loss          the L1 distance of x and its round trip (the paper's Eq. 2);
                      also the identity term |G(b) - b|_1 (section 5.2)
  pool_query          the history of generated images D is updated with (section 4,
                      after Shrivastava et al. 2017), as the authors' ImagePool.query
  decayed_lr          the authors' learning rate: constant, then linear towards 0
Images are flat 784-vectors in [-1, 1].
"""

from __future__ import annotations

import keras
import tensorflow as tf

from gan_tf.models.networks import IMAGE_DIM, PositionMixing, kernel_init

SIDE = 28


def _images(x):
    return tf.reshape(tf.cast(x, tf.float32), [-1, SIDE, SIDE, 1])


# The fixed maps A -> B a run may learn (families/cyclegan.py's domain_map): the
# rotation and inversion together (the task's default), or either alone, so that a
# geometric change and a change of appearance can be measured apart.
DOMAIN_MAPS = ("rotate_invert", "invert", "rotate")


def _check(domain_map: str) -> None:
    if domain_map not in DOMAIN_MAPS:
        raise ValueError(f"domain_map must be one of {DOMAIN_MAPS}, got {domain_map!r}")


def to_b(x, domain_map: str = "rotate_invert"):
    """Domain A -> B, the fixed map: rotate 90 degrees counter-clockwise and/or invert."""
    _check(domain_map)
    y = _images(x)
    if domain_map != "invert":
        y = tf.image.rot90(y, k=1)
    if domain_map != "rotate":
        y = -y
    return tf.reshape(y, [-1, IMAGE_DIM])


def to_a(x, domain_map: str = "rotate_invert"):
    """Domain B -> A: to_b's inverse (invert and/or rotate 90 degrees clockwise)."""
    _check(domain_map)
    y = _images(x)
    if domain_map != "rotate":
        y = -y
    if domain_map != "invert":
        y = tf.image.rot90(y, k=3)
    return tf.reshape(y, [-1, IMAGE_DIM])


def d_loss(real_scores, fake_scores):
    """1/2 (mean((D(b) - 1)^2) + mean(D(G(a))^2)), over every patch."""
    return 0.5 * (tf.reduce_mean(tf.square(tf.cast(real_scores, tf.float32) - 1.0))
                  + tf.reduce_mean(tf.square(tf.cast(fake_scores, tf.float32))))


def g_loss(fake_scores):
    """mean((D(G(a)) - 1)^2), over every patch."""
    return tf.reduce_mean(tf.square(tf.cast(fake_scores, tf.float32) - 1.0))


def cycle_loss(x, round_trip):
    """mean |round_trip - x| (the L1 norm of Eq. 2, as a mean over pixels)."""
    return tf.reduce_mean(tf.abs(tf.cast(round_trip, tf.float32) - tf.cast(x, tf.float32)))


def pool_query(pool, filled, images, u, slots):
    """One query of the history pool, the authors' ImagePool.query (junyanz/pytorch-
    CycleGAN-and-pix2pix, util/image_pool.py) as a pure function, image by image in
    the batch's order: while the pool holds fewer than its size, an image is stored
    and returned itself; once it is full, an image with u > 0.5 is stored in `slots`'
    place and the image that was there is returned, any other image is returned
    itself. Returns (the new pool, the new count, the images D is shown).

    pool (size, d) and filled (scalar integer, how many slots hold images) are the
    state; images (n, d); u (n,) in [0, 1) and slots (n,) in 0 .. size - 1 are the
    query's random draws (training/streams.pool_draws)."""
    size = pool.shape[0]
    out = []
    for i in range(images.shape[0]):
        x = images[i]
        full = filled >= size
        swap = tf.logical_and(full, u[i] > 0.5)
        idx = tf.where(full, tf.cast(slots[i], filled.dtype), tf.minimum(filled, size - 1))
        old = pool[idx]
        out.append(tf.where(swap, old, x))
        new = tf.where(tf.logical_or(swap, tf.logical_not(full)), x, old)
        pool = tf.tensor_scatter_nd_update(pool, tf.reshape(idx, [1, 1]), new[None])
        filled = filled + tf.cast(tf.logical_not(full), filled.dtype)
    return pool, filled, tf.stack(out)


def decayed_lr(lr, t, decay_start: int, decay_iters: int):
    """The learning rate of iteration t (from 0): `lr` until decay_start, then falling
    linearly over decay_iters iterations to lr / (decay_iters + 1) at the last, the
    authors' 'linear' policy (networks.py get_scheduler: lr_l = 1 - max(0, epoch +
    epoch_count - n_epochs) / (n_epochs_decay + 1)) with iterations for epochs.
    decay_iters 0: constant."""
    if decay_iters <= 0:
        return tf.constant(lr, tf.float32)
    past = tf.maximum(0.0, tf.cast(t, tf.float32) + 1.0 - decay_start)
    return lr * (1.0 - past / (decay_iters + 1.0))


def _instance_norm(name):
    # GroupNormalization with one group per channel is instance normalisation.
    return keras.layers.GroupNormalization(groups=-1, epsilon=1e-5, name=name)


def generator(cfg, seeds, width: int, blocks: int, mixing: bool, name: str = "generator"):
    """(B, 784) -> (B, 784): the ResNet generator at `width`, `blocks` residual
    blocks at 7x7, the position mixing (where `mixing`) after them."""
    k = width
    # Layer names (so weight and optimizer-slot names) of F carry its model's name: one
    # optimizer updates G and F together, and a checkpoint names every slot.
    pre = "" if name == "generator" else name + "_"

    def conv(h, filters, size, lname, strides=1, layer=keras.layers.Conv2D):
        lname = pre + lname
        h = layer(filters, size, strides=strides, padding="same", use_bias=False,
                  name=lname, kernel_initializer=kernel_init(cfg.params.init, next(seeds)))(h)
        return keras.layers.ReLU(name=lname + "_relu")(_instance_norm(lname + "_in")(h))
    x = keras.Input((IMAGE_DIM,), name="x")
    h = keras.layers.Reshape((SIDE, SIDE, 1), name=f"{pre}image")(x)
    h = conv(h, k, 7, "c7s1")
    h = conv(h, 2 * k, 3, "d1", strides=2)      # 14x14
    h = conv(h, 4 * k, 3, "d2", strides=2)      # 7x7
    for i in range(1, blocks + 1):
        r = conv(h, 4 * k, 3, f"block{i}_conv1")
        r = keras.layers.Conv2D(4 * k, 3, padding="same", use_bias=False,
                                name=f"{pre}block{i}_conv2",
                                kernel_initializer=kernel_init(cfg.params.init, next(seeds)))(r)
        r = _instance_norm(f"{pre}block{i}_in2")(r)
        h = keras.layers.Add(name=f"{pre}block{i}_sum")([h, r])
    if mixing:
        h = keras.layers.Add(name=f"{pre}mixing_sum")(
            [h, PositionMixing(seed=next(seeds), name=f"{pre}mixing")(h)])
    h = conv(h, 2 * k, 3, "u1", strides=2, layer=keras.layers.Conv2DTranspose)   # 14x14
    h = conv(h, k, 3, "u2", strides=2, layer=keras.layers.Conv2DTranspose)       # 28x28
    h = keras.layers.Conv2D(1, 7, padding="same", name=f"{pre}out_conv",
                            kernel_initializer=kernel_init(cfg.params.init, next(seeds)))(h)
    h = keras.layers.Reshape((IMAGE_DIM,), name=f"{pre}flat")(h)
    out = keras.layers.Activation("tanh", name=f"{pre}out")(h)
    return keras.Model(x, out, name=name)


def discriminator(cfg, seeds, width: int, name: str = "discriminator"):
    """(B, 784) -> (B, 49): the PatchGAN's 7x7 scores, flat."""
    pre = "" if name == "discriminator" else name + "_"   # (as the generator's)
    x = keras.Input((IMAGE_DIM,), name="x")
    h = keras.layers.Reshape((SIDE, SIDE, 1), name=f"{pre}image")(x)
    stages = ((width, 2), (2 * width, 2), (4 * width, 1))
    for i, (filters, stride) in enumerate(stages, 1):
        h = keras.layers.Conv2D(filters, 4, strides=stride, padding="same", use_bias=i == 1,
                                name=f"{pre}conv{i}",
                                kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                               "discriminator"))(h)
        if i > 1:   # the paper: no normalisation on C64, the first
            h = _instance_norm(f"{pre}conv{i}_in")(h)
        h = keras.layers.LeakyReLU(0.2, name=f"{pre}conv{i}_lrelu")(h)
    h = keras.layers.Conv2D(1, 4, padding="same", name=f"{pre}scores",
                            kernel_initializer=kernel_init(cfg.params.init, next(seeds),
                                                           "discriminator"))(h)
    out = keras.layers.Reshape((49,), name=f"{pre}flat")(h)
    return keras.Model(x, out, name=name)
