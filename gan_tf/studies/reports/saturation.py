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

Then the critic far ahead (Arjovsky & Bottou 2017, Figure 2; Arjovsky et al. 2017,
section 3): from the same G and D at initialisation, D alone trains for
--ahead-steps steps against the fixed G, under each of four objectives: the two G
losses above (Adam 1e-3, the tutorial's), the WGAN's clipped critic and WGAN-GP's
(mnist-wgan's and mnist-wgan-gp's settings). Every 50 steps G's gradient norm on a
fixed z batch of 1,024 is measured, never applied. A D near its optimum gives the
minimax loss a vanishing gradient (0 within 50 steps here) and the non-saturating
one a growing one; the critics' stay of the order they have once the critic is
trained (the clipped critic's first clipping shrinks its scale, and G's gradient
with it, before any G step of a WGAN). Writes critic-ahead.png and
critic-ahead.json (per objective and seed: the norms and D's lead over the steps).
"""

from __future__ import annotations

import json
from pathlib import Path

import tensorflow as tf

from gan_tf.core.config import MAX_SEEDS, Config, override
from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_mnist
from gan_tf.data.streams import STREAM_SAMPLES, sample_z
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.pictures import new_figure, save_figure
from gan_tf.runs.sweeps import sweep_folders
from gan_tf.training.build import build_trainer
from gan_tf.training.sweep import train_sweep

G_LOSSES = ("minimax", "nonsaturating")


def run(run_dir: Path, iters: int = 5000, base: Config | None = None, data=None,
        data_dir=None, overwrite: bool = False, log=print, seeds=(0,)) -> dict:
    """Both G losses, each a seed sweep (training/sweep.py: all seeds in one stack) in
    run_dir/G_LOSS/seed-K; returns {g_loss: [stats records of each seed]}."""
    base = base or Config.of(snapshot_every=500, log_every=50)
    data = data or load_mnist(data_dir)
    records = {}
    for g_loss in G_LOSSES:
        cfg = override(base, {"iters": iters, "g_loss": g_loss, "seed": seeds[0]})
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
                     overwrite: bool = False, ahead_steps: int = 2000) -> dict:
    """Both G losses as seed sweeps into run_dir, saturation.png and saturation.json;
    prints each window's means. Returns the summary."""
    if iters < 1000:
        raise UserError("--iters must be at least 1000 (the summary compares the "
                        "first 1,000 iterations with the last)")
    if not 1 <= seeds <= MAX_SEEDS:
        raise UserError(f"--seeds must be 1 to {MAX_SEEDS}")
    if ahead_steps % AHEAD_EVERY:
        raise UserError(f"--ahead-steps must be a multiple of {AHEAD_EVERY} (G's gradient is "
                        f"measured every {AHEAD_EVERY} steps), got {ahead_steps}")
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
    if ahead_steps:
        with locked(Path(run_dir), "study folder"):
            records = critic_ahead(ahead_steps, seed_list, data_dir=data_dir)
            plot_ahead(records, Path(run_dir) / "critic-ahead.png")
            ahead = summarise_ahead(records)
            atomic_write_text(Path(run_dir) / "critic-ahead.json", json.dumps(
                {"steps": ahead_steps, "seeds": seed_list, "summary": ahead,
                 "records": records}, indent=1) + "\n")
        print(f"G's gradient norm per seed: at the start | after {AHEAD_EVERY} steps of D "
              f"alone | after {ahead_steps}")
        for objective, row in ahead.items():
            print(f"{objective:>13}: " + "  ".join(
                f"{a:.3g} | {b:.3g} | {c:.3g}"
                for a, b, c in zip(row["start"], row["first_steps"], row["end"])))
        print(f"wrote {run_dir}/critic-ahead.png and critic-ahead.json")
        summary = {**summary, "critic_ahead": ahead}
    return summary


# --- the critic far ahead

AHEAD_EVERY = 50
AHEAD_Z = 1024
AHEAD_OBJECTIVES = ("minimax", "nonsaturating", "wgan", "wgan-gp")


def ahead_config(objective: str, seed: int) -> Config:
    """The tutorial's networks under one objective, from seed `seed`'s initialisation
    (every objective builds the same G and D from it: the same MLPs, seeds and init)."""
    cfg = (load_experiment(f"mnist-{objective}") if objective.startswith("wgan")
           else Config.of(g_loss=objective))
    return override(cfg, {"seed": seed, "d_steps": 1, "eval_every": 0})


def critic_ahead(steps: int = 2000, seeds=(0,), data=None, data_dir=None, log=print) -> dict:
    """{objective: {seed: {"step": [...], "g_grad_norm": [...], "d_lead": [...]}}}:
    G's gradient norm (its loss on a fixed z batch, D in training mode as in a G step)
    and D's lead over G (a GAN: 1 - mean D(G(z)); a critic: its Wasserstein estimate
    on the last real batch, d_real - d_fake) after every AHEAD_EVERY steps of D alone."""

    data = data or load_mnist(data_dir)
    out = {}
    for objective in AHEAD_OBJECTIVES:
        out[objective] = {}
        for seed in seeds:
            cfg = ahead_config(objective, seed)
            trainer = build_trainer(cfg, data.train_images)
            critic = objective.startswith("wgan")
            z = sample_z(seed, STREAM_SAMPLES, 0, AHEAD_Z, cfg.z_dim)

            def d_alone(b0, n, trainer=trainer, z=z, critic=critic):
                i = tf.constant(0, tf.int64)
                lead = tf.constant(0.0)
                while i < n:
                    values = trainer.d_step_at(b0 + i)[0]
                    if critic:
                        lead = values["d_real"] - values["d_fake"]
                    i += 1
                with tf.GradientTape() as tape:
                    logits = trainer.family.d_logits(trainer.D, trainer.G(z, training=True),
                                                     None)
                    loss = trainer.g_loss_fn(logits)
                grads = tape.gradient(loss, trainer.G.trainable_variables)
                if not critic:
                    lead = 1.0 - tf.reduce_mean(tf.sigmoid(logits))
                return tf.linalg.global_norm(grads), lead
            run = tf.function(d_alone, jit_compile=cfg.xla)
            rec = {"step": [], "g_grad_norm": [], "d_lead": []}
            for k in range(steps // AHEAD_EVERY + 1):
                n = 0 if k == 0 else AHEAD_EVERY
                norm, lead = run(tf.constant(max(k - 1, 0) * AHEAD_EVERY, tf.int64),
                                 tf.constant(n, tf.int64))
                rec["step"].append(k * AHEAD_EVERY)
                rec["g_grad_norm"].append(float(norm))
                rec["d_lead"].append(float(lead))
            out[objective][str(seed)] = rec
            log(f"[critic ahead] {objective} seed {seed}: G's gradient norm "
                f"{rec['g_grad_norm'][0]:.3g} at the start, {rec['g_grad_norm'][-1]:.3g} "
                f"after {steps} steps of D alone")
    return out


def plot_ahead(records: dict, path: Path) -> None:
    fig = new_figure((10, 4))
    ax1, ax2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    for (objective, runs), colour in zip(records.items(), ("C3", "C0", "C2", "C1")):
        for k, rec in enumerate(runs.values()):
            label = f"{objective} ({len(runs)} seeds)" if k == 0 else None
            # A vanished gradient can be exactly 0: drawn at the floor of the log axis.
            ax1.plot(rec["step"], [max(g, 1e-12) for g in rec["g_grad_norm"]], colour,
                     alpha=0.7, lw=1, label=label)
            if objective.startswith("wgan"):
                ax2.plot(rec["step"], rec["d_lead"], colour, alpha=0.7, lw=1, label=label)
    ax1.set_yscale("log")
    ax1.set_title("G's gradient norm on a fixed z batch")
    ax2.set_title("the critic's Wasserstein estimate")
    for ax in (ax1, ax2):
        ax.set_xlabel("steps of D alone, G fixed at its initialisation")
        ax.grid(alpha=0.3)
        ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=90)


def summarise_ahead(records: dict) -> dict:
    """Per objective, each seed's G gradient norm at the start (D untrained), after
    the first AHEAD_EVERY steps of D (the clipped critic's first clipping has shrunk
    its scale by then, as it has before any G step of a WGAN) and at the end, and the
    ratio end / after the first steps, with its median over seeds."""
    out = {}
    for objective, runs in records.items():
        norms = [r["g_grad_norm"] for r in runs.values()]
        ratios = [n[-1] / n[1] if n[1] > 0 else float("nan") for n in norms]
        out[objective] = {"start": [n[0] for n in norms], "first_steps": [n[1] for n in norms],
                          "end": [n[-1] for n in norms],
                          "end_over_first_steps": ratios,
                          "median_end_over_first_steps": sorted(ratios)[len(ratios) // 2]}
    return out
