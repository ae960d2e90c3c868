"""Pictures of a run: sample grids, the training GIF, the loss plot, and the figure,
PNG and GIF helpers every other picture of the project (toys, saturation) uses.

Pure functions: each takes arrays (or records) and a path, writes that one file
atomically, and touches no global matplotlib state (no pyplot).
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import imageio.v3 as iio
import numpy as np
from matplotlib import gridspec  # for save_rows
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from gan_tf.data import mixtures
from gan_tf.runs.files import atomic_write_bytes

# --- shared helpers

def new_figure(figsize) -> Figure:
    """A matplotlib Figure with its own Agg canvas, outside pyplot's global state."""
    fig = Figure(figsize=figsize)
    FigureCanvasAgg(fig)
    return fig


def figure_png(fig: Figure, **savefig_kwargs) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig_kwargs)
    return buf.getvalue()


def save_figure(fig: Figure, path: Path, **savefig_kwargs) -> None:
    atomic_write_bytes(Path(path), figure_png(fig, **savefig_kwargs))


def figure_rgb(fig: Figure) -> np.ndarray:
    """The drawn figure as an (H, W, 3) uint8 array, e.g. a GIF frame."""
    fig.canvas.draw()
    return np.asarray(fig.canvas.buffer_rgba())[..., :3].copy()


def save_png(image: np.ndarray, path: Path) -> None:
    """An (H, W, 3) uint8 array as a PNG file."""
    buf = io.BytesIO()
    iio.imwrite(buf, image, extension=".png")
    atomic_write_bytes(Path(path), buf.getvalue())


def save_frames_gif(frames: list[np.ndarray], path: Path, fps: float) -> None:
    """Image arrays (grey, RGB or RGBA; smaller ones padded with white), in order, as
    one looping GIF."""
    if not frames:
        raise ValueError("no frames to assemble into a GIF")
    frames = [_rgb(f) for f in frames]
    h = max(f.shape[0] for f in frames)
    w = max(f.shape[1] for f in frames)
    frames = [np.pad(f, ((0, h - f.shape[0]), (0, w - f.shape[1]), (0, 0)),
                     constant_values=255) for f in frames]
    data = iio.imwrite("<bytes>", np.stack(frames), extension=".gif",
                       duration=int(round(1000.0 / fps)), loop=0)
    atomic_write_bytes(Path(path), data)


# --- a run's pictures

def grid_figure_png(images: np.ndarray, image_shape=(28, 28)) -> bytes:
    """The tutorial's `plot(samples)` look: a 4x4-inch figure of a square grid with
    white gaps of 0.05 of a cell, no axes, Greys_r, saved with bbox_inches='tight'.
    Images are in [0, 1].

    The tutorial drew one subplot per sample; we tile the samples into one array
    (each pixel 5x5, so the 0.05 gap is a whole 7 pixels) and draw it once, which
    looks the same and costs a tenth of the time, since frames are drawn while
    training runs.
    """
    tile = 5
    side = math.ceil(math.sqrt(len(images)))
    h, w = image_shape[0] * tile, image_shape[1] * tile
    gap = round(0.05 * w)
    canvas = np.ones((side * h + (side - 1) * gap, side * w + (side - 1) * gap), np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, side)
        big = np.kron(np.reshape(img, image_shape), np.ones((tile, tile), np.float32))
        canvas[r * (h + gap): r * (h + gap) + h, c * (w + gap): c * (w + gap) + w] = big
    size = max(4, side)   # 4 inches for the tutorial's 4x4; an inch a cell beyond that
    fig = new_figure((size, size))
    # The area matplotlib's default subplot parameters give a 4x4 GridSpec.
    ax = fig.add_axes((0.125, 0.11, 0.775, 0.77))
    ax.axis("off")
    ax.imshow(canvas, cmap="Greys_r", vmin=0.0, vmax=1.0, interpolation="antialiased")
    return figure_png(fig, bbox_inches="tight")


def save_grid(images: np.ndarray, path: Path, image_shape=(28, 28)) -> None:
    atomic_write_bytes(Path(path), grid_figure_png(images, image_shape))


def grid_array(images: np.ndarray, image_shape=(28, 28)) -> np.ndarray:
    """The same samples tiled into one (H, W) array in [0, 1], for TensorBoard."""
    side = math.ceil(math.sqrt(len(images)))
    h, w = image_shape
    out = np.zeros((side * h, side * w), np.float32)
    for i, img in enumerate(images):
        r, c = divmod(i, side)
        out[r * h:(r + 1) * h, c * w:(c + 1) * w] = np.reshape(img, image_shape)
    return out


def read_image(path: Path) -> np.ndarray:
    # Frames are PNGs: naming the format keeps imageio from trying every other
    # plugin (and warning from each) on a damaged file.
    return iio.imread(path, plugin="pillow")


def write_gif(frame_paths: list[Path], path: Path, fps: float = 10.0) -> None:
    """All frame files, in order, as one looping GIF."""
    save_frames_gif([read_image(p) for p in frame_paths], path, fps)


def _rgb(frame: np.ndarray) -> np.ndarray:
    if frame.ndim == 2:
        frame = np.stack([frame] * 3, axis=-1)
    if frame.shape[-1] == 4:  # composite RGBA onto white
        alpha = frame[..., 3:4].astype(np.float32) / 255.0
        frame = frame[..., :3] * alpha + 255.0 * (1.0 - alpha)
    return frame[..., :3].astype(np.uint8)


def plot_losses(records: list[dict], path: Path, title: str = "") -> None:
    """D and G loss against iterations, from stats.jsonl records (window means)."""
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    its = [r["iter"] for r in records]
    ax.plot(its, [r["d_loss"] for r in records], label="D loss")
    ax.plot(its, [r["g_loss"] for r in records], label="G loss")
    ax.set_xlabel("iteration")
    ax.set_ylabel("loss (mean over each logging window)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_parzen(records: list[dict], path: Path, title: str = "") -> None:
    """The quick Parzen estimate (parzen_every) against iterations, from the
    stats.jsonl records that carry one."""
    points = [(r["iter"], r["parzen_quick"]) for r in records if "parzen_quick" in r]
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    ax.plot([p[0] for p in points], [p[1] for p in points], marker="o", markersize=3)
    ax.set_xlabel("iteration")
    ax.set_ylabel("quick Parzen log-likelihood (nats, validation images)")
    ax.set_title(title)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


QUALITY_PANELS = (("quality_fd", "Fréchet distance to validation (log scale)", True),
                  ("quality_score", "MNIST score (max 10)", False),
                  ("quality_confident", "share read with p > 0.9", False))


def quality_points(records: list[dict], key: str) -> tuple[list, list]:
    """(iterations, values) of one eval_every measure from stats.jsonl records."""
    points = [(r["iter"], r[key]) for r in records if isinstance(r.get(key), (int, float))]
    return [p[0] for p in points], [p[1] for p in points]


def plot_quality(records: list[dict], path: Path, title: str = "", runs=None) -> None:
    """eval_every's measures against iterations, from stats.jsonl records: G's and,
    where the run has one, its moving average's ('ema_' keys), the best G's point
    marked. `runs` (label -> records) draws several runs (seeds) on the same axes."""
    runs = runs or {"": records}
    fig = new_figure((13, 4))
    for i, (key, label, log) in enumerate(QUALITY_PANELS):
        ax = fig.add_subplot(1, len(QUALITY_PANELS), i + 1)
        for j, (name, recs) in enumerate(runs.items()):
            colour = f"C{j}"
            for prefix, style, what in (("", ":", "G"), ("ema_", "-", "G's average")):
                its, values = quality_points(recs, prefix + key)
                if its:
                    ax.plot(its, values, style, color=colour, marker="." if style == "-"
                            else None, label=f"{name} {what}".strip())
            # The best G is chosen among the average's records where the run has one.
            chosen = ("ema_" if any("ema_" + key in r for r in recs) else "") + key
            best = [r for r in recs if r.get("best") and isinstance(r.get(chosen), float)]
            if best:
                ax.plot([best[-1]["iter"]], [best[-1][chosen]], "*", color=colour,
                        markersize=12)
        if log:
            ax.set_yscale("log")
        ax.set_xlabel("iteration")
        ax.set_title(label, fontsize=10)
        ax.grid(alpha=0.3)
        if i == 0:
            ax.legend(fontsize=7)
    fig.suptitle(title + "   (★ the best G by validation Fréchet distance)")
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_test_errors(records: list[dict], path: Path, title: str = "", runs=None,
                     per_epoch: int | None = None) -> None:
    """A classifier family's eval_every curve: test errors against iterations (epochs,
    with `per_epoch` iterations to one), of the classifier (solid) and of D itself
    ('d_' keys, dotted) where the classifier is D's average; `runs` (label ->
    records) draws several seeds on the same axes. A log scale: errors fall from
    thousands to tens."""
    runs = runs or {"": records}
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    scale = per_epoch or 1
    for j, (name, recs) in enumerate(runs.items()):
        for prefix, style, what in (("", "-", "classifier"), ("d_", ":", "D itself")):
            its, values = quality_points(recs, prefix + "test_errors")
            if its:
                ax.plot([i / scale for i in its], values, style, color=f"C{j}",
                        label=f"{name} {what}".strip())
    ax.set_yscale("log")
    ax.set_xlabel("epoch" if per_epoch else "iteration")
    ax.set_ylabel("test errors (of 10,000)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def plot_elbo(records: list[dict], path: Path, title: str = "") -> None:
    """A VAE's -ELBO and its two terms (reconstruction -E log p(x|z), KL(q || p)), in
    nats per image, against iterations, from stats.jsonl records (window means). The
    y axis is logarithmic: -ELBO falls from ~550 to ~100 nats, the KL stays ~10-30."""
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    its = [r["iter"] for r in records]
    for key, label in (("neg_elbo", "-ELBO = reconstruction + KL"),
                       ("reconstruction", "reconstruction: -E_q log p(x|z)"),
                       ("kl", "KL(q(z|x) || p(z))")):
        ax.plot(its, [r[key] for r in records], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("iteration")
    ax.set_ylabel("nats per image (mean over each logging window)")
    ax.set_title(title)
    ax.grid(alpha=0.3, which="both")
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def save_rows(images: np.ndarray, path: Path, column_titles=(), image_shape=(28, 28),
              row_titles=()) -> None:
    """A (rows, cols, 784) array of images in [0, 1] as one grid PNG, with optional
    titles over the columns (e.g. a sample beside its nearest training images) and
    left of the rows (e.g. which model drew them)."""
    rows, cols = images.shape[:2]
    fig = new_figure((1.1 * cols, 1.1 * rows + 0.3))
    gs = gridspec.GridSpec(rows, cols, figure=fig, wspace=0.05, hspace=0.05)
    for r in range(rows):
        for c in range(cols):
            ax = fig.add_subplot(gs[r, c])
            ax.axis("off")
            ax.imshow(np.reshape(images[r, c], image_shape), cmap="Greys_r", vmin=0.0,
                      vmax=1.0)
            if r == 0 and c < len(column_titles):
                ax.set_title(column_titles[c], fontsize=8)
            if c == 0 and r < len(row_titles):
                ax.text(-0.15, 0.5, row_titles[r], transform=ax.transAxes, ha="right",
                        va="center", fontsize=9)
    save_figure(fig, path, bbox_inches="tight")


def _mixture_scatter(ax, cloud, mixture, title):
    centres, _ = mixtures.MIXTURES[mixture]
    ax.scatter(cloud[:, 0], cloud[:, 1], s=2, alpha=0.4, c="tab:green")
    ax.scatter(centres[:, 0], centres[:, 1], s=25, marker="x", c="k")
    lim = 1.6 if mixture == "ring" else 5.5
    ax.set_xlim(-lim, lim)
    ax.set_ylim(-lim, lim)
    ax.set_aspect("equal")
    ax.set_title(title, fontsize=8)
    ax.set_xticks([])
    ax.set_yticks([])


def mixture_clouds(panels) -> np.ndarray:
    """panels: rows of (2-D sample cloud, mixture name, title) -> an RGB image: each
    cloud over its mixture's centres (data/mixtures.py)."""
    rows, cols = len(panels), len(panels[0])
    fig = new_figure((2.6 * cols, 2.6 * rows))
    for r, row in enumerate(panels):
        for c, (cloud, mixture, title) in enumerate(row):
            _mixture_scatter(fig.add_subplot(rows, cols, r * cols + c + 1), cloud, mixture, title)
    fig.tight_layout()
    return figure_rgb(fig)
