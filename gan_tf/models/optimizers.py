"""The optimizers a run trains with (`make_optimizer`), and Adam as one fused kernel
per variable.

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

import dataclasses

import keras
import tensorflow as tf

from gan_tf.models.schedules import sgd


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


def make_optimizer(cfg, steps_per_epoch: int = 1, role: str = "generator"):
    """Adam with the TF1 defaults the tutorial used (Keras' own epsilon is 1e-7), or
    SGD with momentum as in the GAN paper, with its code's schedules if the family's
    parameters set them (an epoch, for the momentum's, is `steps_per_epoch` updates),
    or the WGAN's RMSprop: cfg.params' optimizer (core/params.OptimizerParams). The
    'discriminator''s learning rate is d_lr where a family has it set (the two
    time-scale rule), else lr as G's."""
    p = cfg.params
    if role == "discriminator" and getattr(p, "d_lr", 0.0):
        p = dataclasses.replace(p, lr=p.d_lr)
    if p.optimizer == "sgd":
        return sgd(p, steps_per_epoch)
    if p.optimizer == "rmsprop":
        # The WGAN authors' torch.optim.RMSprop (martinarjovsky/WassersteinGAN, main.py):
        # decay 0.99, no momentum, epsilon 1e-8 (Keras adds it inside the square root,
        # PyTorch outside: a difference only for gradients below 1e-4).
        return keras.optimizers.RMSprop(learning_rate=p.lr, rho=0.99, momentum=0.0,
                                        epsilon=1e-8)
    return FusedAdam(learning_rate=p.lr, beta_1=p.beta1, beta_2=p.beta2,
                     epsilon=p.adam_eps)
