"""Adam as one fused kernel per variable.

Keras 3's Adam updates each variable with a dozen element-wise ops (cast, power,
subtract, multiply, assign_add, square, sqrt, divide, assign_sub...), each a pass
over the variable; TensorFlow's ResourceApplyAdam does the same update in one pass.
The update is TF1's Adam, the one the tutorial ran and Keras' Adam computes:

    lr_t = lr sqrt(1 - beta2^t) / (1 - beta1^t)
    m <- beta1 m + (1 - beta1) g,  v <- beta2 v + (1 - beta2) g^2
    w <- w - lr_t m / (sqrt(v) + epsilon)

with the same slots (Keras' m and v variables), so checkpoints are interchangeable;
the values agree with Keras' to float32 rounding (Keras writes m + (g - m)(1 - beta1)).
On mnist-dcgan's float32 iteration on a 2-core AVX2 host the optimizer was 14% of the
time (docs/speed.md, "Where the DCGAN's iteration goes").
"""

from __future__ import annotations

import keras
import tensorflow as tf


class FusedAdam(keras.optimizers.Adam):
    """keras.optimizers.Adam whose update of a float32 variable is one
    ResourceApplyAdam; with amsgrad, for another dtype or a sparse gradient it is
    Keras' own update. Under a tf.distribute strategy Keras calls update_step inside
    the strategy's update, for each replica's copy, where `.handle` is that copy's."""

    def update_step(self, gradient, variable, learning_rate):
        var = variable.value if isinstance(variable, keras.Variable) else variable
        if self.amsgrad or var.dtype != tf.float32 or isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        index = self._get_variable_index(variable)
        m, v = self._momentums[index].value, self._velocities[index].value
        step = tf.cast(self.iterations + 1, tf.float32)
        beta_1 = tf.cast(self.beta_1, tf.float32)
        beta_2 = tf.cast(self.beta_2, tf.float32)
        tf.raw_ops.ResourceApplyAdam(
            var=var.handle, m=m.handle, v=v.handle,
            beta1_power=tf.pow(beta_1, step), beta2_power=tf.pow(beta_2, step),
            lr=tf.cast(learning_rate, tf.float32), beta1=beta_1, beta2=beta_2,
            epsilon=tf.cast(self.epsilon, tf.float32), grad=tf.cast(gradient, tf.float32))
