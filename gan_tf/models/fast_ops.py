"""The DCGAN's layers computed with TensorFlow's fast CPU kernels: same layers, same
weights, same values up to the order of the float additions.

On a CPU TensorFlow (oneDNN) runs a forward convolution and a plain matmul near the
machine's peak, but the kernels it uses for their gradients far below it. Measured on
a 2-core AVX2 host at mnist-dcgan's shapes (batch 128; docs/speed.md, "Where the
DCGAN's iteration goes"):

    op (D's conv2: 14x14x64 -> 7x7x128, 4x4, stride 2)    GFLOP/s
    Conv2D (forward)                                        136
    Conv2DBackpropInput (input gradient, and G's deconv1)    37
    Conv2DBackpropFilter (weight gradient)                   39
    the input gradient as one stride-1 Conv2D (below)       114
    the weight gradient as one dilated Conv2D (below)        87
    MatMul(dy, W, transpose_b) (a dense layer's dx)          29   (D's fc: 128 x 1024 . 1024 x 6272)
    the same as (W dy^T)^T                                  132

So each gradient here is written as the forward op of another shape:

* A 4x4, stride-2, 'same' convolution of an image of even size is a 2x2, stride-1,
  'valid' convolution of its space-to-depth rearrangement (each 2x2 block of pixels
  as 4C channels, after the one-pixel padding 'same' adds on every side): the
  kernel's 16 taps split by the parity of their row and column into four 2x2
  sub-kernels. Its input gradient (the transposed convolution, which is also G's
  upsampling layer) is then the stride-1 'full' correlation of dy with those
  sub-kernels flipped, rearranged back with depth-to-space: one forward Conv2D, no
  zeros inserted, the same multiply-adds as the transposed convolution itself.
* The weight gradient dW[kh, kw, ci, co] = sum over b, i, j of
  x_pad[b, 2i + kh, 2j + kw, ci] dy[b, i, j, co] is a forward Conv2D with the batch
  as the channels: x_pad as (ci, H, W, b) images filtered by dy as a (7, 7, b, co)
  kernel dilated by 2.

These forms are for CPUs. On a GPU cuDNN's and cuBLAS's own gradient kernels are
fast, and the rearrangements above (transposes, space-to-depth, a dilated
convolution with the batch as channels) only add memory traffic; so each layer
decides by the device its weights live on, which is where TensorFlow runs it: the
CPU form on a CPU, TensorFlow's own computation elsewhere. Same class, weights and
names either way, so checkpoints and saved generators do not depend on where they
were trained. `computation(...)` forces the choice (tests run both on one CPU).

Each gradient's ops are named under .../fast_grad/input_gradient and
.../fast_grad/weight_gradient, so the profile (studies/benchmarks/profile_dcgan.py) attributes
them to their layer and pass. The gradients are themselves built of differentiable
ops, so a second derivative (a gradient penalty) goes through them.
"""

from __future__ import annotations

import contextlib

import keras
import tensorflow as tf

_PAD = [[0, 0], [1, 1], [1, 1], [0, 0]]      # 'same' for 4x4, stride 2, even sizes

CPU_TUNED, TENSORFLOW = "cpu-tuned", "tensorflow"
_forced = None      # None: by the device (cpu_tuned); else CPU_TUNED or TENSORFLOW


@contextlib.contextmanager
def computation(which: str | None):
    """Within it, the layers here trace the CPU-tuned computation (CPU_TUNED) or
    TensorFlow's own (TENSORFLOW) whatever the device; None: by the device."""
    global _forced
    if which not in (None, CPU_TUNED, TENSORFLOW):
        raise ValueError(f"computation must be {CPU_TUNED!r}, {TENSORFLOW!r} or None, "
                         f"not {which!r}")
    before, _forced = _forced, which
    try:
        yield
    finally:
        _forced = before


def cpu_tuned(layer) -> bool:
    """Whether `layer` computes in the CPU-tuned form: forced by `computation`, else
    where its kernel lives on a CPU (TensorFlow runs a layer's ops beside its
    weights; a GPU run places them on the GPU, a mirrored run on each replica's)."""
    if _forced is not None:
        return _forced == CPU_TUNED
    variable = getattr(layer.kernel, "value", layer.kernel)
    device = getattr(variable, "device", "") or ""
    if device:
        return tf.DeviceSpec.from_string(device).device_type in (None, "CPU")
    return not tf.config.list_logical_devices("GPU")


def _scope(scope: str, part: str) -> str:
    return f"{scope}/fast_grad/{part}/" if scope else f"fast_grad/{part}/"


def matmul_fast_input_grad(scope: str = ""):
    """x @ w as a function of (x, w) whose gradient for x is computed as (w @ dy^T)^T
    instead of TensorFlow's dy @ w^T (MatMul with transpose_b): on a 2-core AVX2 host
    TensorFlow's form ran D's fc layer at 29 GFLOP/s against 132 for this one, and
    that layer's input gradient was 23% of mnist-dcgan's float32 iteration."""

    @tf.custom_gradient
    def matmul(x, w):
        def grad(dy):
            with tf.name_scope(_scope(scope, "input_gradient")):
                dx = tf.transpose(tf.matmul(w, dy, transpose_b=True))
            with tf.name_scope(_scope(scope, "weight_gradient")):
                dw = tf.matmul(x, dy, transpose_a=True)
            return dx, dw
        return tf.matmul(x, w), grad
    return matmul


def _sub_kernels(w):
    """A (4, 4, C, F) kernel as the (2, 2, 4C, F) kernel of its space-to-depth form:
    w[2a + r, 2c + s, ci, f] at [a, c, (2r + s) C + ci, f], the channel order of
    tf.nn.space_to_depth."""
    k = tf.reshape(w, [2, 2, 2, 2, w.shape[2], w.shape[3]])         # a, r, c, s, C, F
    return tf.reshape(tf.transpose(k, [0, 2, 1, 3, 4, 5]), [2, 2, 4 * w.shape[2], w.shape[3]])


def conv_transpose_s2k4(dy, w):
    """The transposed convolution of a 4x4, stride-2, 'same' convolution with kernel
    w (C, F): dy (B, H/2, W/2, F) -> (B, H, W, C), as one stride-1 forward Conv2D on
    the sub-kernels, flipped and with their input and output channels swapped."""
    flipped = tf.transpose(tf.reverse(_sub_kernels(w), [0, 1]), [0, 1, 3, 2])
    blocks = tf.nn.conv2d(tf.pad(dy, _PAD), flipped, 1, "VALID")       # (B, H/2+1, W/2+1, 4C)
    return tf.nn.depth_to_space(blocks, 2)[:, 1:-1, 1:-1, :]


def conv_weight_grad_s2k4(x, dy):
    """dW (4, 4, C, F) of the 4x4, stride-2, 'same' convolution of x (B, H, W, C)
    with output gradient dy (B, H/2, W/2, F), as one dilated forward Conv2D with the
    batch as its channels."""
    images = tf.transpose(tf.pad(x, _PAD), [3, 1, 2, 0])              # (C, H+2, W+2, B)
    kernel = tf.transpose(dy, [1, 2, 0, 3])                            # (H/2, W/2, B, F)
    dw = tf.nn.conv2d(images, kernel, 1, "VALID", dilations=2)         # (C, 4, 4, F)
    return tf.transpose(dw, [1, 2, 0, 3])


def conv_s2k4(scope: str = ""):
    """tf.nn.conv2d(x, w, 2, 'SAME') for a 4x4 kernel, with both gradients on the
    forward kernel (module docstring)."""

    @tf.custom_gradient
    def conv(x, w):
        def grad(dy):
            with tf.name_scope(_scope(scope, "input_gradient")):
                dx = conv_transpose_s2k4(dy, w)
            with tf.name_scope(_scope(scope, "weight_gradient")):
                dw = conv_weight_grad_s2k4(x, dy)
            return dx, dw
        return tf.nn.conv2d(x, w, 2, "SAME"), grad
    return conv


def deconv_s2k4(scope: str = ""):
    """The 4x4, stride-2, 'same' transposed convolution of h (B, H, W, F) with a
    Conv2DTranspose kernel w (4, 4, C, F), to (B, 2H, 2W, C): its forward pass is
    conv_transpose_s2k4, its input gradient the stride-2 forward Conv2D, its weight
    gradient conv_weight_grad_s2k4 with the roles of input and output swapped."""

    @tf.custom_gradient
    def deconv(h, w):
        def grad(dy):
            with tf.name_scope(_scope(scope, "input_gradient")):
                dh = tf.nn.conv2d(dy, w, 2, "SAME")
            with tf.name_scope(_scope(scope, "weight_gradient")):
                dw = conv_weight_grad_s2k4(dy, h)
            return dh, dw
        return conv_transpose_s2k4(h, w), grad
    return deconv


def _fits(layer, h, w) -> bool:
    """Whether the fast form computes this layer: a 4x4, stride-2, 'same', undilated,
    channels-last 2-D convolution whose full-size side (a convolution's input, a
    transposed convolution's output) has a known, even height h and width w."""
    return (tuple(layer.kernel_size) == (4, 4) and tuple(layer.strides) == (2, 2)
            and layer.padding == "same" and tuple(layer.dilation_rate) == (1, 1)
            and layer.data_format == "channels_last" and getattr(layer, "groups", 1) == 1
            and h is not None and w is not None and h % 2 == 0 and w % 2 == 0)


def _kernel(layer):
    # The kernel read as a tensor of the layer's compute dtype (bfloat16 under
    # mixed_bfloat16): custom_gradient differentiates tensors, not variables.
    return tf.convert_to_tensor(keras.ops.convert_to_tensor(layer.kernel))


def _bias_and_activation(layer, x):
    if layer.bias is not None:
        x = x + layer.bias
    return layer.activation(x) if layer.activation is not None else x


@keras.saving.register_keras_serializable(package="gan_tf")
class WideDense(keras.layers.Dense):
    """keras.layers.Dense with matmul_fast_input_grad on a CPU: for a layer whose input
    is far wider than its output (D's fc: 6,272 -> 1,024), where TensorFlow's CPU
    input gradient is slowest; exactly Dense elsewhere. Same weights, names and
    forward op as Dense."""

    def call(self, inputs, training=None):
        if not cpu_tuned(self):
            return super().call(inputs, training=training)
        x = matmul_fast_input_grad(tf.get_current_name_scope())(inputs, _kernel(self))
        return _bias_and_activation(self, x)


@keras.saving.register_keras_serializable(package="gan_tf")
class FastConv2D(keras.layers.Conv2D):
    """keras.layers.Conv2D whose gradients run on the forward kernel (conv_s2k4) on a
    CPU when it is a 4x4, stride-2, 'same' convolution of an even-sized image;
    otherwise (another device, any other shape) exactly Conv2D. Same weights, names and forward op."""

    def call(self, inputs):
        if not (cpu_tuned(self) and _fits(self, inputs.shape[1], inputs.shape[2])):
            return super().call(inputs)
        x = conv_s2k4(tf.get_current_name_scope())(inputs, _kernel(self))
        return _bias_and_activation(self, x)


@keras.saving.register_keras_serializable(package="gan_tf")
class FastConv2DTranspose(keras.layers.Conv2DTranspose):
    """keras.layers.Conv2DTranspose computed by deconv_s2k4 (a forward Conv2D and
    depth-to-space, gradients on forward kernels) on a CPU when it is 4x4, stride 2,
    'same' with no output padding (its output, 2H x 2W, is then always even);
    otherwise (another device, any other shape) exactly Conv2DTranspose. Same weights and names."""

    def call(self, inputs):
        h, w = inputs.shape[1], inputs.shape[2]
        if not cpu_tuned(self) or self.output_padding is not None or h is None \
                or w is None or not _fits(self, 2 * h, 2 * w):
            return super().call(inputs)
        x = deconv_s2k4(tf.get_current_name_scope())(inputs, _kernel(self))
        return _bias_and_activation(self, x)


@keras.saving.register_keras_serializable(package="gan_tf")
class FusedBatchNormalization(keras.layers.BatchNormalization):
    """keras.layers.BatchNormalization whose training pass is TensorFlow's fused
    kernel (FusedBatchNormV3: the moments and the normalization in one op, its
    gradient in one more), where Keras 3 computes it as a dozen separate ops, and
    under mixed_bfloat16 first casts its input to float32 and its output back. The
    fused kernel reads and writes bfloat16 itself and keeps its statistics in float32.
    Measured at mnist-dcgan's five batch-norm shapes, forward and backward, on a
    2-core AVX512_BF16 host: 1.5-2.6x faster in float32, 1.8-3.3x in bfloat16
    (docs/speed.md).

    Same weights, names and moving statistics as Keras' layer: the moving variance is
    updated with the biased batch variance as Keras does (the kernel returns the
    unbiased one, n / (n - 1) times it, which is undone here). Inference, a
    synchronized (tf.distribute) layer, renorm, masks, other axes or ranks, and a
    batch of one fall back to Keras' own computation."""

    def _fused_count(self, inputs, mask):
        """The number of values per channel if the fused kernel computes this call
        (a static count of at least 2), else None."""
        shape = inputs.shape
        if (mask is not None or self.renorm or getattr(self, "synchronized", False)
                or len(shape) not in (2, 4) or self.axis not in (-1, len(shape) - 1)
                or inputs.dtype not in (tf.float32, tf.bfloat16, tf.float16)
                or any(d is None for d in shape)):
            return None
        n = 1
        for d in shape[:-1]:
            n *= d
        return n if n >= 2 else None

    def call(self, inputs, training=None, mask=None):
        n = self._fused_count(inputs, mask) if training and self.trainable else None
        if n is None:
            return super().call(inputs, training=training, mask=mask)
        shape = inputs.shape
        channels = shape[-1]
        x = tf.reshape(inputs, [-1, 1, 1, channels]) if len(shape) == 2 else inputs
        x = tf.cast(x, self.compute_dtype)
        gamma = (tf.cast(self.gamma, tf.float32) if self.scale
                 else tf.ones([channels], tf.float32))
        beta = (tf.cast(self.beta, tf.float32) if self.center
                else tf.zeros([channels], tf.float32))
        y, mean, unbiased = tf.compat.v1.nn.fused_batch_norm(
            x, gamma, beta, epsilon=self.epsilon, is_training=True)
        variance = unbiased * ((n - 1) / n)
        self.moving_mean.assign(self.moving_mean * self.momentum
                                + mean * (1.0 - self.momentum))
        self.moving_variance.assign(self.moving_variance * self.momentum
                                    + variance * (1.0 - self.momentum))
        return tf.reshape(y, shape) if len(shape) == 2 else y
