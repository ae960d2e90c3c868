"""`python -m gan_tf.info_codes`: what InfoGAN's codes learned, unsupervised
(Chen et al. 2016, section 7.1 and Figure 2).

For each seed of a run or sweep of mnist-infogan: 1,000 samples for each value of
the categorical code (noise and continuous codes drawn from U(-1, 1)), read by the
committed classifier; the code's accuracy is the best one-to-one assignment of code
values to digits (evaluation/codes.py; the paper: 5% error). The pictures vary one
code at a time with the rest fixed, as the paper's Figure 2: rows are the
categorical code's values, columns a continuous code from -1 to 1 (one picture per
continuous code), the noise of each row its own. Writes codes.json and
codes-seed-K-cN.png into outputs/mnist-infogan-codes (or --out).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.evaluation.classifier import load_classifier, predict
from gan_tf.evaluation.codes import code_accuracy, confusion
from gan_tf.families.infogan import noise_dim
from gan_tf.models.networks import unit_images
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.pictures import save_grid
from gan_tf.runs.sweeps import seed_runs

PER_CODE = 1000
STEPS = 10


def code_inputs(cfg, value: int, n: int, rng) -> np.ndarray:
    """n z's of cfg's InfoGAN with its categorical code at `value` (the middle of that
    value's bin of [-1, 1]), the rest U(-1, 1)."""
    z = rng.uniform(-1, 1, (n, cfg.z_dim)).astype(np.float32)
    z[:, noise_dim(cfg)] = -1.0 + (value + 0.5) * 2.0 / cfg.params.categorical
    return z


def measure(G, cfg, classifier, seed: int = 0, per_code: int = PER_CODE) -> dict:
    rng = np.random.default_rng(seed)
    k = cfg.params.categorical
    codes = np.repeat(np.arange(k), per_code)
    z = np.concatenate([code_inputs(cfg, v, per_code, rng) for v in range(k)])
    probs, _ = predict(classifier, unit_images(G, z))
    return code_accuracy(confusion(codes, probs.argmax(1), k))


def varied(G, cfg, which: int, seed: int = 0) -> np.ndarray:
    """(categorical x STEPS) images: row v has code value v, column j continuous code
    `which` at -1 + 2j / (STEPS - 1); each row keeps one noise and the other codes."""
    rng = np.random.default_rng(seed)
    rows = []
    for v in range(cfg.params.categorical):
        z = np.repeat(code_inputs(cfg, v, 1, rng), STEPS, axis=0)
        z[:, noise_dim(cfg) + 1 + which] = np.linspace(-1, 1, STEPS)
        rows.append(unit_images(G, z))
    return np.concatenate(rows)


def study(run, out_dir) -> dict:
    table = {}
    with locked(Path(out_dir), "study folder", flag="--out"):
        runs = seed_runs(Path(run), "train it first: make mnist-infogan ARGS=\"--seeds 3\"")
        classifier = load_classifier()
        for seed, folder in sorted(runs.items()):
            cfg = folder.read_config()
            if cfg.family != "infogan":
                raise UserError(f"{folder} is a {cfg.family!r} run, not an InfoGAN's: give a "
                                f"run of make mnist-infogan")
            G = folder.load_generator()
            table[str(seed)] = measure(G, cfg, classifier)
            for c in range(cfg.params.continuous):
                save_grid(varied(G, cfg, c), Path(out_dir) / f"codes-seed-{seed}-c{c + 2}.png")
        accs = [r["accuracy"] for r in table.values()]
        summary = {"seeds": table, "accuracy_mean": float(np.mean(accs)),
                   "accuracy_std": float(np.std(accs, ddof=1)) if len(accs) > 1 else 0.0}
        atomic_write_text(Path(out_dir) / "codes.json", json.dumps(summary, indent=1) + "\n")
    for seed, r in table.items():
        print(f"seed {seed}: the categorical code's accuracy {r['accuracy']:.3f} "
              f"(code value -> digit: {r['assignment']})")
    print(f"mean {summary['accuracy_mean']:.3f} ± {summary['accuracy_std']:.3f} over "
          f"{len(accs)} seed(s); wrote {out_dir}/codes.json and the pictures")
    return summary
