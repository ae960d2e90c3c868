"""The PacGAN paper's Table 2, re-run: DCGAN and PacDCGAN2-4 on Stacked MNIST, with the
protocol of stacked_mnist.py.

`python -m gan_tf.stacked_mnist [--runs dcgan,pacdcgan2] [--trials 10] [--iters 100000]
[--eval-every 2000] [--precision float32|mixed_bfloat16]` trains each run's trials one after
the other, measures modes and KL on 26,000 samples every --eval-every iterations (the
paper: every epoch of 2,000) and writes into the run folder (outputs/stacked-mnist):
  results.json   every run's settings and, per trial, its curve and final measures;
                 also the classifier's reading of 26,000 real stacked images, the
                 yardstick's own ceiling;
  table.md       mean, sample std and standard error over trials, Table 2 beside;
  samples.png    64 real stacked images and trial 0's first 64 samples of every run
                 (the paper's Figure 3);
  curves.png     modes over training, one line per trial.
A trial is written when it finishes; a run already holding --trials trials with the
same settings is kept, so a stopped sweep continues with its next trial (a trial
stopped half way starts again; SIGTERM or Ctrl-C stops after the current measurement
and says what was kept). Other settings are refused before anything trains, a damaged
results.json (or any entry of it) is refused, and a second process on the same folder
is refused: the command holds the folder's lock from its first read to its last write.
The paper trains 100,000 iterations; on a 2-core CPU the DCGAN runs ~1.7 it/s in
bfloat16 (~1 it/s for PacDCGAN2), so the full table is a GPU job: --iters is the
budget knob and every row says what it was trained for.
"""

from __future__ import annotations

import io
import time
from pathlib import Path

import numpy as np

from gan_tf.core.config import PRECISIONS
from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_mnist
from gan_tf.evaluation.classifier import load_classifier
from gan_tf.evaluation.modes import triple_modes
from gan_tf.evaluation.results import update_section
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, locked
from gan_tf.runs.folder import refuse_link
from gan_tf.runs.pictures import figure_rgb, new_figure, save_png
from gan_tf.studies.replications.pacgan import stacked_dcgan as sm
from gan_tf.studies.replications import tables
from gan_tf.studies.replications.pacgan.protocol import summary
from gan_tf.training.signals import StopRequests

RUNS = tuple(sm.METHODS)
PICTURE_SAMPLES = 64


def parse_runs(text: str) -> tuple[str, ...]:
    return tables.parse_runs(text, RUNS)


PROTOCOL = "pacgan-stacked-mnist"
MAX_ITERS, MAX_TRIALS = 1_000_000, 100   # 10x the paper's 100,000 iterations and 10 trials
# Earlier versions spelled the bfloat16 option "bfloat16"; the train command's spelling
# (core/config.PRECISIONS) is the one now, and their results.json reads as it.
_OLD_PRECISION = {"bfloat16": "mixed_bfloat16"}


def _measures_ok(m) -> bool:
    return (isinstance(m, dict) and tables.count(m["modes"]) and tables.number(m["kl"]))


def _run_ok(r: dict) -> bool:
    """An entry as run() writes it: its settings and each finished trial's curve."""
    s = r["settings"]
    s["precision"] = _OLD_PRECISION.get(s.get("precision"), s.get("precision"))
    trial_ok = lambda t: (isinstance(t, dict) and tables.count(t["seed"])
                          and tables.finite(t["seconds"]) and _measures_ok(t["final"])
                          and tables.list_of(t["curve"], lambda e: _measures_ok(e) and
                                             tables.count(e["iteration"]))
                          and len(t["curve"]) >= 1)
    return (sorted(s) == ["eval_every", "iters", "num_test", "precision"]
            and s["precision"] in PRECISIONS
            and all(tables.count(s[k]) and s[k] >= 1 for k in ("iters", "eval_every",
                                                              "num_test"))
            and tables.list_of(r["trials"], trial_ok))


def _real_ok(out: dict) -> bool:
    real = out.get("real")
    return real is None or (_measures_ok(real) and tables.count(real["n"])
                            and tables.number(real["triples_read_right"]))


def _load(path: Path) -> dict:
    return tables.load_results(path, PROTOCOL, _run_ok, _real_ok)


def check_settings(iters: int, eval_every: int, trials: int, precision: str,
                   num_test: int = sm.NUM_TEST) -> dict:
    if not (1 <= iters <= MAX_ITERS and 1 <= trials <= MAX_TRIALS
            and 1 <= eval_every <= iters):
        raise UserError(f"--iters {iters}, --eval-every {eval_every}, --trials {trials}: "
                        f"need iters 1 to {MAX_ITERS:,}, trials 1 to {MAX_TRIALS} and "
                        f"eval-every between 1 and iters")
    if precision not in PRECISIONS:
        raise UserError(f"--precision {precision!r}: choose {' or '.join(PRECISIONS)}")
    return {"iters": iters, "eval_every": eval_every, "precision": precision,
            "num_test": num_test}


def all_images(data) -> np.ndarray:
    """The 70,000 MNIST images, train then test (load_mnist's np.concatenate)."""
    return np.concatenate([data.train_images, data.val_images, data.test_images])


def real_reading(images, labels, classifier, n: int = sm.NUM_TEST, seed: int = 0) -> dict:
    """The classifier's modes and KL on 26,000 real stacked images, and how often it
    reads a whole triple right: what a perfect generator would score here."""
    rng = np.random.default_rng([seed, 1])
    ids = rng.integers(0, len(images), size=(n, 3))
    x = np.transpose(images[ids].reshape(-1, 3, 28, 28), (0, 2, 3, 1)) / 255.0
    read = sm.read_triples(classifier, x.astype(np.float32))
    out = triple_modes(read)
    out["true"] = triple_modes(labels[ids])
    out["triples_read_right"] = float((read == labels[ids]).all(1).mean())
    out["n"] = n
    return out


def run(run_dir, keys=("dcgan", "pacdcgan2"), trials: int = 10, iters: int = sm.ITERS,
        eval_every: int = sm.EPOCH_ITERS, precision: str = "float32", data=None,
        classifier=None, num_training: int = sm.NUM_TRAINING, num_test: int = sm.NUM_TEST,
        log=print) -> dict:
    """Train what results.json lacks, under the folder's lock; num_training and num_test
    shrink the data and the measure for tests (num_test is part of the settings,
    num_training is not)."""
    check_settings(iters, eval_every, trials, precision, num_test)
    with locked(Path(run_dir), "study folder"):
        return _train(Path(run_dir), keys, trials, iters, eval_every, precision, data,
                      classifier, num_training, num_test, log)


def _train(run_dir: Path, keys, trials, iters, eval_every, precision, data, classifier,
           num_training, num_test, log) -> dict:
    """run()'s work; the caller holds the folder's lock. Each trial is merged into
    results.json as it finishes; a signal stops after the current measurement."""
    settings = check_settings(iters, eval_every, trials, precision, num_test)
    path = run_dir / "results.json"
    out = _load(path)
    for key in keys:   # refuse before training anything
        done = out["runs"].get(key)
        if done and done["settings"] != settings:
            raise UserError(f"{path} holds {key} trained with {done['settings']}, not "
                            f"{settings}; pass those flags to keep it, or another "
                            "--run-dir")
    if data is None:
        data = load_mnist()
    if classifier is None:
        classifier = load_classifier()
    images = all_images(data)

    def kept(out):
        return [f"{k}: {len(r['trials'])} trial{'s' if len(r['trials']) != 1 else ''}"
                for k, r in out["runs"].items() if r["trials"]]
    with StopRequests() as stop:
        if "real" not in out:
            labels = np.concatenate([data.train_labels, data.val_labels, data.test_labels])
            out = tables.merge_run(path, PROTOCOL, _run_ok, None, None,
                                   real=real_reading(images, labels, classifier, num_test))
        for key in keys:
            r = out["runs"].get(key) or {"settings": settings, "trials": []}
            for trial in range(len(r["trials"]), trials):
                log(f"{key} trial {trial}: {iters} iterations, {precision}")
                model = sm.StackedGAN(images, sm.METHODS[key], seed=trial,
                                      precision=precision, num_training=num_training)
                curve, start, training = [], time.time(), 0.0
                while int(model.iteration.numpy()) < iters:
                    done = int(model.iteration.numpy())
                    t0 = time.time()
                    d, g = model.train(min(eval_every, iters - done))
                    training += time.time() - t0
                    m = model.measures(classifier, num_test)
                    curve.append({"iteration": int(model.iteration.numpy()), **m,
                                  "d_loss": d, "g_loss": g})
                    log(f"{key} trial {trial} iteration {curve[-1]['iteration']}: "
                        f"{m['modes']} modes, KL {m['kl']:.2f}, {time.time() - start:.0f} s")
                    if curve[-1]["iteration"] < iters:
                        tables.stop_if_asked(stop, kept(out), f"{key} trial {trial}'s "
                                             f"{curve[-1]['iteration']:,} of {iters:,} "
                                             f"iterations (a trial is kept once it ends)")
                seconds = time.time() - start
                r = {"settings": settings, "trials": r["trials"] + [{
                    "seed": trial, "seconds": round(seconds, 1),
                    "training_seconds": round(training, 1), "final": curve[-1],
                    "curve": curve}]}
                if trial == 0:
                    buf = io.BytesIO()
                    np.save(buf, model.samples(PICTURE_SAMPLES))
                    atomic_write_bytes(run_dir / f"samples-{key}.npy", buf.getvalue())
                out = tables.merge_run(path, PROTOCOL, _run_ok, key, r)
                tables.stop_if_asked(stop, kept(out), "nothing")
    return out


def _cell(values, digits) -> str:
    """mean ± sample std (standard error); one trial's value alone, having no spread."""
    mean, sd, se = summary(values)
    if len(values) == 1:
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} ± {sd:.{digits}f} (se {se:.{digits}f})"


def table(out: dict) -> str:
    rows = ["| run | trained | modes (of 1,000) | KL | paper (mean ± se, 10 trials) |",
            "|---|---|---|---|---|"]
    real = out.get("real")
    if real:
        rows.append(f"| real Stacked MNIST, read by the classifier | {real['n']:,} images | "
                    f"{real['modes']} | {real['kl']:.3f} | triples read right: "
                    f"{real['triples_read_right']:.1%} |")
    for key in RUNS:
        r = out["runs"].get(key)
        if not r or not r["trials"]:
            continue
        s, ts = r["settings"], r["trials"]
        minutes = sum(t["seconds"] for t in ts) / 60
        p = sm.PAPER[key]
        rows.append(
            f"| {key} | {s['iters']:,} of {sm.ITERS:,} iterations, {len(ts)} "
            f"trial{'s' if len(ts) > 1 else ''}, {s['precision']}, {minutes:.0f} min | "
            f"{_cell([t['final']['modes'] for t in ts], 1)} | "
            f"{_cell([t['final']['kl'] for t in ts], 2)} | "
            f"{p[0]:.1f} ± {p[1]:.2f} · {p[2]:.2f} ± {p[3]:.3f} |")
    return "\n".join(rows)


def _grid(images: np.ndarray) -> np.ndarray:
    """(64, 28, 28, 3) in [0, 1] -> one 8x8 RGB picture with 2-pixel gaps."""
    n = int(np.ceil(np.sqrt(len(images))))
    out = np.zeros((n * 30, n * 30, 3), np.float32)
    for i, im in enumerate(images):
        r, c = divmod(i, n)
        out[r * 30 + 1:r * 30 + 29, c * 30 + 1:c * 30 + 29] = np.clip(im, 0, 1)
    return out


def load_samples(run_dir: Path, key: str) -> np.ndarray:
    return tables.load_samples(Path(run_dir) / f"samples-{key}.npy", key,
                               lambda shape: len(shape) == 4 and shape[1:] == (28, 28, 3),
                               "stacked images (an N x 28 x 28 x 3 float array)")


def pictures(run_dir: Path, out: dict, images=None) -> None:
    keys = [k for k in RUNS if out["runs"].get(k, {}).get("trials")
            and (run_dir / f"samples-{k}.npy").exists()]
    if not keys:
        return
    panels = []
    if images is not None:
        rng = np.random.default_rng(0)
        ids = rng.integers(0, len(images), size=(PICTURE_SAMPLES, 3))
        real = np.transpose(images[ids].reshape(-1, 3, 28, 28), (0, 2, 3, 1)) / 255.0
        panels.append(("real Stacked MNIST", real))
    for k in keys:
        t = out["runs"][k]["trials"][0]["final"]
        panels.append((f"{k}: {t['modes']} modes, KL {t['kl']:.2f}", load_samples(run_dir, k)))
    fig = new_figure((3.3 * len(panels), 3.6))
    for i, (title, x) in enumerate(panels):
        ax = fig.add_subplot(1, len(panels), i + 1)
        ax.imshow(_grid(x))
        ax.set_title(title, fontsize=8)
        ax.axis("off")
    fig.tight_layout()
    save_png(figure_rgb(fig), run_dir / "samples.png")
    fig = new_figure((9, 3.2))
    for c, (name, label) in enumerate((("modes", "modes (of 1,000)"), ("kl", "KL"))):
        ax = fig.add_subplot(1, 2, c + 1)
        for j, k in enumerate(keys):
            for n, t in enumerate(out["runs"][k]["trials"]):
                ax.plot([e["iteration"] for e in t["curve"]], [e[name] for e in t["curve"]],
                        color=f"C{j}", alpha=0.8, label=k if n == 0 else None, marker=".")
        ax.set_xlabel("iteration (an epoch is 2,000)")
        ax.set_title(f"{label}, each trial", fontsize=9)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_png(figure_rgb(fig), run_dir / "curves.png")


def stacked_mnist(run_dir, keys=("dcgan", "pacdcgan2"), trials: int = 10,
                  iters: int = sm.ITERS, eval_every: int = sm.EPOCH_ITERS,
                  precision: str = "float32", docs=None, report: bool = False) -> dict:
    """report: train nothing; the table and pictures of what results.json holds. The
    folder is locked from the first read to the last write."""
    run_dir = Path(run_dir)
    check_settings(iters, eval_every, trials, precision)
    for name in ("results.json", "table.md", "samples.png", "curves.png"):
        refuse_link(run_dir / name)
    with locked(run_dir, "study folder"):
        data = load_mnist()
        if report:
            out = _load(run_dir / "results.json")
            if not out["runs"]:
                raise UserError(f"{run_dir / 'results.json'} holds no runs; train some "
                                f"first")
        else:
            out = _train(run_dir, keys, trials, iters, eval_every, precision, data, None,
                         sm.NUM_TRAINING, sm.NUM_TEST, print)
        text = table(out)
        atomic_write_text(run_dir / "table.md", text + "\n")
        pictures(run_dir, out, all_images(data))
    if docs:
        update_section(docs, "stacked-mnist", text)
        for name in ("samples.png", "curves.png"):
            if (run_dir / name).exists():
                atomic_write_bytes(Path(docs) / f"stacked-mnist-{name}",
                                   (run_dir / name).read_bytes())
    print(text)
    return out
