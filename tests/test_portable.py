"""Generators that load anywhere (issue 49, item 2): every generator the project
writes for users is made of Keras' own layers, so keras.saving.load_model reads it in
a Python where gan_tf cannot be imported, and gives the training G's images (float32:
within 1e-5). Each check of a file runs in a subprocess in which `import gan_tf`
fails (tests/plain_keras.py)."""

import json
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from conftest import REPO, cli
from gan_tf.core.config import Config, override
from plain_keras import plain_outputs, plain_outputs_of

MODELS = REPO / "docs" / "models"


def _inputs(G, n=8, seed=0):
    rng = np.random.default_rng(seed)
    xs = []
    for t in G.inputs:
        size = int(t.shape[-1])
        if t.name.startswith("label"):
            xs.append(np.eye(size, dtype=np.float32)[rng.integers(0, size, n)])
        else:
            xs.append(rng.uniform(-1, 1, (n, size)).astype(np.float32))
    return xs


def _perturbed(G, seed=1):
    """G with every weight moved off its init (batch norm's moving statistics too), so
    that a wrongly copied or dropped weight shows."""
    rng = np.random.default_rng(seed)
    G.set_weights([w + rng.normal(0, 0.05, w.shape).astype(w.dtype) if "variance" not in v.path
                   else np.abs(w) + 0.5
                   for w, v in zip(G.get_weights(), G.weights)])
    return G


def _gan_tf_classes(path) -> set:
    text = zipfile.ZipFile(path).read("config.json").decode()
    return {part.split('"')[0] for part in text.split('"registered_name": "gan_tf>')[1:]}


# One of each kind of custom layer: fused batch norm and fast transposed convolutions
# (dcgan, conditional), PixelShuffle (srgan), PositionMixing (cyclegan), WeightNormDense
# (semi_supervised), the tutorial's xavier init (mlp), bfloat16 (dcgan mixed).
FAMILIES = [
    ("mlp", {}),
    ("dcgan", {}),
    ("dcgan", {"conditional": True}),
    ("dcgan", {"precision": "mixed_bfloat16"}),
    ("srgan", {}),
    ("cyclegan", {}),
    ("semi_supervised", {}),
    ("wgan_dcgan", {}),
]


def test_portable_generators_load_in_plain_keras_with_the_same_images(tmp_path):
    from gan_tf import families
    from gan_tf.models.portable import is_stock, portable
    want, models = {}, {}
    for i, (family, changes) in enumerate(FAMILIES):
        cfg = override(Config.of(family=family), changes)
        G = _perturbed(families.build_generator(cfg))
        P = portable(G)
        assert is_stock(P), (family, changes)
        path = tmp_path / f"{i}.keras"
        P.save(path)
        assert not _gan_tf_classes(path), (family, changes)
        xs = _inputs(G)
        want[str(i)] = np.asarray(G(xs if len(xs) > 1 else xs[0], training=False), np.float32)
        models[str(i)] = (path, xs)
    got = plain_outputs_of(models, tmp_path)
    for i, (family, changes) in enumerate(FAMILIES):
        # bfloat16: G's layers round to 8 bits either way, its transposed convolutions
        # summed in another order (measured: at most 2e-3 over 64 z, the committed DCGAN)
        tol = 1e-2 if changes.get("precision") == "mixed_bfloat16" else 1e-5
        err = np.abs(got[str(i)] - want[str(i)]).max()
        assert got[str(i)].shape == want[str(i)].shape and err <= tol, (family, changes, err)


def test_a_run_saves_its_generators_portable_with_a_card(tmp_path, mnist_dir):
    run = tmp_path / "run"
    assert cli(run, mnist_dir, "--family", "dcgan", "--iters", "4", "--snapshot-every",
               "2", "--log-every", "2", "--batch-size", "8", "--g-ema", "0.9") == 0
    from gan_tf.runs.card import output_range
    from gan_tf.runs.folder import RunFolder
    folder = RunFolder(run)
    for name in ("generator.keras", "generator-ema.keras"):
        assert not _gan_tf_classes(run / name), name
        G = folder.load_generator(name)
        xs = _inputs(G)
        want = np.asarray(G(xs[0], training=False), np.float32)
        assert np.abs(plain_outputs(run / name, xs, tmp_path) - want).max() <= 1e-5
        card = folder.generator_info(name)["card"]
        assert card["family"] == "dcgan" and card["iterations"] == 4
        assert card["inputs"] == [{"name": "z", "shape": [100],
                                   "distribution": "uniform(-1, 1), independent per value"}]
        assert card["output"] == {"shape": [784], "range": output_range(G),
                                  "image_shape": [28, 28, 1]}
        assert card["precision"] == "float32" and card["loads_with"] == "keras"
        assert card["measures"] == "samples" and card["dataset"] == "mnist"
        assert card["command"].startswith("python -m gan_tf.train --family dcgan")
        assert "--iters 4" in card["command"]


def test_every_committed_generator_loads_in_plain_keras(tmp_path):
    """docs/models: stock layers only, loadable without gan_tf, the same images as
    gan_tf's loader gives, its card beside it agreeing with its shapes."""
    from gan_tf.runs.card import shapes_problem
    from gan_tf.runs.folder import read_generator
    paths = sorted(MODELS.glob("*.keras"))
    assert len(paths) >= 11
    want, models = {}, {}
    for path in paths:
        assert not _gan_tf_classes(path), path
        G = read_generator(path, "")
        xs = _inputs(G)
        want[path.stem] = np.asarray(G(xs if len(xs) > 1 else xs[0], training=False),
                                     np.float32)
        models[path.stem] = (path, xs)
        card = json.loads(path.with_suffix(".json").read_text())["card"]
        assert shapes_problem(card, G) is None and card["loads_with"] == "keras", path
    got = plain_outputs_of(models, tmp_path)
    for name in want:
        assert np.abs(got[name] - want[name]).max() == 0.0, name


def test_a_committed_generator_loads_under_the_torch_backend(tmp_path):
    pytest.importorskip("torch", reason="torch is not installed: the torch-backend load "
                                        "of a saved generator is not checked here")
    path = MODELS / "mnist-dcgan-seed-0.keras"
    from gan_tf.runs.folder import read_generator
    G = read_generator(path, "")
    xs = _inputs(G)
    want = np.asarray(G(xs[0], training=False), np.float32)
    got = plain_outputs(path, xs, tmp_path, backend="torch")
    assert np.abs(got - want).max() <= 1e-2   # bfloat16 layers, another backend's kernels
