"""The project's own classifiers, the yardstick of `gan_tf.evaluate`: one per dataset
(training one: `python -m gan_tf.classifier`, the command below).

`python -m gan_tf.classifier [--dataset fashion_mnist]` trains a small CNN on the
55,000 training images (the 5,000 validation images watch over it), measures it on
the 10,000 test images and writes `gan_tf/assets/DATASET_classifier.keras` plus a
JSON note of how it was made and what it scored. The committed weights are what
every metric uses; retrain only on purpose (`--overwrite`), since all earlier
numbers would shift.

Input: flattened images (N, 784) in [0, 1]. Output: class logits (N, 10). The
128-unit layer before the logits is the feature space of the Fréchet distance.
"""

from __future__ import annotations

import json
import sys
import time
import weakref
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_dataset
from gan_tf.runs.files import atomic_save, atomic_write_text, locked

ASSETS = Path(__file__).resolve().parents[1] / "assets"
FEATURES_LAYER = "features"
# What each must reach on its test set to be saved: MNIST is easy; small CNNs like
# this one reach ~91% on Fashion-MNIST (its shirts, pullovers and coats overlap).
MIN_TEST_ACCURACIES = {"mnist": 0.990, "fashion_mnist": 0.900}


def weights_path(dataset: str = "mnist") -> Path:
    return ASSETS / f"{dataset}_classifier.keras"


WEIGHTS = weights_path("mnist")
NOTE = WEIGHTS.with_suffix(".json")   # how it was made, beside every weights file
MIN_TEST_ACCURACY = MIN_TEST_ACCURACIES["mnist"]


def build_classifier(seed: int = 0):
    keras.utils.set_random_seed(seed)
    L = keras.layers
    return keras.Sequential([
        keras.Input((784,)),
        L.Reshape((28, 28, 1)),
        L.Conv2D(32, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Conv2D(64, 3, activation="relu"),
        L.MaxPooling2D(),
        L.Flatten(),
        L.Dropout(0.3),
        L.Dense(128, activation="relu", name=FEATURES_LAYER),
        L.Dropout(0.3),
        L.Dense(10, name="logits"),
    ], name="classifier")


def load_classifier(path: Path | None = None, dataset: str = "mnist"):
    """The committed classifier of `dataset` (or the one at `path`)."""
    path = Path(path) if path is not None else weights_path(dataset)
    if not path.is_file():
        raise UserError(f"no classifier at {path}; train one with python -m "
                        f"gan_tf.classifier --dataset {dataset}")
    return keras.saving.load_model(path)


# Each classifier's compiled (features, logits) function, built at its first predict:
# a quality curve calls predict dozens of times a run (the DCGAN's 32), and a new
# keras.Model and tf.function each time traced the network anew. Weak keys: the
# entry goes with its model (the function holds the model's layers, not the model).
_PREDICTORS: "weakref.WeakKeyDictionary" = weakref.WeakKeyDictionary()


def predictor(model):
    """model's compiled function images -> (features, logits), built once per model."""
    step = _PREDICTORS.get(model)
    if step is None:
        both = keras.Model(model.inputs, [model.get_layer(FEATURES_LAYER).output,
                                          model.outputs[0]])
        step = _PREDICTORS[model] = tf.function(lambda x: both(x, training=False))
    return step


def predict(model, images: np.ndarray, batch: int = 1000) -> tuple[np.ndarray, np.ndarray]:
    """(softmax probabilities (N, 10), penultimate features (N, 128)) for images in [0,1]."""
    step = predictor(model)
    feats, probs = [], []
    for i in range(0, len(images), batch):
        f, logits = step(tf.constant(images[i:i + batch], tf.float32))
        feats.append(f.numpy())
        probs.append(tf.nn.softmax(logits).numpy())
    return np.concatenate(probs), np.concatenate(feats).astype(np.float64)


def accuracy(model, images: np.ndarray, labels: np.ndarray) -> float:
    probs, _ = predict(model, images)
    return float((probs.argmax(1) == labels).mean())


def train_classifier(data, epochs: int = 6, seed: int = 0, log=print):
    model = build_classifier(seed)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    x = data.train_images.astype(np.float32) / 255.0
    xv = data.val_images.astype(np.float32) / 255.0
    model.fit(x, data.train_labels, batch_size=128, epochs=epochs, shuffle=True,
              validation_data=(xv, data.val_labels), verbose=2)
    return model


def make_classifier(dataset: str = "mnist", data_dir=None, epochs: int = 6, seed: int = 0,
                    out=None, overwrite: bool = False, command: str = "") -> int:
    """Train, test and (if it reaches MIN_TEST_ACCURACIES) save a dataset's classifier
    with its JSON note; 1 if it fell short (nothing saved), else 0. The lock of the
    folder it saves into is held from the check for an existing file to the save."""
    if dataset not in MIN_TEST_ACCURACIES:
        raise UserError(f"unknown dataset {dataset!r}; choose one of "
                        f"{', '.join(sorted(MIN_TEST_ACCURACIES))}")
    if epochs <= 0:
        raise UserError(f"--epochs must be positive, got {epochs}")
    out = Path(out) if out else weights_path(dataset)
    with locked(out.parent, "classifier folder", flag="--out"):
        return _make_classifier(dataset, data_dir, epochs, seed, out, overwrite, command)


def _make_classifier(dataset, data_dir, epochs, seed, out: Path, overwrite, command) -> int:
    minimum = MIN_TEST_ACCURACIES[dataset]
    if out.exists() and not overwrite:
        raise UserError(f"{out} exists: every committed metric depends on it; pass "
                        f"--overwrite to replace it or --out elsewhere")
    data = load_dataset(dataset, data_dir)
    t0 = time.time()
    model = train_classifier(data, epochs, seed)
    acc = accuracy(model, data.test_images.astype(np.float32) / 255.0, data.test_labels)
    print(f"test accuracy {acc:.4f} after {epochs} epochs ({time.time() - t0:.0f} s)")
    if acc < minimum:
        print(f"error: test accuracy {acc:.4f} is below {minimum}; not saved",
              file=sys.stderr)
        return 1
    # Saved uncompiled: the weights only, without Adam's slots (a third the size).
    inference = build_classifier(seed)
    inference.set_weights(model.get_weights())
    atomic_save(out, inference.save)
    atomic_write_text(out.with_suffix(".json"), json.dumps({
        "command": command,
        "architecture": "conv32-pool-conv64-pool-dropout-dense128(features)-dropout-dense10",
        "trained_on": f"first 55,000 {dataset} training images, Adam 1e-3, batch 128",
        "epochs": epochs, "seed": seed,
        "test_accuracy": round(acc, 4), "params": int(model.count_params()),
    }, indent=2) + "\n")
    print(f"saved {out}")
    return 0
