"""The GAN paper's MNIST result beside this reproduction (`python -m gan_tf.paper`).

Reads a trained and evaluated run of experiments/mnist_paper.py, or a seed sweep of
it (`make mnist-paper ARGS="--seeds 3"`, then `make evaluate
RUN=outputs/mnist-paper-seeds`), and makes, into --out:

  table.md, results.json   Table 1's number against each seed's, with the paper's
                           protocol (evaluate: 10,000 samples as centres, sigma from
                           logspace(-1, 0, 10) on the first 1,000 validation images of
                           the paper's split, the 10,000 test images scored, mean ±
                           std/sqrt(N)), and the other measures; then the quick Parzen
                           curve (parzen_every) of every seed, and the same quick
                           estimate with 2,000 real training images as the centres
  parzen-curve.png         that curve
  samples.png              samples laid out as the paper's MNIST panel (its Figure
                           2a): rows of samples, the last column the training image
                           nearest (in pixels) to the sample beside it
  and, in table.md, where the nats go (`diagnostics`): how near the samples come to
  the test digits and the test digits to the samples, against real images, and
  what single stray pixels cost
--variant RUN (repeatable): an evaluated run of the same model with some flags
changed (another noise, more iterations, ...): a row of its own, labelled by what it
changes. With --docs: the pictures copied there as paper-NAME.png, the table into the
page's `paper` section, the Results table's rows for these runs into its
`paper-results` section, and the generator of --keep-seed (default: the first seed) with its
NAME.json (dataset, split, iteration, Parzen) into docs/models/, where `python -m
gan_tf.evaluate docs/models/mnist-paper-seed-K.keras` measures it again.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_dataset, with_split
from gan_tf.evaluation import tracking
from gan_tf.evaluation.evaluate import PARZEN_VALIDATION, generate
from gan_tf.evaluation.metrics import nearest_neighbours, parzen
from gan_tf.evaluation.results import (CAPTION, HEADER, PAPER_ROW, merged_settings,
                                       read_metrics, sampling_cell, settings, spread_row,
                                       table_row, update_section)
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, locked
from gan_tf.runs.folder import GENERATOR, METRICS, RunFolder
from gan_tf.core.config import differences
from gan_tf.runs.pictures import new_figure, save_figure, save_rows
from gan_tf.runs.sweeps import seed_runs

PAPER_PARZEN, PAPER_SE = 225.0, 2.0      # Goodfellow et al. 2014, Table 1, MNIST
# The paper's Parzen protocol (goodfeli/adversarial parzen_ll.py): 10,000 samples of G
# as the centres, sigma chosen on validation images, the test images scored.
PROTOCOL_SAMPLES = 10_000
PROTOCOL = (f"Parzen protocol, as the paper's parzen_ll.py: {PROTOCOL_SAMPLES:,} samples "
            "of G as the centres, sigma from logspace(-1, 0, 10) chosen on the first 1,000 "
            "validation images of the paper's split (50,000 training, 10,000 validation), "
            "the 10,000 test images scored. A row evaluated otherwise says how in its "
            "name and is left out of the mean.")
SAMPLE_ROWS, SAMPLE_COLUMNS = 6, 5
DIAGNOSTIC_SAMPLES = 10_000    # as many as the protocol's centres


TRAIN_FIX = ('train it with make mnist-paper ARGS="--seeds 3", evaluate it with make '
             'evaluate RUN=outputs/mnist-paper-seeds, or name another run')


def protocol_gaps(m: dict) -> list[str]:
    """How the evaluation metrics.json `m` departs from the paper's Parzen protocol
    ([] when it does not); what it does not record counts as a departure."""
    n = m.get("num_samples")
    if type(n) is not int:
        return ["its number of centres is not recorded"]
    return [] if n == PROTOCOL_SAMPLES else [f"{n:,} centres, not {PROTOCOL_SAMPLES:,}"]


def quick_curve(run: RunFolder) -> list[tuple[int, float]]:
    return [(r["iter"], r["parzen_quick"]) for r in run.read_stats() if "parzen_quick" in r]


def real_quick_parzen(data, seed: int = 0) -> float:
    """The quick estimate (evaluation.tracking's protocol) with real training images
    as its 2,000 centres: the curve's ceiling of the same size."""
    rng = np.random.default_rng(seed)
    centres = data.train_images[rng.choice(len(data.train_images), tracking.QUICK_CENTRES,
                                           replace=False)].astype(np.float32) / 255.0
    return tracking.quick_estimate(centres, data.val_images)["parzen_quick"]


def training_seconds(records: list[dict]) -> float | None:
    """Wall time of training, from stats.jsonl: each session's clock starts at 0 (a
    resumed run's too), so the sessions' last readings are summed."""
    total, last = 0.0, None
    for r in records:
        if last is not None and r["elapsed_s"] < last:
            total += last
        last = r["elapsed_s"]
    return None if last is None else total + last


def read_results(runs: dict) -> dict:
    """{key: the row's numbers} of evaluated runs ({key: run folder})."""
    rows = {}
    for seed, run in runs.items():
        if not (run / METRICS).is_file():
            raise UserError(f"{run} is not evaluated yet: run python -m gan_tf.evaluate "
                            f"{run}")
        m = read_metrics(run / METRICS)
        stats = run.read_stats()
        rows[seed] = {"metrics": m["generated"], "real": m["real"], "run": str(run),
                      "iteration": m.get("iteration"), "curve": quick_curve(run),
                      "elapsed_s": training_seconds(stats),
                      "num_samples": m.get("num_samples"), "z_seed": m.get("seed"),
                      "precision": run.read_config().precision,
                      "off_protocol": protocol_gaps(m)}
    return rows


def _settings(r: dict) -> str:
    """The evaluated-on cell: samples, z seed and the precision the run trained in
    (results.json of an earlier version lacks them: '?')."""
    return f"{sampling_cell(r.get('num_samples'), r.get('z_seed'))}, {r.get('precision', '?')}"


def _run_row(name: str, r: dict) -> str:
    """One run's row of `table`; its name says how it departs from the protocol."""
    m = r["metrics"]
    gaps = r.get("off_protocol", [])
    if gaps:
        name = f"{name} (off the paper's protocol: {'; '.join(gaps)})"
    hours = f"{r['elapsed_s'] / 3600:.2f}" if r["elapsed_s"] else ""
    return (f"| {name} | {r['iteration']} | {m['parzen_ll']:.1f} ± {m['parzen_se']:.1f} (se) | "
            f"{m['parzen_sigma']:.3f} | {m['mnist_score']:.2f} | "
            f"{m['frechet_distance']:.1f} | {m['confident_share']:.3f} | {hours} | "
            f"{_settings(r)} |")


def table(rows: dict, real_quick: float, variants: dict | None = None) -> str:
    real = next(iter(rows.values()))["real"]
    lines = [PROTOCOL, "",
             "| model | iterations | Parzen (nats) | sigma | score | Fréchet dist. | p>0.9 "
             "| hours here | evaluated on, trained in |", "|---|---|---|---|---|---|---|---|---|",
             f"| GAN paper, Table 1 | ? | {PAPER_PARZEN:.0f} ± {PAPER_SE:.0f} (se) | | | | | | "
             f"{PROTOCOL_SAMPLES:,} samples |"]
    lines += [_run_row(f"this reproduction, seed {seed}", r) for seed, r in sorted(rows.items())]
    # Only rows on the protocol are averaged: a mean that mixed 100 and 10,000 centres
    # would be neither.
    on = [r for r in rows.values() if not r.get("off_protocol")]
    if len(on) > 1:
        def spread(key, fmt):
            v = np.array([r["metrics"][key] for r in on])
            return f"{fmt.format(v.mean())} ± {fmt.format(v.std(ddof=1))}"
        settings = sorted({_settings(r) for r in on})
        lines.append(f"| mean ± std over {len(on)} seeds | | {spread('parzen_ll', '{:.1f}')} "
                     f"| | {spread('mnist_score', '{:.2f}')} | "
                     f"{spread('frechet_distance', '{:.1f}')} | "
                     f"{spread('confident_share', '{:.3f}')} | | {' / '.join(settings)} |")
    lines += [_run_row(f"variant: {label}", r) for label, r in (variants or {}).items()]
    lines.append(f"| real: 10,000 training images as centres | | {real['parzen_ll']:.1f} ± "
                 f"{real['parzen_se']:.1f} (se) | {real['parzen_sigma']:.3f} | "
                 f"{real['mnist_score']:.2f} | {real['frechet_distance']:.2f} | "
                 f"{real['confident_share']:.3f} | | |")
    # The quick curve: one column per seed.
    its = sorted({it for r in rows.values() for it, _ in r["curve"]})
    seeds = sorted(rows)
    lines += ["", "Quick Parzen estimate during training (2,000 samples as centres, sigma "
              "chosen on validation images 0-499, validation images 500-999 scored; the "
              f"same with 2,000 real training images as centres: {real_quick:.1f}):", "",
              "| iteration | epoch | " + " | ".join(f"seed {s}" for s in seeds) + " |",
              "|---|---|" + "---|" * len(seeds)]
    for it in its:
        cells = []
        for s in seeds:
            v = dict(rows[s]["curve"]).get(it)
            cells.append("" if v is None else f"{v:.1f}")
        lines.append(f"| {it} | {it // 500} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def plot_curves(rows: dict, real_quick: float, path: Path, variants: dict | None = None) -> None:
    fig = new_figure((8, 4.5))
    ax = fig.add_subplot(1, 1, 1)
    for seed, r in sorted(rows.items()):
        ax.plot([it / 500 for it, _ in r["curve"]], [v for _, v in r["curve"]],
                marker="o", markersize=3, label=f"seed {seed}")
    for label, r in (variants or {}).items():
        ax.plot([it / 500 for it, _ in r["curve"]], [v for _, v in r["curve"]],
                linestyle=":", marker=".", markersize=3, label=f"variant: {label}")
    ax.axhline(real_quick, color="k", linestyle="--",
               label="2,000 real training images as centres")
    ax.set_xlabel("epoch (500 updates)")
    ax.set_ylabel("quick Parzen estimate (nats)")
    ax.set_title("The GAN paper's MNIST model: quick Parzen estimate while training")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    save_figure(fig, path, dpi=100)


def sample_panel(G, data, path: Path, seed: int = 0) -> None:
    """The paper's Figure 2a layout: SAMPLE_ROWS rows of SAMPLE_COLUMNS samples, and
    in the last column the training image nearest to the sample beside it."""
    samples, _ = generate(G, SAMPLE_ROWS * SAMPLE_COLUMNS, seed)
    grid = samples.reshape(SAMPLE_ROWS, SAMPLE_COLUMNS, -1)
    train = data.train_images.astype(np.float32) / 255.0
    idx, _ = nearest_neighbours(grid[:, -1], train, k=1)
    panel = np.concatenate([grid, train[idx[:, 0]][:, None]], axis=1)
    save_rows(panel, path, column_titles=[""] * SAMPLE_COLUMNS + ["nearest training"])


def results_rows(path, rows: dict, variants: dict) -> str:
    """The Results table's rows for these runs (evaluation.results' format): the
    sweep's mean ± std, each variant's own row."""
    def cells(r):   # every run here trained on the paper's split (paper_study checks)
        return settings(r.get("num_samples"), r.get("z_seed"), "paper", r.get("precision"))
    name = Path(path).name
    on = {s: r for s, r in rows.items() if not r.get("off_protocol")}
    lines = [HEADER]
    if on:
        lines.append(spread_row(f"`{name}` ({len(on)} seeds)",
                                "/".join(sorted({str(r["iteration"]) for r in on.values()})),
                                [r["metrics"] for r in on.values()],
                                merged_settings([cells(r) for r in on.values()])))
    for seed, r in rows.items():
        if r.get("off_protocol"):
            lines.append(table_row(f"`{name}` seed {seed} (off the paper's protocol: "
                                   f"{'; '.join(r['off_protocol'])})", r["iteration"],
                                   r["metrics"], cells(r)))
    for label, r in variants.items():
        off = (f"; off the paper's protocol: {'; '.join(r['off_protocol'])}"
               if r.get("off_protocol") else "")
        lines.append(table_row(f"`{Path(r['run']).parent.name}/{Path(r['run']).name}` "
                               f"({label}{off})", r["iteration"], r["metrics"], cells(r)))
    lines.append(PAPER_ROW)
    return "\n".join(lines) + "\n\n" + CAPTION


def isolated_pixels_removed(images: np.ndarray, side: int = 28) -> np.ndarray:
    """Each ink pixel (> 0.5) none of whose 8 neighbours has ink set to 0: the
    isolated specks a generator's samples show and real digits rarely have."""
    x = np.asarray(images, np.float32).reshape(-1, side, side)
    ink = np.pad(x > 0.5, ((0, 0), (1, 1), (1, 1)))
    neighbours = sum(ink[:, 1 + dy:1 + dy + side, 1 + dx:1 + dx + side]
                     for dy in (-1, 0, 1) for dx in (-1, 0, 1) if dy or dx)
    out = np.where((x > 0.5) & (neighbours == 0), 0.0, x)
    return out.reshape(len(out), -1)


def diagnostics(G, data, num_samples: int | None = None, seed: int = 0,
                nn_images: int = 2000) -> dict:
    """Where the nats go, for 10,000 samples of G and, alike, 10,000 real training
    images as the Parzen centres (diagnostics, not results: the table's rows are the
    samples as G draws them):
      recall_d2     median squared distance from a test image (the first nn_images)
                    to its nearest centre: does some centre sit near every test digit?
      precision_d2  median squared distance from a centre (the first nn_images) to its
                    nearest test image: does every centre sit near some test digit?
      specks        isolated ink pixels per image (isolated_pixels_removed), and the
                    full Parzen estimate once they are removed."""
    num_samples = num_samples or DIAGNOSTIC_SAMPLES
    samples, _ = generate(G, num_samples, seed)
    real = data.train_images[:num_samples].astype(np.float32) / 255.0
    val = data.val_images[:PARZEN_VALIDATION].astype(np.float32) / 255.0
    test = data.test_images.astype(np.float32) / 255.0
    out = {}
    for name, images in (("samples", samples), ("real", real)):
        cleaned = isolated_pixels_removed(images)
        _, to_centre = nearest_neighbours(test[:nn_images], images, k=1)
        _, to_test = nearest_neighbours(images[:nn_images], test, k=1)
        out[name] = {"recall_d2": float(np.median(to_centre[:, 0] ** 2)),
                     "precision_d2": float(np.median(to_test[:, 0] ** 2)),
                     "specks_per_image": float(((images > 0.5) & (cleaned == 0)).sum()
                                               / len(images)),
                     "parzen": parzen(images, val, test)["parzen_ll"],
                     "parzen_specks_removed": parzen(cleaned, val, test)["parzen_ll"]}
    return out


def diagnostics_table(diag: dict) -> str:
    rows = ["| centres (10,000) | test image → nearest centre, median d² | centre → nearest "
            "test image, median d² | isolated pixels per image | Parzen | Parzen, isolated "
            "pixels removed |", "|---|---|---|---|---|---|"]
    for label, d in diag.items():
        for name, what in (("samples", f"samples of {label}"),
                           ("real", "real training images")):
            if name == "real" and label != next(iter(diag)):
                continue       # the real row is the same for every model
            v = d[name]
            rows.append(f"| {what} | {v['recall_d2']:.1f} | {v['precision_d2']:.1f} | "
                        f"{v['specks_per_image']:.2f} | {v['parzen']:.1f} | "
                        f"{v['parzen_specks_removed']:.1f} |")
    return "\n".join(rows)


def paper_study(path, out, docs=None, keep_seed=None, data_dir=None, variants=()) -> str:
    """The paper's table, curve, samples and diagnostics of the sweep at `path` (and
    `variants`, single runs) into `out`; with `docs`, into its sections and the kept
    seed's generator into docs/models. Prints the table.
    The output folder's lock is held from the first read to the last write: a second
    process making the same study is refused in one line."""
    with locked(Path(out), "study folder", flag="--out"):
        return _paper_study(path, out, docs, keep_seed, data_dir, variants)


def _paper_study(path, out, docs, keep_seed, data_dir, variants) -> str:
    runs = seed_runs(path, TRAIN_FIX)
    base = next(iter(runs.values())).read_config()
    others = {}
    for v in variants:
        run = RunFolder(v)
        others[f"{differences(run.read_config(), base)} (seed {run.read_config().seed})"] = run
    for run in list(runs.values()) + list(others.values()):
        cfg = run.read_config()
        if cfg.split != "paper" or cfg.family != "maxout":
            raise UserError(f"{run} is not a run of the paper's model (split {cfg.split!r}, "
                            f"family {cfg.family!r}); train it with make mnist-paper")
    rows = read_results(runs)
    variant_rows = read_results(others)
    data = with_split(load_dataset("mnist", data_dir), "paper")
    real_quick = real_quick_parzen(data)
    keep = min(runs) if keep_seed is None else keep_seed
    if keep not in runs:
        raise UserError(f"--keep-seed {keep} is not one of the seeds {sorted(runs)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    G = runs[keep].load_generator()
    sample_panel(G, data, out / "samples.png")
    plot_curves(rows, real_quick, out / "parzen-curve.png", variant_rows)
    diag = {f"seed {keep}": diagnostics(G, data)}
    for label, run in others.items():
        diag[label] = diagnostics(run.load_generator(), data)
    text = (table(rows, real_quick, variant_rows)
            + "\n\nWhere the nats go (the first 2,000 test images; squared distances "
              "in pixels of [0, 1]):\n\n" + diagnostics_table(diag))
    rows_text = results_rows(path, rows, variant_rows)
    atomic_write_text(out / "table.md", text + "\n")
    atomic_write_text(out / "results.json", json.dumps(
        {"rows": {str(s): r for s, r in rows.items()}, "variants": variant_rows,
         "real_quick": real_quick, "diagnostics": diag,
         "paper": [PAPER_PARZEN, PAPER_SE]}, indent=2) + "\n")
    if docs:
        docs = Path(docs)
        for name in ("parzen-curve.png", "samples.png"):
            atomic_write_bytes(docs / f"paper-{name}", (out / name).read_bytes())
        update_section(docs, "paper", text)
        update_section(docs, "paper-results", rows_text)
        models = docs / "models"
        models.mkdir(exist_ok=True)
        target = models / f"mnist-paper-seed-{keep}.keras"
        atomic_write_bytes(target, (runs[keep] / GENERATOR).read_bytes())
        m = rows[keep]["metrics"]
        atomic_write_text(target.with_suffix(".json"), json.dumps(
            {"dataset": "mnist", "split": "paper", "iteration": rows[keep]["iteration"],
             "seed": keep, "parzen_ll": m["parzen_ll"], "parzen_se": m["parzen_se"],
             "trained_by": "make mnist-paper ARGS=\"--seeds 3\""}, indent=2) + "\n")
    print(text)
    print(f"wrote {out}/table.md, results.json, parzen-curve.png, samples.png")
    return text
