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
  InfoCodes (InfoGAN)       -> Cropping1D slices of z, Discretization (one-hot) of its
                               category value, Concatenate
  UniformToNormal (erfinv)  -> dropped: the file's z input is `z_normal`, N(0, I)
  a gan_tf initializer      -> glorot_uniform (a trained file never draws again)

Inference only: batch norm uses its moving statistics either way. What cannot be
converted raises NotPortable, and the caller keeps the model as it is.

The erfinv front (the VAE's decoder, `--noise gaussian`) has no stock form: Keras has
no erfinv layer, and a stock approximation (a polynomial in log(1 - u^2) built from
Activation and Multiply layers) is neither the same function nor within 1e-5 in the
tails, where erfinv grows without bound. So the file takes the front's output instead,
z ~ N(0, I), under the input name `z_normal` (the name the VAE's decoder already
gives it), its card saying how gan-tf draws it (runs/card.py); `uniform_front` puts
the front back when gan_tf loads the file, so evaluate, sample and the studies draw
U(-1, 1) noise and get the same images as before for the same seed.
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


# The name of a portable G's input that takes z ~ N(0, I) (its erfinv front dropped).
NORMAL_Z = "z_normal"
# The stock layer left where the front was: it marks where uniform_front puts it back.
FRONT_MARK = "_given_by_caller"


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


def category_boundaries(layer, classes: int, at: int) -> list[float]:
    """The float32 values b_1 < ... < b_{classes-1} at which `layer`'s category of
    z[:, at] steps up: b_j is the least float32 z whose category is >= j. So the
    category is the number of b_j <= z, which is what keras.layers.Discretization
    computes (TF's Bucketize: boundaries[i-1] <= x < boundaries[i] -> i): the same
    function for every float32 z, a value exactly at a boundary, -1 (category 0), 1
    and beyond (the clip: classes - 1) included. Found by bisection over float32's
    order, asking the layer itself, so its own rounding is what is matched ((u + 1)
    * 0.5 * classes in float32, after bfloat16's rounding of z under a mixed policy),
    not a formula for it (k / classes * 2 - 1 is off by an ulp for most k)."""
    def key(x):      # float32 -> an int64 in the same order (-0.0 and 0.0 both 0)
        b = np.asarray(x, np.float32).view(np.int32).astype(np.int64)
        return np.where(b >= 0, b, -(b & 0x7FFFFFFF))

    def value(k):
        b = np.where(k >= 0, k, (-k) | 0x80000000).astype(np.uint32)
        return b.view(np.float32)

    width = int(layer.input.shape[-1])
    want = np.arange(1, classes, dtype=np.int64)

    def category(x):
        z = np.zeros((len(x), width), np.float32)
        z[:, at] = x
        out = keras.ops.convert_to_numpy(layer(z))
        return np.argmax(np.asarray(out, np.float32)[:, at:at + classes], axis=1)

    # the layer's category is 0 at -1 and classes - 1 at 1: b_j lies in (-1, 1]
    lo = np.full(len(want), key(np.float32(-1.0)))
    hi = np.full(len(want), key(np.float32(1.0)))
    if (category(value(lo)) != 0).any() or (category(value(hi)) != classes - 1).any():
        raise NotPortable(f"layer {layer.name!r}: its category is not 0 at z = -1 and "
                          f"{classes - 1} at z = 1")
    while (hi - lo > 1).any():
        mid = (lo + hi) // 2
        up = category(value(mid)) >= want
        hi, lo = np.where(up, mid, hi), np.where(up, lo, mid)
    return [float(b) for b in value(hi)]


def _info_codes(layer):
    """InfoCodes: z -> [z's noise, one-hot category of z[:, n], z's continuous codes],
    from stock layers that do the same in float32: Cropping1D slices (exact, where a
    0/1 Dense would round its inputs under TF32), Discretization one-hot on the
    category boundaries (category_boundaries), Concatenate. (Keras 3.15's
    Discretization gives the same in graph mode as eagerly; keras-team/keras#21468, on
    3.10, did not.) Under a mixed policy InfoCodes' own output is bfloat16; this one
    is float32, rounded to bfloat16 by G's next layer as InfoCodes rounded z: the same
    values."""
    (width,) = _shape(layer)
    n, classes = layer.noise_dim, layer.classes
    f32 = dict(dtype="float32")
    z = keras.Input((width,), name=f"{layer.name}_z")
    column = keras.layers.Reshape((width, 1), name="column", **f32)(z)

    def values(start, stop, name):        # z[:, start:stop]
        part = keras.layers.Cropping1D((start, width - stop), name=f"{name}_crop",
                                       **f32)(column)
        return keras.layers.Reshape((stop - start,), name=name, **f32)(part)

    code = keras.layers.Discretization(
        bin_boundaries=category_boundaries(layer, classes, n), output_mode="one_hot",
        name="category", **f32)(values(n, n + 1, "category_value"))
    parts = [values(0, n, "noise"), code]
    if width > n + 1:
        parts.append(values(n + 1, width, "continuous"))
    return keras.Model(z, keras.layers.Concatenate(name="codes", **f32)(parts),
                       name=layer.name), None


def _fronts(G) -> dict:
    """{id of a UniformToNormal layer: index of the input it reads}, for each such
    layer that reads one of G's inputs, which nothing else reads: the layers portable()
    drops, their inputs renamed NORMAL_Z. Any other UniformToNormal is NotPortable."""
    fronts = {}
    for layer in G.layers:
        if not isinstance(layer, networks.UniformToNormal):
            continue
        at = [i for i, t in enumerate(G.inputs) if t is layer.input]
        if len(layer._inbound_nodes) != 1 or not at or len(
                G.get_layer(G.inputs[at[0]].name.split(":")[0])._outbound_nodes) != 1:
            raise NotPortable(f"layer {layer.name!r} (UniformToNormal) is not the one "
                              f"reader of one of {G.name!r}'s inputs")
        fronts[id(layer)] = at[0]
    if len(fronts) > 1:
        raise NotPortable(f"model {G.name!r} has {len(fronts)} erfinv fronts; a "
                          f"portable file can say one input is N(0, I)")
    return fronts


def _renamed_inputs(G, fronts):
    """G's inputs afresh, the one a dropped front read named NORMAL_Z."""
    normal = set(fronts.values())
    new = [keras.Input(batch_shape=t.shape, dtype=t.dtype,
                       name=NORMAL_Z if i in normal else t.name.split(":")[0])
           for i, t in enumerate(G.inputs)]
    return new if isinstance(G.input, (list, tuple)) else new[0]


# A family's own layer class -> its converter: layer -> (stock layer, weight copier).
CONVERTERS = {}


def register(cls, converter) -> None:
    """How a layer class of a higher layer (a family's) becomes stock layers."""
    CONVERTERS[cls] = converter


def _converted(layer, fronts=()):
    """(stock replacement, function that copies the weights in once it is built)."""
    if id(layer) in fronts:
        # the policy by name: Identity has no get_config of its own, and Keras' automatic
        # one refuses a DTypePolicy object among the arguments
        return keras.layers.Identity(name=layer.name + FRONT_MARK,
                                     dtype=layer.dtype_policy.name), None
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
    if isinstance(layer, networks.InfoCodes):
        return _info_codes(layer)
    if isinstance(layer, networks.UniformToNormal):
        raise NotPortable(f"layer {layer.name!r} (erfinv) has no stock-Keras form and "
                          f"is not at a model input, where it can be dropped")
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
    the same images at inference, except that an erfinv front at an input is dropped
    (that input then takes z ~ N(0, I) and is named NORMAL_Z; see the module's
    docstring). Raises NotPortable for a layer it cannot convert."""
    if not type(G).__module__.startswith("keras."):
        raise NotPortable(f"model {G.name!r} is a subclassed {type(G).__name__}")
    fronts = _fronts(G)
    copies = []

    def clone(layer):
        new, copy = _converted(layer, fronts)
        if copy is not None:
            copies.append(copy)
        return new

    out = keras.models.clone_model(G, clone_function=clone,
                                   input_tensors=_renamed_inputs(G, fronts))
    for copy in copies:       # every replacement is built by now
        copy()
    return out


def takes_normal_z(model) -> bool:
    """Whether a (loaded) model's z is N(0, I): portable() dropped its erfinv front."""
    return any(t.name.split(":")[0] == NORMAL_Z for t in model.inputs)


def uniform_front(model: keras.Model) -> keras.Model:
    """A portable file's model with its erfinv front back (the inverse of portable()'s
    drop): its NORMAL_Z input is `z` again, U(-1, 1), mapped by UniformToNormal where
    the front was (the Identity portable() left), every other layer the loaded one
    (its weights). A model without a NORMAL_Z input is returned as it is."""
    if not takes_normal_z(model):
        return model
    marks = [l for l in model.layers if isinstance(l, keras.layers.Identity)
             and l.name.endswith(FRONT_MARK)]
    if len(marks) != 1:
        raise NotPortable(f"model {model.name!r} takes {NORMAL_Z} but has no single "
                          f"'*{FRONT_MARK}' layer where its erfinv front was")
    mark = marks[0]
    inputs = [keras.Input(batch_shape=t.shape, dtype=t.dtype,
                          name="z" if t.name.split(":")[0] == NORMAL_Z
                          else t.name.split(":")[0]) for t in model.inputs]

    def same_or_front(layer):
        if layer is mark:
            return networks.UniformToNormal(name=mark.name[:-len(FRONT_MARK)],
                                            dtype=mark.dtype_policy.name)
        return layer      # shared: the loaded layer and its weights
    return keras.models.clone_model(
        model, clone_function=same_or_front,
        input_tensors=inputs if isinstance(model.input, (list, tuple)) else inputs[0])


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
