"""Mode collapse on 2-D Gaussian mixtures, and PacGAN as a remedy, measured alike.

For the ring of 8 and the grid of 25 (see mixtures.py), over several seeds, the
vanilla GAN (non-saturating loss, one D and one G Adam step per iteration) and
PacGAN (Lin et al. 2018, "PacGAN: The power of two samples in generative
adversarial networks"): the same networks and training, but D judges `pack`
samples at once, all real or all fake, so a generator that repeats itself is
easier to spot. Both are measured by evaluation/modes.mixture_modes on 2,500 samples.

`python -m gan_tf.toys.mode_collapse` writes results.json, final.png (samples
of seed 0 against the centres) and training.gif (seed 0 over training) to
outputs/mode-collapse.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.data import mixtures
from gan_tf.evaluation.modes import mixture_modes
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.pictures import mixture_clouds, save_frames_gif, save_png
from gan_tf.studies.toys.toy_gan import ToyGAN

PACK = 2
METHODS = {"vanilla": 1, f"pacgan{PACK}": PACK}
TRAINING = dict(z_dim=16, hidden=128, layers=2, batch=256, lr=1e-3, beta1=0.5)


def train_one(mixture: str, pack: int, seed: int, iters: int, frames: int = 0):
    """Metrics after `iters` iterations, and `frames` sample clouds along the way."""
    centres, std = mixtures.MIXTURES[mixture]
    gan = ToyGAN(mixtures.sampler(centres, std), 2, pack=pack, seed=seed, **TRAINING)
    clouds = []
    step = iters // frames if frames else iters
    done = 0
    while done < iters:
        if frames:
            clouds.append((done, gan.sample(1000)))
        n = min(step, iters - done)
        gan.train(n)
        done += n
    final = gan.sample(mixtures.SAMPLES)
    clouds.append((done, final[:1000]))
    return mixture_modes(final, centres, std), clouds


def run(run_dir: Path, iters: int = 20000, seeds=(0, 1, 2, 3, 4), frames: int = 20,
        log=print) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    results, clouds = {}, {}
    for mixture in mixtures.MIXTURES:
        for method, pack in METHODS.items():
            per_seed = []
            for seed in seeds:
                m, c = train_one(mixture, pack, seed, iters, frames if seed == seeds[0] else 0)
                per_seed.append(m)
                if seed == seeds[0]:
                    clouds[mixture, method] = c
                log(f"{mixture} {method} seed {seed}: {m['modes']}/"
                    f"{m['modes_total']} modes, {m['high_quality']:.1%} high quality")
            modes = [m["modes"] for m in per_seed]
            hq = [m["high_quality"] for m in per_seed]
            results[f"{mixture}/{method}"] = {
                # Sample standard deviations (ddof 1), as every seed sweep reports.
                "modes_covered_mean": float(np.mean(modes)), "modes_covered_std": _sd(modes),
                "high_quality_mean": float(np.mean(hq)), "high_quality_std": _sd(hq),
                "modes_total": per_seed[0]["modes_total"], "per_seed": per_seed}
    keys = [(mx, me) for mx in mixtures.MIXTURES for me in METHODS]
    frames_rgb = []
    for k in range(len(clouds[keys[0]])):
        panels = [[(clouds[mx, me][k][1], mx, f"{mx}, {me}, iteration {clouds[mx, me][k][0]}")
                   for me in METHODS] for mx in mixtures.MIXTURES]
        frames_rgb.append(mixture_clouds(panels))
    save_frames_gif(frames_rgb, run_dir / "training.gif", fps=4)
    save_png(frames_rgb[-1], run_dir / "final.png")
    out = {"iters": iters, "seeds": list(seeds), "training": TRAINING, "results": results}
    atomic_write_text(run_dir / "results.json", json.dumps(out, indent=2) + "\n")
    return out


def _sd(values) -> float:
    return float(np.std(values, ddof=1)) if len(values) > 1 else 0.0


def format_table(out: dict) -> str:
    lines = [f"{'mixture/method':<18}{'modes covered':>18}{'high quality':>18}"]
    for key, r in out["results"].items():
        lines.append(f"{key:<18}{r['modes_covered_mean']:>9.1f} ± {r['modes_covered_std']:<3.1f}"
                     f"/{r['modes_total']:<2}{r['high_quality_mean']:>11.1%} ± "
                     f"{r['high_quality_std']:.1%}")
    return "\n".join(lines)


def mode_collapse_study(run_dir, iters: int = 20000, seeds: int = 5) -> dict:
    """Every mixture and method over `seeds` seeds into run_dir; prints the table."""
    if not (iters >= 20 and seeds > 0):
        raise UserError("--iters must be at least 20 and --seeds positive")
    with locked(Path(run_dir), "study folder"):   # a second process is refused
        out = run(Path(run_dir), iters, tuple(range(seeds)))
    print(format_table(out))
    print(f"wrote {run_dir}/results.json, final.png, training.gif")
    return out
