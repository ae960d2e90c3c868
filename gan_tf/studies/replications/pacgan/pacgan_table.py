"""The PacGAN paper's Table 1, re-run: GAN, PacGAN2-4, minibatch discrimination and the
unrolled GAN on the 2-D ring and grid, with the protocol of pacgan_protocol.py.

`python -m gan_tf.toys.pacgan_table [--epochs 400] [--trials 10] [--runs grid/gan,...]`
trains each mixture/method's trials (all in one compiled loop), measures modes, high-
quality share and reverse KL after every epoch, and writes into the run folder
(outputs/pacgan-table):
  results.json   every run's settings, per-trial final measures and per-epoch curve;
  table.md       mean, sample std and standard error over trials, the paper's row beside;
  samples.png    trial 0's final 2,500 samples for every run (a picture per remedy);
  curves.png     modes and high quality over epochs, mean ± std over trials.
A run already in results.json with the same epochs and trials is kept, not retrained,
so a stopped sweep continues where it stopped; one with other settings is refused.
The paper trains 400 epochs of 1,000 iterations: on a 2-core CPU one trial-epoch of
the GAN costs ~10 s, so the full table is a GPU job; --epochs is the budget knob and
every row says what it was trained for.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.evaluation.results import update_section
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, locked
from gan_tf.runs.folder import refuse_link
from gan_tf.runs.pictures import figure_rgb, mixture_clouds, new_figure, save_png
from gan_tf.studies.replications import tables
from gan_tf.studies.replications.pacgan.protocol import EPOCHS, METHODS, NUM_SAMPLE, PAPER, Trials, summary
from gan_tf.training.signals import StopRequests

RUNS = tuple(f"{mixture}/{method}" for mixture in ("grid", "ring") for method in METHODS)
MEASURES = (("modes", "modes"), ("high_quality", "high quality"), ("reverse_kl", "reverse KL"))


MAX_EPOCHS, MAX_TRIALS = 4000, 100    # 10x the paper's 400 epochs and 10 trials
PROTOCOL = "pacgan-paper"


def parse_runs(text: str) -> tuple[str, ...]:
    return tables.parse_runs(text, RUNS)


def _run_ok(r: dict) -> bool:
    """An entry as run() writes it: its settings, and trials x epochs of measures."""
    s = r["settings"]
    trials, epochs = s["trials"], s["epochs"]
    per_trial = lambda m: (tables.count(m["modes"]) and tables.number(m["high_quality"])
                           and tables.number(m["reverse_kl"]))
    return (sorted(s) == ["epochs", "num_sample", "trials"]
            and all(tables.count(v) and v >= 1 for v in s.values())
            and tables.finite(r["seconds"]) and tables.count(r["modes_total"])
            and tables.list_of(r["final"], lambda m: isinstance(m, dict) and per_trial(m),
                               trials)
            and tables.list_of(r["curve"], lambda e: all(
                tables.list_of(e[name], tables.number, trials) for name, _ in MEASURES),
                epochs))


def _load(path: Path) -> dict:
    return tables.load_results(path, PROTOCOL, _run_ok)


def samples_path(run_dir: Path, key: str) -> Path:
    return Path(run_dir) / f"samples-{key.replace('/', '-')}.npy"


def load_samples(run_dir: Path, key: str) -> np.ndarray:
    """Trial 0's final samples of run `key`, as run() saved them, or one line."""
    return tables.load_samples(samples_path(run_dir, key), key,
                               lambda shape: len(shape) == 2 and shape[1] == 2,
                               "2-D samples (an N x 2 float array)")


def check_budget(epochs, trials) -> None:
    if not (type(epochs) is int and 1 <= epochs <= MAX_EPOCHS
            and type(trials) is int and 1 <= trials <= MAX_TRIALS):
        raise UserError(f"--epochs {epochs} and --trials {trials}: epochs must be 1 to "
                        f"{MAX_EPOCHS:,} (the paper's 400) and trials 1 to {MAX_TRIALS} (the "
                        f"paper's 10)")


def run(run_dir, keys=RUNS, epochs: int = EPOCHS, trials: int = 10,
        num_sample: int = NUM_SAMPLE, log=print) -> dict:
    """Train what results.json lacks, under the folder's lock."""
    check_budget(epochs, trials)
    with locked(Path(run_dir), "study folder"):
        return _train(Path(run_dir), keys, epochs, trials, num_sample, log)


def _train(run_dir: Path, keys, epochs: int, trials: int, num_sample: int, log) -> dict:
    """run()'s work; the caller holds the folder's lock. Each run is merged into
    results.json when it finishes; a signal stops after the current epoch."""
    check_budget(epochs, trials)
    path = run_dir / "results.json"
    out = _load(path)
    settings = {"epochs": epochs, "trials": trials, "num_sample": num_sample}
    for key in keys:   # refuse before training anything
        done = out["runs"].get(key)
        if done and done["settings"] != settings:
            raise UserError(f"{path} holds {key} trained with {done['settings']}, not "
                            f"{settings}; pass those flags to keep it, or another --run-dir")
        if done:
            load_samples(run_dir, key)
    with StopRequests() as stop:
        for key in keys:
            if key in out["runs"]:
                log(f"{key}: kept from {path}")
                continue
            mixture, method = key.split("/")
            trainer = Trials(mixture, METHODS[method], range(trials), num_sample)
            curve, start = [], time.time()
            for epoch in range(1, epochs + 1):
                trainer.train_epoch()
                measures = trainer.measures()
                curve.append({name: [m[name] for m in measures] for name, _ in MEASURES})
                log(f"{key} epoch {epoch}/{epochs}: modes {curve[-1]['modes']}, "
                    f"{time.time() - start:.0f} s")
                if epoch < epochs:
                    tables.stop_if_asked(stop, out["runs"], f"{key}'s {epoch} of {epochs} "
                                         f"epochs (a run is kept only once it finishes)")
            buf = io.BytesIO()
            np.save(buf, trainer.samples()[0])
            atomic_write_bytes(samples_path(run_dir, key), buf.getvalue())
            out = tables.merge_run(path, PROTOCOL, _run_ok, key, {
                "settings": settings, "seconds": round(time.time() - start, 1),
                "final": measures, "curve": curve,
                "modes_total": measures[0]["modes_total"]})
            tables.stop_if_asked(stop, out["runs"], "nothing")
    return out


def _cell(values, percent=False) -> str:
    if not any(np.isfinite(v) for v in values):
        return "undefined (no sample on a mode)"
    mean, sd, se = summary(values)
    k = 100 if percent else 1
    digits = 1 if percent or values and isinstance(values[0], int) else 2
    unit = "%" if percent else ""
    return f"{k * mean:.{digits}f} ± {k * sd:.{digits}f} (se {k * se:.{digits}f}){unit}"


def table(out: dict) -> str:
    rows = ["| run | trained | modes | high quality | reverse KL | paper (mean ± se) |",
            "|---|---|---|---|---|---|"]
    for key in RUNS:
        r = out["runs"].get(key)
        if not r:
            continue
        s = r["settings"]
        final = r["final"]
        cells = [_cell([m["modes"] for m in final]),
                 _cell([m["high_quality"] for m in final], percent=True),
                 _cell([m["reverse_kl"] for m in final])]
        p = PAPER.get(key)
        paper = (f"{p[0]:.1f} ± {p[1]:.1f} · {p[2]:.1f} ± {p[3]:.1f}% · {p[4]:.2f} ± {p[5]:.2f}"
                 if p
                 else "not in Table 1")
        rows.append(f"| {key} | {s['epochs']} of {EPOCHS} epochs, {s['trials']} trials, "
                    f"{r['seconds'] / 60:.0f} min | {cells[0]} of {r['modes_total']} | "
                    f"{cells[1]} | {cells[2]} | {paper} |")
    return "\n".join(rows)


def pictures(run_dir: Path, out: dict) -> None:
    keys = [k for k in RUNS if k in out["runs"]]
    if not keys:
        return
    by_mixture = {}
    for k in keys:
        by_mixture.setdefault(k.split("/")[0], []).append(k)
    width = max(len(v) for v in by_mixture.values())
    panels = []
    for mixture, ks in by_mixture.items():
        row = []
        for k in ks:
            cloud = load_samples(run_dir, k)
            m = out["runs"][k]["final"][0]
            row.append((cloud, mixture, f"{k}: {m['modes']} modes, "
                                        f"{m['high_quality']:.0%} hq"))
        blank = (np.full((1, 2), np.nan), mixture, "")
        panels.append(row + [blank] * (width - len(row)))
    save_png(mixture_clouds(panels), run_dir / "samples.png")
    fig = new_figure((10, 3.2 * len(by_mixture)))
    for r, (mixture, ks) in enumerate(by_mixture.items()):
        for c, (name, label) in enumerate(MEASURES[:2]):
            ax = fig.add_subplot(len(by_mixture), 2, 2 * r + c + 1)
            for k in ks:
                a = np.array([e[name] for e in out["runs"][k]["curve"]], float)
                mean, sd = a.mean(1), a.std(1, ddof=1) if a.shape[1] > 1 else 0 * a[:, 0]
                x = np.arange(1, len(a) + 1)
                ax.plot(x, mean, label=k.split("/")[1])
                ax.fill_between(x, mean - sd, mean + sd, alpha=0.15)
            ax.set_title(f"{mixture}: {label} (mean ± std over trials)", fontsize=9)
            ax.set_xlabel("epoch (1,000 iterations)")
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(figure_rgb(fig), run_dir / "curves.png")


def pacgan_table(run_dir, keys=RUNS, epochs: int = EPOCHS, trials: int = 10,
                 docs=None, report: bool = False) -> dict:
    """report: train nothing; the table and pictures of what results.json holds (runs
    trained with different budgets side by side, each row saying its own). The folder
    is locked from the first read to the last write: a second process is refused."""
    run_dir = Path(run_dir)
    check_budget(epochs, trials)
    for name in ("results.json", "table.md", "samples.png", "curves.png"):
        refuse_link(run_dir / name)
    with locked(run_dir, "study folder"):
        if report:
            out = _load(run_dir / "results.json")
            if not out["runs"]:
                raise UserError(f"{run_dir / 'results.json'} holds no runs; train some "
                                f"first")
            for key in out["runs"]:
                load_samples(run_dir, key)
        else:
            out = _train(run_dir, keys, epochs, trials, NUM_SAMPLE, print)
        text = table(out)
        atomic_write_text(run_dir / "table.md", text + "\n")
        pictures(run_dir, out)
    if docs:
        update_section(docs, "pacgan", text)
        for name in ("samples.png", "curves.png"):
            atomic_write_bytes(Path(docs) / f"pacgan-{name}", (run_dir / name).read_bytes())
    print(text)
    return out
