"""The xy game: player x minimises f = xy, player y minimises -xy (Salimans et al.
2016, "Improved Techniques for Training GANs", section 3). Gradient descent does
not converge to the equilibrium (0, 0):

  * simultaneous updates (both gradients at the same point) spiral outward, the
    radius growing by exactly sqrt(1 + eta^2) every step;
  * alternating updates (x first, then y at the new x) stay on a closed orbit that
    conserves Q = x^2 - eta*x*y + y^2 exactly, for 0 < eta < 2.

Both run through the same optimizer code the GANs use: Keras SGD on tf.Variables
(float64 positions; Keras holds eta itself in float32, so "exactly" means for
eta = float32(eta)).

`python -m gan_tf.toys.xy_game` writes trajectories.png and orbit.gif to its run
folder (default outputs/xy-game).
"""

from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.runs.files import locked
from gan_tf.runs.pictures import figure_rgb, new_figure, save_figure, save_frames_gif


def play(eta: float, steps: int, mode: str, start=(1.0, 0.0), dtype="float64") -> np.ndarray:
    """(steps + 1, 2) positions of (x, y) under SGD with step eta."""
    if mode not in ("simultaneous", "alternating"):
        raise ValueError(f"mode must be 'simultaneous' or 'alternating', got {mode!r}")
    x = tf.Variable(start[0], dtype=dtype)
    y = tf.Variable(start[1], dtype=dtype)
    opt_x = keras.optimizers.SGD(learning_rate=eta)
    opt_y = keras.optimizers.SGD(learning_rate=eta)

    def grad_x():            # d(xy)/dx
        with tf.GradientTape() as tape:
            f = x * y
        return tape.gradient(f, x)

    def grad_y():            # d(-xy)/dy
        with tf.GradientTape() as tape:
            f = -x * y
        return tape.gradient(f, y)

    path = [(float(x.numpy()), float(y.numpy()))]
    for _ in range(steps):
        if mode == "simultaneous":
            gx, gy = grad_x(), grad_y()
            opt_x.apply([gx], [x])
            opt_y.apply([gy], [y])
        else:
            opt_x.apply([grad_x()], [x])
            opt_y.apply([grad_y()], [y])
        path.append((float(x.numpy()), float(y.numpy())))
    return np.array(path)


def plot_trajectories(paths: dict, eta: float, path: Path) -> None:
    fig = new_figure((10, 5))
    for i, (mode, p) in enumerate(paths.items()):
        ax = fig.add_subplot(1, 2, i + 1)
        ax.plot(p[:, 0], p[:, 1], lw=0.8)
        ax.plot(p[0, 0], p[0, 1], "go", label="start")
        ax.plot(0, 0, "k+", ms=12, label="equilibrium (0, 0)")
        ax.set_title(f"{mode} updates, eta={eta}")
        ax.set_xlabel("x")
        ax.set_ylabel("y")
        ax.set_aspect("equal")
        ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def orbit_gif(paths: dict, path: Path, frames: int = 40) -> None:
    """Both trajectories drawn up to step k, for k across the run."""
    n = len(next(iter(paths.values())))
    lim = max(np.abs(p).max() for p in paths.values()) * 1.1
    images = []
    for k in np.linspace(2, n, frames).astype(int):
        fig = new_figure((6, 3))
        for i, (mode, p) in enumerate(paths.items()):
            ax = fig.add_subplot(1, 2, i + 1)
            ax.plot(p[:k, 0], p[:k, 1], lw=0.8)
            ax.plot(p[k - 1, 0], p[k - 1, 1], "ro", ms=4)
            ax.set_xlim(-lim, lim)
            ax.set_ylim(-lim, lim)
            ax.set_aspect("equal")
            ax.set_title(f"{mode}, step {k - 1}", fontsize=8)
        images.append(figure_rgb(fig))
    save_frames_gif(images, path, fps=10)


def xy_study(run_dir, eta: float = 0.1, steps: int = 200) -> dict:
    """Both update rules into run_dir's trajectories.png and orbit.gif; prints what
    each conserves or grows."""
    if not (eta > 0 and steps > 0):     # NaN fails both comparisons
        raise UserError("--eta and --steps must be positive")
    paths = {m: play(eta, steps, m) for m in ("simultaneous", "alternating")}
    run = Path(run_dir)
    with locked(run, "study folder"):   # creates it; a second process is refused
        plot_trajectories(paths, eta, run / "trajectories.png")
        orbit_gif(paths, run / "orbit.gif")
    r = np.hypot(*paths["simultaneous"][-1])
    q = lambda v: v[0] ** 2 - eta * v[0] * v[1] + v[1] ** 2     # noqa: E731
    print(f"simultaneous: radius 1 -> {r:.4f} after {steps} steps "
          f"(sqrt(1+eta^2)^steps = {(1 + eta ** 2) ** (steps / 2):.4f})")
    print(f"alternating: Q = x^2 - eta*x*y + y^2 from {q(paths['alternating'][0]):.6f} "
          f"to {q(paths['alternating'][-1]):.6f}")
    print(f"wrote {run / 'trajectories.png'} and {run / 'orbit.gif'}")
    return paths
