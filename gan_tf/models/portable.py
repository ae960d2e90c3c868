"""A trained generator as Keras' own layers, for the files users load.

Training builds G from fast layers of its own (models/fast_ops.py: fused batch norm,
convolutions with gradients on forward kernels, WideDense; networks.py's PixelShuffle
and PositionMixing; the semi-supervised G's WeightNormDense) and initializers of its
own (the tutorial's xavier). A file holding them loads only where gan_tf is
importable. `portable(G)` is the same function of the same weights built from stock
Keras layers only, so `keras.saving.load_model` reads the file in any Python with
Keras (and any backend):

  FusedBatchNormalization   -> BatchNormalization (the same layer at inference)
  FastConv2D(Transpose)     -> Conv2D(Transpose); WideDense -> Dense
  PixelShuffle              -> Reshape, Permute, Reshape (depth-to-space's order)
  PositionMixing            -> Reshape, Permute, Dense over the positions, back
  WeightNormDense           -> Dense whose kernel is v g / ||v||, computed once
  a gan_tf initializer      -> glorot_uniform (a trained file never draws again)

Inference only: batch norm uses its moving statistics either way. What cannot be
converted (InfoGAN's codes, the VAE's erfinv) raises NotPortable, and the caller keeps
the model as it is.
"""

from __future__ import annotations

import keras
import numpy as np

from gan_tf.models import fast_ops, networks

# Layer classes that are a stock class with another call: the stock class, same config
# and weights.
_SAME_WEIGHTS = {
    fast_ops.FusedBatchNormalization: keras.layers.BatchNormalization,
    fast_ops.FastConv2D: keras.layers.Conv2D,
    fast_ops.FastConv2DTranspose: keras.layers.Conv2DTranspose,
    fast_ops.WideDense: keras.layers.Dense,
}


class NotPortable(ValueError):
    """A layer with no stock-Keras equivalent."""


def _stock_config(layer) -> dict:
    """The layer's config with any non-Keras initializer replaced (it is never drawn
    again: the weights are copied in)."""
    config = dict(layer.get_config())
    for key, value in config.items():
        if key.endswith("_initializer") and isinstance(value, dict) \
                and value.get("module") != "keras.initializers":
            config[key] = "glorot_uniform"
    return config


def _custom_init(layer) -> bool:
    return any(k.endswith("_initializer") and isinstance(v, dict)
               and v.get("module") != "keras.initializers"
               for k, v in layer.get_config().items())


def is_stock(layer) -> bool:
    """Whether a layer (a model: every layer inside) is Keras' own."""
    if not type(layer).__module__.startswith("keras."):
        return False
    if isinstance(layer, keras.Model):
        return all(is_stock(l) for l in layer.layers)
    return not _custom_init(layer)


def _shape(layer):
    shape = tuple(layer.input.shape[1:])
    if any(d is None for d in shape):
        raise NotPortable(f"layer {layer.name!r} has an input of unknown size {shape}")
    return shape


def _sequence(layer, parts) -> keras.Sequential:
    """Stock layers in the place of `layer`, under its name and dtype policy."""
    return keras.Sequential([keras.Input(_shape(layer), dtype=layer.input.dtype), *parts],
                            name=layer.name)


def _pixel_shuffle(layer):
    h, w, c = _shape(layer)
    r = layer.factor
    out = c // (r * r)
    # depth-to-space: output [h r + i, w r + j, k] = input [h, w, (i r + j) out + k]
    policy = dict(dtype=layer.dtype_policy)
    return _sequence(layer, [
        keras.layers.Reshape((h, w, r, r, out), **policy),
        keras.layers.Permute((1, 3, 2, 4, 5), **policy),
        keras.layers.Reshape((h * r, w * r, out), **policy)]), None


def _position_mixing(layer):
    h, w, c = _shape(layer)
    policy = dict(dtype=layer.dtype_policy)
    dense = keras.layers.Dense(h * w, name="mixing", **policy)
    model = _sequence(layer, [
        keras.layers.Reshape((h * w, c), **policy),
        keras.layers.Permute((2, 1), **policy),          # (c, positions)
        dense,                                            # y[c, p] = sum_q x[c, q] W[q, p] + b[p]
        keras.layers.Permute((2, 1), **policy),
        keras.layers.Reshape((h, w, c), **policy)])
    return model, lambda: dense.set_weights([np.asarray(layer.kernel), np.asarray(layer.bias)])


# A family's own layer class -> its converter: layer -> (stock layer, weight copier).
CONVERTERS = {}


def register(cls, converter) -> None:
    """How a layer class of a higher layer (a family's) becomes stock layers."""
    CONVERTERS[cls] = converter


def _converted(layer):
    """(stock replacement, function that copies the weights in once it is built)."""
    if isinstance(layer, keras.Model):
        return portable(layer), None
    stock = _SAME_WEIGHTS.get(type(layer))
    if stock is not None:
        new = stock.from_config(_stock_config(layer))
        return new, lambda: new.set_weights(layer.get_weights())
    if isinstance(layer, networks.PixelShuffle):
        return _pixel_shuffle(layer)
    if isinstance(layer, networks.PositionMixing):
        return _position_mixing(layer)
    if type(layer) in CONVERTERS:
        return CONVERTERS[type(layer)](layer)
    if type(layer).__module__.startswith("keras."):
        # a fresh copy (with a stock initializer where it had gan_tf's), same weights
        new = type(layer).from_config(_stock_config(layer))
        return new, (lambda: new.set_weights(layer.get_weights())) if layer.weights else None
    raise NotPortable(f"layer {layer.name!r} ({type(layer).__name__}) has no stock-Keras "
                      f"form")


def portable(G: keras.Model) -> keras.Model:
    """G (a functional keras.Model) rebuilt from Keras' own layers, with G's weights:
    the same images at inference. Raises NotPortable for a layer it cannot convert."""
    if not type(G).__module__.startswith("keras."):
        raise NotPortable(f"model {G.name!r} is a subclassed {type(G).__name__}")
    copies = []

    def clone(layer):
        new, copy = _converted(layer)
        if copy is not None:
            copies.append(copy)
        return new

    out = keras.models.clone_model(G, clone_function=clone)
    for copy in copies:       # every replacement is built by now
        copy()
    return out


def portable_or_same(G: keras.Model, warn=None) -> keras.Model:
    """portable(G), or G itself (saved as it is, loadable with gan_tf) for a layer with
    no stock form."""
    try:
        return portable(G)
    except NotPortable as e:
        if warn is not None:
            warn(f"warning: {G.name} is saved with gan_tf's own layers ({e}): loading it "
                 f"needs gan_tf importable")
        return G
