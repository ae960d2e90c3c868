"""The DCGAN of TensorFlow's tutorial (tensorflow.org/tutorials/generative/dcgan),
written from its published description: a TensorFlow user's baseline.

No parameters of its own: the tutorial's networks are fixed (its training choices,
Adam 1e-4, batch 256, 50 epochs, are experiments/mnist_dcgan_tf_tutorial.py's).
Keras' LeakyReLU default slope (0.3) and Glorot uniform weights, as the tutorial
leaves them; no biases in G.
"""

from __future__ import annotations

from dataclasses import dataclass

import keras

from gan_tf.core.params import AdversarialParams, SigmoidLossParams, register_params
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.families.mlp import TutorialLosses
from gan_tf.models.networks import IMAGE_DIM, batch_norm, float32_if_mixed, model_inputs


@register_params
@dataclass(frozen=True)
class Params(SigmoidLossParams, AdversarialParams):
    FAMILY = "dcgan_tutorial"


class DcganTutorial(TutorialLosses, AdversarialFamily):
    name, Params = "dcgan_tutorial", Params
    convolutional = True

    def generator(self, cfg, seeds):
        """make_generator_model: Dense 7x7x256 (no bias), BN, LeakyReLU; 5x5
        transposed convolutions 128 (stride 1), 64 (stride 2), each with BN and
        LeakyReLU, then 1 (stride 2, tanh)."""

        L = keras.layers
        init = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
        inputs, h = model_inputs(cfg, (cfg.z_dim,), "z")
        h = L.Dense(7 * 7 * 256, use_bias=False, kernel_initializer=init(),
                    name="project")(h)
        h = L.LeakyReLU(name="project_lrelu")(batch_norm(cfg, "project_bn")(h))
        h = L.Reshape((7, 7, 256), name="to_maps")(h)
        for i, (filters, stride) in enumerate(((128, 1), (64, 2))):
            h = L.Conv2DTranspose(filters, 5, strides=stride, padding="same",
                                  use_bias=False, kernel_initializer=init(),
                                  name=f"deconv{i + 1}")(h)
            h = L.LeakyReLU(name=f"deconv{i + 1}_lrelu")(
                batch_norm(cfg, f"deconv{i + 1}_bn")(h))
        h = L.Conv2DTranspose(1, 5, strides=2, padding="same", use_bias=False,
                              kernel_initializer=init(), name="deconv3")(h)
        h = L.Reshape((IMAGE_DIM,), name="flat")(h)
        out = L.Activation(cfg.g_output, name="out", **float32_if_mixed(cfg))(h)
        return keras.Model(inputs, out, name="generator")

    def discriminator(self, cfg, seeds):
        """make_discriminator_model: 5x5 convolutions 64 and 128 (stride 2), each
        with LeakyReLU and Dropout(0.3), then Flatten and Dense(1); no batch norm."""

        L = keras.layers
        init = lambda: keras.initializers.GlorotUniform(seed=next(seeds))  # noqa: E731
        x = keras.Input((IMAGE_DIM,), name="x")
        h = L.Reshape((28, 28, 1), name="image")(x)
        for i, filters in enumerate((64, 128)):
            h = L.Conv2D(filters, 5, strides=2, padding="same", kernel_initializer=init(),
                         name=f"conv{i + 1}")(h)
            h = L.LeakyReLU(name=f"conv{i + 1}_lrelu")(h)
            h = L.Dropout(0.3, seed=next(seeds), name=f"conv{i + 1}_dropout")(h)
        h = L.Flatten(name="flatten")(h)
        out = L.Dense(1, name="out", kernel_initializer=init(), **float32_if_mixed(cfg))(h)
        return keras.Model(x, out, name="discriminator")


FAMILY = DcganTutorial()
