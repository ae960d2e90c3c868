"""pylearn2's SGD schedules, as the GAN paper's MNIST run used them (mnist.yaml of
goodfeli/adversarial): the learning rate divided by a constant after every update
(`ExponentialDecay`, decay_factor 1.000004, min_lr 1e-6), and the momentum raised
linearly, epoch by epoch, from its start to a final value (`MomentumAdjustor`,
start 1, saturate 250, final_momentum 0.7).

Both are functions of the optimizer's own update counter, which the checkpoint
holds, so a resumed run continues both schedules exactly.
"""

from __future__ import annotations

import math

import keras
import tensorflow as tf


@keras.saving.register_keras_serializable(package="gan_tf")
class DividedEachUpdate(keras.optimizers.schedules.LearningRateSchedule):
    """lr(t) = max(lr_min, lr / decay**t) for the update after t updates.

    pylearn2's ExponentialDecay runs after each update: it sets base_lr / decay**count
    (count: updates so far), and lr_min once that falls to it or below. So the first
    update uses lr itself."""

    def __init__(self, lr: float, decay: float, lr_min: float):
        self.lr, self.decay, self.lr_min = lr, decay, lr_min

    def __call__(self, step):
        # log(decay) in float64 here: 1.000004 rounds in float32 to 1.0000041, 1.3%
        # off in the exponent.
        t = tf.cast(step, tf.float32)
        return tf.maximum(self.lr_min, self.lr * tf.exp(-t * math.log(self.decay)))

    def get_config(self):
        return {"lr": self.lr, "decay": self.decay, "lr_min": self.lr_min}


def momentum_at(epoch, start: float, final: float, saturate: int):
    """Momentum in (0-based) `epoch`: pylearn2's MomentumAdjustor with start=1.

    Its counter is the number of monitor calls, one before training and one after
    each epoch, so in 0-based epoch e it is e + 1, and alpha = (e + 1 - 1) /
    (saturate - 1), clipped to [0, 1]: `start` in the first epoch, `final` from
    1-based epoch `saturate` on. (saturate = 1: final from the first epoch.)"""
    if saturate <= 1:
        return tf.constant(final, tf.float32)
    alpha = tf.clip_by_value(tf.cast(epoch, tf.float32) / float(saturate - 1), 0.0, 1.0)
    return start * (1.0 - alpha) + alpha * final


@keras.saving.register_keras_serializable(package="gan_tf")
class RampedMomentumSGD(keras.optimizers.SGD):
    """Keras' SGD (velocity m = momentum * m - lr * grad, then param += m: the same
    rule as pylearn2's Momentum without Nesterov), with the momentum of each update
    read from `momentum_at` for the epoch its update counter falls in."""

    def __init__(self, learning_rate, momentum, final_momentum, saturate, steps_per_epoch,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, momentum=momentum, **kwargs)
        self.final_momentum, self.saturate = final_momentum, saturate
        self.steps_per_epoch = steps_per_epoch

    def current_momentum(self):
        epoch = self.iterations // self.steps_per_epoch
        return momentum_at(epoch, self.momentum, self.final_momentum, self.saturate)

    def update_step(self, gradient, variable, learning_rate):
        lr = tf.cast(learning_rate, variable.dtype)
        m = self.momentums[self._get_variable_index(variable)]
        momentum = tf.cast(self.current_momentum(), variable.dtype)
        self.assign(m, m * momentum - tf.cast(gradient, variable.dtype) * lr)
        self.assign_add(variable, m)

    def get_config(self):
        return {**super().get_config(), "final_momentum": self.final_momentum,
                "saturate": self.saturate, "steps_per_epoch": self.steps_per_epoch}


def sgd(p, steps_per_epoch: int):
    """The SGD of a family's parameters `p` (core/params.OptimizerParams): a constant or
    decaying learning rate, a constant or ramped momentum."""
    lr = DividedEachUpdate(p.lr, p.lr_decay, p.lr_min) if p.lr_decay != 1.0 else p.lr
    if p.momentum_saturate:   # shared_problems refuses a ramp from momentum 0
        return RampedMomentumSGD(lr, p.momentum, p.momentum_final, p.momentum_saturate,
                                 steps_per_epoch)
    return keras.optimizers.SGD(learning_rate=lr, momentum=p.momentum)
