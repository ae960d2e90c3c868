"""`python -m gan_tf.wasserstein_curves`: does the critic's loss say how good the
samples are? The WGAN paper's claim (Arjovsky et al. 2017, section 4.2, Figures 3
and 4): the Wasserstein estimate of a WGAN critic falls as the samples improve,
where a standard GAN's D loss says nothing about them.

For each run or sweep given (default: mnist-wgan, mnist-wgan-dcgan, mnist-wgan-gp,
mnist-wgan-gp-dcgan and, for the standard GAN, mnist-dcgan, every one trained with the
quality curve,
eval_every), pairs every quality-curve point (G's Frechet distance to the validation
images, from stats.jsonl) with the loss over the iterations since the point before:
a critic's Wasserstein estimate (d_real - d_fake, the mean critic output on real
minus on fake batches), a standard GAN's D loss. Reports each seed's Spearman rank
correlation between the two over training (+1: the loss falls exactly as the
distance falls) and its mean over seeds; draws both curves per run. Writes
curves.png and curves.json into outputs/wasserstein-curves (or --out).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from gan_tf import families
from gan_tf.core.errors import UserError
from gan_tf.families.base import WassersteinCritic
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.pictures import new_figure, save_figure
from gan_tf.runs.sweeps import seed_runs

DEFAULT_RUNS = ("outputs/mnist-wgan-seeds", "outputs/mnist-wgan-dcgan-seeds",
                "outputs/mnist-wgan-gp-seeds",
                "outputs/mnist-wgan-gp-dcgan", "outputs/mnist-dcgan-seeds")
FD_KEY = "quality_fd"   # the raw G's validation Frechet distance (tracking.py)


def ranks(values) -> list[float]:
    """1-based ranks, ties given their mean rank."""
    order = sorted(range(len(values)), key=lambda i: values[i])
    out = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            out[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return out


def spearman(a, b) -> float:
    """Spearman's rank correlation of two equally long sequences (NaN if either is
    constant)."""
    if len(a) != len(b) or len(a) < 3:
        raise ValueError(f"need two sequences of the same length >= 3, got {len(a)}, {len(b)}")
    ra, rb = ranks(a), ranks(b)
    ma, mb = sum(ra) / len(ra), sum(rb) / len(rb)
    cov = sum((x - ma) * (y - mb) for x, y in zip(ra, rb))
    va = sum((x - ma) ** 2 for x in ra)
    vb = sum((y - mb) ** 2 for y in rb)
    return cov / math.sqrt(va * vb) if va > 0 and vb > 0 else float("nan")


def paired(records: list[dict], critic: bool) -> dict:
    """The quality-curve points of one run's stats records and, at each, the mean
    loss (critic: d_real - d_fake; GAN: d_loss) over the log records since the
    point before."""
    out = {"iter": [], "fd": [], "loss": []}
    window = []
    for r in records:
        if "d_loss" in r:
            window.append(r["d_real"] - r["d_fake"] if critic else r["d_loss"])
        if FD_KEY in r and window:
            out["iter"].append(r["iter"])
            out["fd"].append(r[FD_KEY])
            out["loss"].append(sum(window) / len(window))
            window = []
    return out


def curves(run_path) -> dict:
    """{seed: paired(...)} of a run or sweep, and whether its D is a critic."""
    runs = seed_runs(Path(run_path), f"train it first with its make target and "
                                     f"--seeds N (e.g. make mnist-wgan-gp ARGS=\"--seeds 3\")")
    out, critic = {}, None
    for seed, run in sorted(runs.items()):
        cfg = run.read_config()
        if families.get(cfg).measures != "samples":
            # Its eval_every measures something else (the semi-supervised GAN's: test
            # errors), or it has none (SRGAN, CycleGAN).
            raise UserError(f"{run} is a {cfg.family!r} run, whose quality is not its "
                            f"samples': give runs of the GANs that draw samples (e.g. "
                            f"make mnist-wgan-gp, mnist-dcgan)")
        critic = isinstance(families.get(cfg), WassersteinCritic)
        out[seed] = paired(run.read_stats(), critic)
        if len(out[seed]["fd"]) < 3:
            raise UserError(f"{run} has {len(out[seed]['fd'])} quality-curve points, fewer "
                            f"than 3: train it with --eval-every (its experiment sets it)")
    return {"critic": critic, "seeds": out}


def study(runs, out_dir) -> dict:
    runs = list(runs) or list(DEFAULT_RUNS)
    table = {}
    with locked(Path(out_dir), "study folder", flag="--out"):
        for path in runs:
            c = curves(path)
            rhos = {str(s): spearman(p["loss"], p["fd"]) for s, p in c["seeds"].items()}
            finite = [v for v in rhos.values() if v == v]
            mean = sum(finite) / len(finite) if finite else float("nan")
            std = (math.sqrt(sum((v - mean) ** 2 for v in finite) / (len(finite) - 1))
                   if len(finite) > 1 else 0.0)
            table[str(path)] = {"critic": c["critic"], "spearman": rhos,
                                "spearman_mean": mean, "spearman_std": std,
                                "curves": {str(s): p for s, p in c["seeds"].items()}}
        plot(table, Path(out_dir) / "curves.png")
        atomic_write_text(Path(out_dir) / "curves.json", json.dumps(table, indent=1) + "\n")
    print("run: what its loss is | Spearman correlation of the loss with G's validation "
          "Frechet distance over training, per seed (mean ± std)")
    for path, row in table.items():
        what = "Wasserstein estimate" if row["critic"] else "D loss"
        print(f"{path}: {what} | " + "  ".join(f"{v:+.2f}" for v in row["spearman"].values())
              + f" ({row['spearman_mean']:+.2f} ± {row['spearman_std']:.2f})")
    print(f"wrote {out_dir}/curves.png and curves.json")
    return table


def plot(table: dict, path: Path) -> None:
    fig = new_figure((4.2 * len(table), 6.4))
    for col, (name, row) in enumerate(table.items()):
        top = fig.add_subplot(2, len(table), col + 1)
        bottom = fig.add_subplot(2, len(table), len(table) + col + 1)
        for k, (seed, p) in enumerate(row["curves"].items()):
            top.plot(p["iter"], p["loss"], f"C{k}", lw=1, label=f"seed {seed}")
            bottom.plot(p["iter"], p["fd"], f"C{k}", lw=1)
        top.set_title(f"{Path(name).name}\n"
                      f"{'Wasserstein estimate' if row['critic'] else 'D loss'}", fontsize=9)
        bottom.set_title(f"validation Frechet distance (rho {row['spearman_mean']:+.2f})",
                         fontsize=9)
        bottom.set_yscale("log")
        bottom.set_xlabel("iteration")
        top.legend(fontsize=7)
        for ax in (top, bottom):
            ax.grid(alpha=0.3)
    fig.tight_layout()
    save_figure(fig, path, dpi=80)
