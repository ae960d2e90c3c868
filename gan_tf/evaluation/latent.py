"""Walks and arithmetic in a trained G's z space (`python -m gan_tf.latent RUN_DIR`).

interpolation.png: rows of G(z_a + a (z_b - z_a)), a from 0 to 1, for random pairs
    (z_a, z_b) ~ U(-1, 1)^d; the segment stays inside the cube z was drawn from.
arithmetic.png: the lecture's "smiling woman - neutral woman + neutral man" on
    digits, with kinds chosen automatically: among 5,000 samples the committed MNIST
    classifier labels confidently (p > 0.9), the two most common digits A and B; for
    each, its thick and thin samples (top and bottom quarter by ink, the mean pixel
    value). The row shows G(mean z) of thick A, thin A and thin B, then
    G(z_thick A - z_thin A + z_thin B): if "thickness" is a direction in z, a thick B.
latent.json: the ink and the classifier's label of each image in that row.

A conditional G (cGAN) gets labels too: interpolation row r is conditioned on digit
r mod 10; the arithmetic's samples on random digits, and its row on A, A, B, B, so
the last image asks for a B in the style "thick" found in z.
"""

from __future__ import annotations

import json

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.evaluation.classifier import load_classifier, predict
from gan_tf.models.networks import is_conditional, unit_images, z_dim_of
from gan_tf.runs.files import atomic_write_text
from gan_tf.runs.folder import ARITHMETIC, INTERPOLATION, LATENT, RunFolder
from gan_tf.runs.pictures import save_rows


def _labels(G, labels):
    return np.asarray(labels) if is_conditional(G) else None


def interpolations(G, z_dim: int, pairs: int, steps: int, rng) -> np.ndarray:
    """(pairs, steps, 784) images in [0, 1]."""
    a = rng.uniform(-1, 1, (pairs, 1, z_dim))
    b = rng.uniform(-1, 1, (pairs, 1, z_dim))
    alpha = np.linspace(0, 1, steps)[None, :, None]
    z = (a + alpha * (b - a)).reshape(-1, z_dim).astype(np.float32)
    labels = _labels(G, np.repeat(np.arange(pairs) % 10, steps))
    return (unit_images(G, z, labels).reshape(pairs, steps, -1),
            z.reshape(pairs, steps, z_dim))


def arithmetic(G, classifier, z_dim: int, rng, n: int = 5000) -> dict:
    z = rng.uniform(-1, 1, (n, z_dim)).astype(np.float32)
    x = unit_images(G, z, _labels(G, rng.integers(0, 10, n)))
    probs, _ = predict(classifier, x)
    label, conf = probs.argmax(1), probs.max(1)
    ink = x.mean(1)
    confident = conf > 0.9
    counts = np.bincount(label[confident], minlength=10)
    a, b = (int(d) for d in np.argsort(counts)[::-1][:2])
    if counts[b] < 8:
        raise UserError("too few confidently classified samples of two digits for "
                        "latent arithmetic: is the run trained?")

    def kinds(digit):
        idx = np.flatnonzero(confident & (label == digit))
        order = idx[np.argsort(ink[idx])]
        q = max(1, len(order) // 4)
        return order[-q:], order[:q]           # thick, thin
    thick_a, thin_a = kinds(a)
    _, thin_b = kinds(b)
    means = [z[thick_a].mean(0), z[thin_a].mean(0), z[thin_b].mean(0)]
    result = means[0] - means[1] + means[2]
    row_z = np.stack(means + [result]).astype(np.float32)
    row = unit_images(G, row_z, _labels(G, [a, a, b, b]))
    row_probs, _ = predict(classifier, row)
    names = [f"thick {a}", f"thin {a}", f"thin {b}", f"thick {a} - thin {a} + thin {b}"]
    return {"digits": [a, b], "images": row, "names": names,
            "ink": [float(v) for v in row.mean(1)],
            "label": [int(v) for v in row_probs.argmax(1)],
            "kind_ink": {"thick_a": float(ink[thick_a].mean()),
                         "thin_a": float(ink[thin_a].mean()),
                         "thin_b": float(ink[thin_b].mean())}}


def latent_study(run_dir, pairs: int = 6, steps: int = 10, seed: int = 0) -> dict:
    """interpolation.png, arithmetic.png and latent.json of a finished run; prints the
    arithmetic row. Returns latent.json's content."""
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    if not (0 < pairs <= 100 and 2 <= steps <= 100):
        raise UserError("--pairs must be 1 to 100 and --steps 2 to 100")
    # Imported after the checks: Keras (and TensorFlow) start slowly.
    run = RunFolder(run_dir)
    with run.held():   # as evaluate: the run's lock from first read to last write
        dataset = run.dataset()
        G = run.load_generator()
        z_dim = z_dim_of(G)
        rng = np.random.default_rng(seed)
        walks, _ = interpolations(G, z_dim, pairs, steps, rng)
        arith = arithmetic(G, load_classifier(dataset=dataset), z_dim, rng)
        save_rows(walks, run / INTERPOLATION)
        save_rows(arith["images"][None], run / ARITHMETIC, column_titles=arith["names"])
        info = {"seed": seed, **{k: v for k, v in arith.items() if k != "images"}}
        atomic_write_text(run / LATENT, json.dumps(info, indent=2) + "\n")
        for name, ink, label in zip(arith["names"], arith["ink"], arith["label"]):
            print(f"{name:<32} ink {ink:.3f}  classified as {label}")
        print(f"wrote {run}/interpolation.png, arithmetic.png, latent.json")
        return info
