"""`python -m gan_tf.saturation`: the minimax G loss saturates, the non-saturating one
does not (the lecture's argument for maximising log D(G(z)) instead).

Trains the tutorial's GAN twice from the same seed, once with G minimising
log(1 - D(G(z))) (the GAN paper's game) and once maximising log D(G(z)) (the
tutorial's), and plots G's gradient norm and D(G(z)) against iterations. Early in
training D rejects fakes confidently, D(G(z)) ~ 0, and the minimax loss's gradient,
proportional to D(G(z)), all but vanishes.

Each G loss is a seed sweep (--seeds, default 5, trained at once as one stack): writes
minimax/seed-K/ and nonsaturating/seed-K/ run folders, saturation.png (one line per
seed) and saturation.json (per seed: the windows' means) into
outputs/saturating-vs-nonsaturating (or --run-dir).
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from gan_tf.core.config import MAX_SEEDS, Config
from gan_tf.core.errors import UserError
from gan_tf.runs.files import atomic_write_text, locked

G_LOSSES = ("minimax", "nonsaturating")


def run(run_dir: Path, iters: int = 5000, base: Config | None = None, data=None,
        data_dir=None, overwrite: bool = False, log=print, seeds=(0,)) -> dict:
    """Both G losses, each a seed sweep (training/sweep.py: all seeds in one stack) in
    run_dir/G_LOSS/seed-K; returns {g_loss: [stats records of each seed]}."""
    from gan_tf.data.datasets import load_mnist
    from gan_tf.runs.sweeps import sweep_folders
    from gan_tf.training.sweep import train_sweep
    base = base or Config(snapshot_every=500, log_every=50)
    data = data or load_mnist(data_dir)
    records = {}
    for g_loss in G_LOSSES:
        cfg = dataclasses.replace(base, iters=iters, g_loss=g_loss, seed=seeds[0])
        sub = run_dir / g_loss
        train_sweep(cfg, list(seeds), sub, overwrite=overwrite, data=data,
                          log=lambda line, g=g_loss: log(f"[{g}] {line}"))
        records[g_loss] = [f.read_stats() for f in sweep_folders(sub)]
    plot(records, run_dir / "saturation.png")
    return records


def summarise(records: dict, seeds) -> dict:
    """Per G loss and seed: mean G gradient norm and D(G(z)) over the first 1,000
    iterations and over the last 1,000."""
    out = {}
    for g_loss, runs in records.items():
        rows = {}
        for seed, recs in zip(seeds, runs):
            last = recs[-1]["iter"]
            early = [r for r in recs if r["iter"] <= 1000]
            late = [r for r in recs if r["iter"] > last - 1000]
            rows[str(seed)] = {f"{k}_{when}": sum(r[k] for r in part) / len(part)
                               for when, part in (("first_1000", early), ("last_1000", late))
                               for k in ("g_grad_norm", "d_fake")}
        out[g_loss] = rows
    return out


def plot(records: dict, path: Path) -> None:
    from gan_tf.runs.pictures import new_figure, save_figure
    fig = new_figure((10, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for (g_loss, runs), colour in zip(records.items(), ("C3", "C0")):
        for k, recs in enumerate(runs):   # one line per seed, labelled once
            its = [r["iter"] for r in recs]
            label = f"{g_loss} ({len(runs)} seeds)" if k == 0 else None
            ax1.plot(its, [r["g_grad_norm"] for r in recs], colour, alpha=0.7, lw=1,
                     label=label)
            ax2.plot(its, [r["d_fake"] for r in recs], colour, alpha=0.7, lw=1, label=label)
    ax1.set_yscale("log")
    ax1.set_title("G's gradient norm (mean per logging window)")
    ax2.set_title("D(G(z)) (mean per logging window)")
    for ax in (ax1, ax2):
        ax.set_xlabel("iteration")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def saturation_study(run_dir, iters: int = 5000, seeds: int = 5, data_dir=None,
                     overwrite: bool = False) -> dict:
    """Both G losses as seed sweeps into run_dir, saturation.png and saturation.json;
    prints each window's means. Returns the summary."""
    if iters < 1000:
        raise UserError("--iters must be at least 1000 (the summary compares the "
                        "first 1,000 iterations with the last)")
    if not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"--seeds must be 1 to {MAX_SEEDS}")
    seed_list = list(range(seeds))
    # The study folder's lock: its two sweeps (each a folder of its own, locked by
    # train's sweep) and the picture and summary written beside them.
    with locked(Path(run_dir), "study folder"):
        records = run(Path(run_dir), iters, data_dir=data_dir, overwrite=overwrite,
                      seeds=seed_list)
        summary = summarise(records, seed_list)
        atomic_write_text(Path(run_dir) / "saturation.json",
                          json.dumps({"iters": iters, "seeds": seed_list,
                                      "results": summary}, indent=2) + "\n")
    print("mean over the window, per seed: G's gradient norm | D(G(z))")
    for g_loss, rows in summary.items():
        for when in ("first_1000", "last_1000"):
            print(f"{g_loss:>13} {when.replace('_', ' '):>10}: " + "  ".join(
                f"{r[f'g_grad_norm_{when}']:.3g} | {r[f'd_fake_{when}']:.4f}"
                for r in rows.values()))
    print(f"wrote {run_dir}/saturation.png and saturation.json")
    return summary
