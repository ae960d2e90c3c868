"""PacGAN's packing (Lin et al. 2018): D judges m samples at once, concatenated along
the feature axis, so that a collapsed generator's packs look alike and are caught.

The one operation every packed D here uses (the toys' ToyGAN, the PacGAN paper's 2-D
protocol and its Stacked MNIST DCGAN): a tensor with a slot axis of m samples
becomes one with their features side by side, slot j in features j*d .. j*d + d - 1.
"""

from __future__ import annotations

import tensorflow as tf


def pack(x, slot_axis: int):
    """x with m samples along `slot_axis` -> the same without that axis, each sample's
    last-axis features concatenated in slot order. E.g. (m, B, 28, 28, 3) with
    slot_axis 0 -> (B, 28, 28, 3m); (B, m, 2) with slot_axis 1 -> (B, 2m)."""
    return tf.concat(tf.unstack(x, axis=slot_axis), axis=-1)
