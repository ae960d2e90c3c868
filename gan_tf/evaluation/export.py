"""Export a generator for serving or for a phone, usable without gan_tf.

    gan-tf export MODEL --format savedmodel|tflite OUT

MODEL is a run folder (its generator.keras) or a generator file NAME.keras; its model
card (NAME.json) is checked against it first. Both formats take G's inputs by name,
a label as an integer digit rather than one-hot, and give uint8 images:

    z      float32 (batch, z_size), uniform in [-1, 1)     (SRGAN: lr, CycleGAN: x)
           or z_normal, N(0, I), where the file takes it (a VAE's decoder, a --noise
           gaussian G: TFLite has no erfinv, so the export takes what the file takes,
           as the card says; gan-tf sample maps its uniform z so)
    label  int32 (batch,), a digit 0-9                      (a conditional G only)
    ->  images  uint8 (batch, 28, 28, 1), 0 black to 255 white

  savedmodel  OUT/ a SavedModel with that serving signature ("serving_default"):
              tf.saved_model.load(OUT).signatures["serving_default"](z=z)["images"]
  tflite      OUT (a .tflite file): the same function for TensorFlow Lite's
              interpreter (tf.lite.Interpreter in TensorFlow 2.21, or LiteRT's
              ai_edge_litert.interpreter.Interpreter: the same API)

The card is copied beside the export (OUT.json for OUT/, NAME.json for NAME.tflite),
with "format" added. OUT is written under a temporary name and renamed, and an
existing OUT is refused, never replaced.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.runs.card import card_of, check_card, output_range
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, temp_path
from gan_tf.runs.folder import GENERATOR, RunFolder, read_generator

FORMATS = ("savedmodel", "tflite")
NUM_CLASSES = 10


def load_keras(model) -> tuple[Path, object, dict | None]:
    """(path, G, card) of a run folder or a NAME.keras file, card checked."""
    from gan_tf.evaluation.sampling import read_card_beside
    path = Path(model)
    if path.is_dir():
        folder = RunFolder(path)
        # the file's own model (uniform_z=False): its inputs are the card's
        G, card, path = folder.load_generator(uniform_z=False), \
            card_of(folder.generator_info()), path / GENERATOR
    else:
        G = read_generator(path, "use a generator gan-tf saved (a run's generator.keras, "
                                 "docs/models/)", uniform_z=False)
        card = read_card_beside(path)
    check_card(card, G, path)
    return path, G, card


def serving_function(G, value_range=None):
    """A tf.function of G's inputs (label as an int32 digit) -> {"images": uint8
    (batch, 28, 28, 1)}, and its input signature."""
    import tensorflow as tf
    low, high = value_range or output_range(G)
    names = [t.name.split(":")[0] for t in G.inputs]
    specs = [tf.TensorSpec([None], tf.int32, name=n) if n == "label"
             else tf.TensorSpec([None, int(t.shape[-1])], tf.float32, name=n)
             for n, t in zip(names, G.inputs)]

    def images(*args):
        args = [tf.one_hot(a, NUM_CLASSES, dtype=tf.float32) if n == "label" else a
                for n, a in zip(names, args)]
        x = tf.cast(G(args if len(args) > 1 else args[0], training=False), tf.float32)
        unit = (x - low) / (high - low)
        pixels = tf.clip_by_value(tf.round(unit * 255.0), 0.0, 255.0)
        return {"images": tf.reshape(tf.cast(pixels, tf.uint8), [-1, 28, 28, 1])}
    return tf.function(images, input_signature=specs)


def _refuse_existing(out: Path) -> None:
    if out.exists() or out.is_symlink():
        raise UserError(f"{out} exists; remove it or name another OUT (an export never "
                        f"replaces a file)")


def _card_path(out: Path, fmt: str) -> Path:
    return out.with_name(out.name + ".json") if fmt == "savedmodel" else out.with_suffix(".json")


def export(model, fmt: str, out) -> Path:
    """Export MODEL as `fmt` into OUT (module docstring); returns OUT."""
    if fmt not in FORMATS:
        raise UserError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    out = Path(out)
    if fmt == "tflite" and out.suffix != ".tflite":
        raise UserError(f"a TFLite export is a file NAME.tflite, got {out}; name it so")
    _refuse_existing(out)
    card_path = _card_path(out, fmt)
    _refuse_existing(card_path)
    path, G, card = load_keras(model)
    value_range = card["output"]["range"] if card else None
    fn = serving_function(G, value_range)
    import tensorflow as tf
    if fmt == "tflite":
        atomic_write_bytes(out, tflite_bytes(fn))
    else:
        module = tf.Module()
        module.G, module.images = G, fn
        tmp = temp_path(out)
        try:
            tf.saved_model.save(module, str(tmp), signatures={"serving_default": fn})
            os.rename(tmp, out)          # refused above if OUT exists
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    about = {**(card or {}), "format": fmt, "exported_from": str(path)}
    atomic_write_text(card_path, json.dumps({"card": about}, indent=2) + "\n")
    print(f"{path} exported as {fmt} to {out} (its card: {card_path})")
    return out


def tflite_bytes(fn) -> bytes:
    """The serving function as a TFLite flatbuffer, G's weights folded in as constants
    first (converted from the SavedModel, or with G as the converter's trackable
    object, TensorFlow 2.21 kept them as resource variables the interpreter never
    initialised: a 13 kB file, every image wrong)."""
    import tensorflow as tf
    from tensorflow.python.framework.convert_to_constants import (
        convert_variables_to_constants_v2)
    frozen = convert_variables_to_constants_v2(fn.get_concrete_function())
    return tf.lite.TFLiteConverter.from_concrete_functions([frozen]).convert()


def tflite_interpreter(path):
    """TensorFlow Lite's interpreter for `path`: LiteRT's where it is installed, else
    TensorFlow's own tf.lite.Interpreter."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf
        Interpreter = tf.lite.Interpreter
    return Interpreter(model_path=str(path))


def _input_name(detail: str, names) -> str:
    bare = detail.split(":")[0]
    for n in names:
        if bare == n or bare.endswith("_" + n):
            return n
    raise ValueError(f"the TFLite input {detail!r} is none of {sorted(names)}")


def run_tflite(path, inputs: dict) -> np.ndarray:
    """The images of a TFLite export for {input name: array} (z, label, ...), as a
    user's own code runs it: resize the inputs to the batch, set, invoke."""
    it = tflite_interpreter(path)
    batch = len(next(iter(inputs.values())))
    for d in it.get_input_details():
        it.resize_tensor_input(d["index"], [batch, *d["shape"][1:]])
    it.allocate_tensors()
    for d in it.get_input_details():
        it.set_tensor(d["index"], np.asarray(inputs[_input_name(d["name"], inputs)],
                                             d["dtype"]))
    it.invoke()
    out, = it.get_output_details()
    return it.get_tensor(out["index"])
