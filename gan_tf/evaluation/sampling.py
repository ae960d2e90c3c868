"""Draw N images from a generator into a grid, one PNG each, or an npz.

    gan-tf sample MODEL --n 64 --seed 0 --out samples.png

MODEL is a run folder (its generator.keras), a generator file NAME.keras (its model
card in NAME.json beside it, if there), or a SavedModel folder written by
`gan-tf export` (its card in FOLDER.json beside it). z is drawn as every gan-tf G
takes it, uniform in [-1, 1):

    z = numpy.random.default_rng(seed).uniform(-1, 1, (n, z_size)).astype("float32")

so the same seed gives the same images, here and in a user's own code. A G whose
file takes `z_normal` (N(0, I): a VAE's decoder, a `--noise gaussian` G; its card says
so) gets that z mapped as its training G mapped it, sqrt(2) erfinv(z) with z clipped
to [-1 + 1e-6, 1 - 1e-6] (models/networks.UniformToNormal), so its images are the
training G's for the same seed. A conditional G draws the digit --label for every
image, or 0, 1, ..., 9 in turn without it. --out decides the form:

    samples.png    one grid of the N images
    DIR/           one PNG per image, DIR/000.png ... (the folder is created)
    x.npz          images (N, 28, 28, 1) uint8, z (N, z_size) float32 [, labels]

Each file is written atomically. A file whose card disagrees with its shapes, a
label for an unconditional G, or a G that maps images (SRGAN, CycleGAN) rather than
drawing them is refused in one line.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from gan_tf.core import reading
from gan_tf.core.errors import UserError
from gan_tf.runs.card import card_of, check_card, output_range
from gan_tf.runs.files import atomic_save, atomic_write_bytes
from gan_tf.runs.folder import GENERATOR, GENERATOR_INFO_LIMIT, RunFolder, read_generator

NUM_CLASSES = 10
IMAGE_SHAPE = (28, 28, 1)
NORMAL_Z = "z_normal"       # models/portable.NORMAL_Z (not imported: it brings Keras)
MAX_SAMPLES = 10_000


@dataclass
class Sampler:
    """A loaded generator, whatever its form: images(z, labels) -> uint8 (N, 28, 28, 1)."""
    path: Path
    z_size: int
    conditional: bool
    images: Callable


def draw_z(n: int, seed: int, z_size: int) -> np.ndarray:
    """The z of `sample`: numpy's default generator, uniform in [-1, 1)."""
    return np.random.default_rng(seed).uniform(-1.0, 1.0, (n, z_size)).astype(np.float32)


def to_uint8(x: np.ndarray, value_range) -> np.ndarray:
    """G's output (N, 784) in value_range -> (N, 28, 28, 1) uint8, rounded."""
    low, high = value_range
    unit = (np.asarray(x, np.float32) - low) / (high - low)
    return np.clip(np.rint(unit * 255.0), 0, 255).astype(np.uint8).reshape(-1, *IMAGE_SHAPE)


def read_card_beside(path: Path) -> dict | None:
    """The card in the .json beside a file or folder (NAME.keras -> NAME.json,
    FOLDER -> FOLDER.json), None if there is none."""
    info = path.with_name(path.name + ".json") if path.is_dir() else path.with_suffix(".json")
    if not info.is_file():
        return None
    return card_of(reading.read_json(info, "restore it, or remove it",
                                     limit=GENERATOR_INFO_LIMIT))


def _keras_sampler(path: Path, model, card: dict | None) -> Sampler:
    check_card(card, model, path)
    names = [t.name.split(":")[0] for t in model.inputs]
    if names[0] != "z":
        raise UserError(f"{path} maps images ({names[0]!r} in, as SRGAN's and CycleGAN's "
                        f"generators do), it does not draw them from z; measure it with "
                        f"python -m gan_tf.evaluate {path}")
    value_range = card["output"]["range"] if card else output_range(model)
    conditional = len(model.inputs) == 2

    def images(z, labels):
        x = model([z, np.eye(NUM_CLASSES, dtype=np.float32)[labels]] if conditional else z,
                  training=False)
        return to_uint8(np.asarray(x, np.float32), value_range)
    return Sampler(path, int(model.inputs[0].shape[-1]), conditional, images)


def _saved_model_sampler(path: Path, card: dict | None) -> Sampler:
    import tensorflow as tf
    try:
        fn = tf.saved_model.load(str(path)).signatures["serving_default"]
    except Exception as e:
        raise UserError(f"{path} is not a SavedModel gan-tf exported "
                        f"({reading.exception_line(e, 80)}); export it again with "
                        f"gan-tf export") from None
    specs = fn.structured_input_signature[1]
    z_name = next((n for n in ("z", NORMAL_Z) if n in specs), None)
    if z_name is None:
        raise UserError(f"{path}'s serving signature takes {sorted(specs)}, not z; export "
                        f"it with gan-tf export")
    z_size = int(specs[z_name].shape[-1])
    conditional = "label" in specs
    if card is not None:
        want = [tuple(i["shape"]) for i in card.get("inputs", [])]
        if not want or want[0] != (z_size,) or (len(want) == 2) != conditional:
            raise UserError(f"{path} does not match its model card (its z is {z_size} "
                            f"values{', with a label' if conditional else ''}; the card says "
                            f"{want}): put the right .json back or remove it")

    def images(z, labels):
        if z_name == NORMAL_Z:      # what the training G's erfinv front computed
            from gan_tf.models.networks import UniformToNormal
            z = UniformToNormal()(z).numpy()
        args = {z_name: tf.constant(z)}
        if conditional:
            args["label"] = tf.constant(labels, tf.int32)
        return fn(**args)["images"].numpy()
    return Sampler(path, z_size, conditional, images)


def load_sampler(model: str | Path) -> Sampler:
    """A run folder, a NAME.keras file or an exported SavedModel folder, ready to draw."""
    path = Path(model)
    if path.is_dir() and (path / "saved_model.pb").is_file():
        return _saved_model_sampler(path, read_card_beside(path))
    if path.is_dir():
        folder = RunFolder(path)
        G = folder.load_generator()
        return _keras_sampler(path / GENERATOR, G, card_of(folder.generator_info()))
    if path.suffix == ".keras" or path.is_file():
        G = read_generator(path, "use a generator gan-tf saved (a run's generator.keras, "
                                 "docs/models/)")
        return _keras_sampler(path, G, read_card_beside(path))
    raise UserError(f"no generator at {path}: give a run folder, a .keras file or an "
                    f"exported SavedModel folder")


def labels_for(sampler: Sampler, n: int, label: int | None) -> np.ndarray | None:
    if label is not None and not sampler.conditional:
        raise UserError(f"{sampler.path} is not conditional: it takes no --label "
                        f"(leave it out)")
    if not sampler.conditional:
        return None
    return np.full(n, label, np.int64) if label is not None else np.arange(n) % NUM_CLASSES


def draw(model, n: int, seed: int, label: int | None = None):
    """(images uint8 (n, 28, 28, 1), z, labels or None) from `model` (a path or a
    Sampler)."""
    sampler = model if isinstance(model, Sampler) else load_sampler(model)
    labels = labels_for(sampler, n, label)
    z = draw_z(n, seed, sampler.z_size)
    return sampler.images(z, labels), z, labels


def out_kind(out: str) -> str:
    """'dir', 'png' or 'npz' from how --out is written; a one-line refusal otherwise."""
    if out.endswith(("/", "\\")) or Path(out).is_dir():
        return "dir"
    suffix = Path(out).suffix.lower()
    if suffix in (".png", ".npz"):
        return suffix[1:]
    raise UserError(f"--out {out} is neither a .png (one grid), a folder ending in / "
                    f"(one PNG per image) nor a .npz (the arrays); name one of those")


def write_samples(images: np.ndarray, z: np.ndarray, labels, out: str) -> Path:
    """The images as --out asks (module docstring), each file atomically."""
    from gan_tf.runs import pictures
    kind, path = out_kind(out), Path(out)
    if kind == "png":
        pictures.save_grid(images.reshape(len(images), -1) / 255.0, path)
    elif kind == "npz":
        arrays = {"images": images, "z": z, **({"labels": labels} if labels is not None
                                               else {})}

        def write(tmp):
            with open(tmp, "wb") as f:
                np.savez(f, **arrays)
        atomic_save(path, write)
    else:
        path.mkdir(parents=True, exist_ok=True)
        import imageio.v3 as iio
        width = max(3, len(str(len(images) - 1)))
        for i, img in enumerate(images):
            buf = io.BytesIO()
            iio.imwrite(buf, img[:, :, 0], extension=".png")
            atomic_write_bytes(path / f"{i:0{width}d}.png", buf.getvalue())
    return path


def sample(model, n: int, seed: int, out: str, label: int | None = None) -> Path:
    """Draw n images from MODEL with z seed `seed` into `out`; returns where."""
    if not 1 <= n <= MAX_SAMPLES:
        raise UserError(f"--n must be 1 to {MAX_SAMPLES:,}, got {n}")
    out_kind(out)                        # refused before anything is loaded or written
    images, z, labels = draw(model, n, seed, label)
    where = write_samples(images, z, labels, out)
    print(f"{n} samples of {model} (z seed {seed}) in {where}")
    return where

