"""Figure 1 of the GAN paper, trained for real: G maps z ~ Uniform(-1, 1) onto the
line to imitate a 1-D Gaussian, while D learns to tell them apart.

Each picture shows the data density (black, dotted), the density of G's samples
(green) and D(x) (blue, dashed). As training converges, p_g approaches p_data and
D(x) flattens towards 1/2, where D can no longer tell them apart.

`python -m gan_tf.toys.gaussian1d` writes stages.png (four stages of training),
training.gif (the whole run) and metrics.json to outputs/gaussian-1d.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.pictures import figure_rgb, new_figure, save_frames_gif, save_png
from gan_tf.studies.toys.toy_gan import ToyGAN

MU, SIGMA = 2.0, 0.5


def data_sampler(n, seed):
    return MU + SIGMA * tf.random.stateless_normal([n, 1], seed)


def make_gan(seed: int = 0) -> ToyGAN:
    # D learns 10x faster than G (the two time-scale rule, Heusel et al. 2017): with
    # equal rates D stays flat at ~1/2 while G oscillates around the data for
    # thousands of iterations (W1 jumping between 0.07 and 0.5 here).
    return ToyGAN(data_sampler, 1, z_dim=1, hidden=32, layers=2, batch=256, lr=1e-4,
                  d_lr=1e-3, beta1=0.5, seed=seed, z_dist="uniform")


def wasserstein_1d(a: np.ndarray, b: np.ndarray) -> float:
    """W1 between two equal-size 1-D samples: the mean gap of their sorted values."""
    return float(np.abs(np.sort(a.ravel()) - np.sort(b.ravel())).mean())


def measure(gan: ToyGAN, n: int = 20_000) -> dict:
    samples = gan.sample(n)
    data = np.random.default_rng(0).normal(MU, SIGMA, n)
    d = gan.discriminate(data[:2000, None])      # D where the data live
    return {"wasserstein_1": wasserstein_1d(samples, data),
            "wasserstein_1_data_vs_data": wasserstein_1d(
                np.random.default_rng(1).normal(MU, SIGMA, n), data),
            "g_mean": float(samples.mean()), "g_std": float(samples.std()),
            "d_mean_on_data": float(d.mean()),
            "d_mean_gap_from_half_on_data": float(np.abs(d - 0.5).mean())}


def draw(ax, gan: ToyGAN, title: str) -> None:
    xs = np.linspace(MU - 6 * SIGMA, MU + 6 * SIGMA, 400)
    p_data = np.exp(-0.5 * ((xs - MU) / SIGMA) ** 2) / (SIGMA * np.sqrt(2 * np.pi))
    samples = gan.sample(20_000).ravel()
    hist, edges = np.histogram(samples, bins=120, range=(xs[0], xs[-1]), density=True)
    ax.plot(xs, p_data, "k:", lw=2, label="data")
    ax.plot((edges[:-1] + edges[1:]) / 2, hist, "g-", lw=1.5, label="G(z)")
    ax.plot(xs, gan.discriminate(xs[:, None]), "b--", lw=1.5, label="D(x)")
    ax.set_ylim(0, max(1.2, p_data.max() * 1.3))
    ax.set_title(title, fontsize=9)
    ax.set_xlabel("x")


def _figure_rgb(draw_fn, figsize) -> np.ndarray:
    fig = new_figure(figsize)
    draw_fn(fig)
    fig.tight_layout()
    return figure_rgb(fig)


def run(run_dir: Path, iters: int = 15000, seed: int = 0, frame_every: int = 300) -> dict:
    run_dir.mkdir(parents=True, exist_ok=True)
    gan = make_gan(seed)
    stages = {0, iters // 10, iters // 3, iters}
    frames, stage_images = [], {}
    for it in range(0, iters + 1, frame_every):
        title = f"iteration {it}"
        frames.append(_figure_rgb(lambda fig: (draw(fig.add_subplot(1, 1, 1), gan, title),
                                               fig.axes[0].legend(fontsize=8)), (5, 3.5)))
        for s in sorted(stages):
            if it <= s < it + frame_every and s not in stage_images:
                stage_images[s] = it
        if it < iters:
            gan.train(min(frame_every, iters - it))
    metrics = measure(gan)
    save_frames_gif(frames, run_dir / "training.gif", fps=10)
    picks = [frames[i // frame_every] for i in sorted(stage_images.values())]
    save_png(np.concatenate(picks, axis=1), run_dir / "stages.png")
    atomic_write_text(run_dir / "metrics.json", json.dumps(
        {"iters": iters, "seed": seed, "mu": MU, "sigma": SIGMA, **metrics}, indent=2) + "\n")
    return metrics


def gaussian_study(run_dir, iters: int = 15000, seed: int = 0) -> dict:
    """The experiment into run_dir; prints its measures."""
    if not iters > 0:
        raise UserError("--iters must be positive")
    with locked(Path(run_dir), "study folder"):   # a second process is refused
        m = run(Path(run_dir), iters, seed)
    print(json.dumps(m, indent=2))
    print(f"wrote {run_dir}/stages.png, training.gif, metrics.json")
    return m
