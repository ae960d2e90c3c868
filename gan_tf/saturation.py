"""`python -m gan_tf.saturation`: the minimax G loss saturates, the non-saturating one
does not (the lecture's argument for maximising log D(G(z)) instead).

Trains the tutorial's GAN twice from the same seed, once with G minimising
log(1 - D(G(z))) (the GAN paper's game) and once maximising log D(G(z)) (the
tutorial's), and plots G's gradient norm and D(G(z)) against iterations. Early in
training D rejects fakes confidently, D(G(z)) ~ 0, and the minimax loss's gradient,
proportional to D(G(z)), all but vanishes.

Writes minimax/ and nonsaturating/ run folders and saturation.png into
outputs/saturating-vs-nonsaturating (or --run-dir).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
from pathlib import Path

from gan_tf.config import Config
from gan_tf.errors import UserError

G_LOSSES = ("minimax", "nonsaturating")


def run(run_dir: Path, iters: int = 5000, base: Config | None = None, data=None,
        data_dir=None, overwrite: bool = False, log=print) -> dict:
    """Both runs; returns {g_loss: stats records}."""
    from gan_tf import train_lib
    from gan_tf.data import load_mnist
    from gan_tf.runs import RunFolder
    base = base or Config(snapshot_every=500, log_every=50)
    data = data or load_mnist(data_dir)
    records = {}
    for g_loss in G_LOSSES:
        cfg = dataclasses.replace(base, iters=iters, g_loss=g_loss)
        sub = run_dir / g_loss
        train_lib.train(cfg, sub, data=data, overwrite=overwrite,
                        log=lambda line, g=g_loss: log(f"[{g}] {line}"))
        records[g_loss] = RunFolder(sub).read_stats()
    plot(records, run_dir / "saturation.png")
    return records


def plot(records: dict, path: Path) -> None:
    from gan_tf.snapshots import new_figure, save_figure
    fig = new_figure((10, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for g_loss, recs in records.items():
        its = [r["iter"] for r in recs]
        ax1.plot(its, [r["g_grad_norm"] for r in recs], label=g_loss)
        ax2.plot(its, [r["d_fake"] for r in recs], label=g_loss)
    ax1.set_yscale("log")
    ax1.set_title("G's gradient norm (mean per logging window)")
    ax2.set_title("D(G(z)) (mean per logging window)")
    for ax in (ax1, ax2):
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    p = argparse.ArgumentParser(prog="python -m gan_tf.saturation", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--iters", type=int, default=5000, help="iterations per run (5000)")
    p.add_argument("--run-dir", default="outputs/saturating-vs-nonsaturating")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    p.add_argument("--overwrite", action="store_true", help="replace earlier runs")
    args = p.parse_args(argv)
    try:
        if args.iters <= 0:
            raise UserError("--iters must be positive")
        records = run(Path(args.run_dir), args.iters, data_dir=args.data_dir,
                      overwrite=args.overwrite)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for g_loss, recs in records.items():
        early = [r for r in recs if r["iter"] <= 1000]
        print(f"{g_loss}: first 1,000 iterations: mean |grad G| "
              f"{sum(r['g_grad_norm'] for r in early) / len(early):.4g}, mean D(G(z)) "
              f"{sum(r['d_fake'] for r in early) / len(early):.4f}")
    print(f"wrote {args.run_dir}/saturation.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
