"""`python -m gan_tf.semi_supervised_table`: Table 1 of Salimans et al. 2016 ("Improved
Techniques for Training GANs", MNIST: test errors of 10,000 with 20, 50, 100 and 200
labels) from the semi-supervised GAN's run folders, at whatever budget each reached.

For each run given (trained with `--eval-every`, as `make mnist-semi-supervised` is),
reads stats.jsonl: the labels it had, its seed and data seed, the epochs it reached,
the test errors of its classifier (the average of D the authors measure) and of D
itself at its last record and their best over the run (the best is chosen on the
test set, so it is shown, never used), and its training time. Groups the runs by
their number of labels (mean ± sample std over seeds) beside the paper's row, and
draws every run's test-error curve against epochs. Writes table.md, table.json and
curves.png into outputs/semi-supervised-table (or --out).
"""

from __future__ import annotations

import json
import statistics
from pathlib import Path

from gan_tf.core.errors import UserError
from gan_tf.models.networks import NUM_CLASSES
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.folder import RunFolder
from gan_tf.runs.pictures import plot_test_errors

# Table 1's MNIST rows: labels -> (mean, std) test errors over 10 seeds.
PAPER = {20: (1677, 452), 50: (221, 136), 100: (93, 6.5), 200: (90, 4.2)}
PAPER_ENSEMBLE_100 = (86, 5.6)


def read_run(path) -> dict:
    """One row: what the run is and where its test-error curve ended."""
    run = RunFolder(path)
    cfg = run.read_config()
    if cfg.family != "semi_supervised":
        raise UserError(f"{path} is a {cfg.family!r} run, not the semi-supervised GAN's")
    everything = run.read_stats()
    records = [r for r in everything if "test_errors" in r]
    if not records:
        raise UserError(f"{path} has no test errors in stats.jsonl: train it with "
                        f"--eval-every (make mnist-semi-supervised does)")
    # An epoch is one pass over the training images in batches (T:104, T:139).
    per_epoch = len_training(cfg) // cfg.batch_size
    last = records[-1]
    d_key = "d_test_errors" if "d_test_errors" in last else "test_errors"
    return {"run": str(path), "labels": cfg.params.labels_per_class * NUM_CLASSES,
            "seed": cfg.seed, "data_seed": cfg.params.data_seed, "split": cfg.split,
            "iteration": last["iter"], "epochs": round(last["iter"] / per_epoch, 2),
            "per_epoch": per_epoch, "test_errors": last["test_errors"],
            "d_test_errors": last[d_key],
            "best_test_errors": min(r["test_errors"] for r in records),
            "hours": round(training_seconds(everything) / 3600, 2),
            "curve": [[r["iter"], r["test_errors"], r.get(d_key)] for r in records]}


def training_seconds(records: list) -> float:
    """The run's training time: elapsed_s counts from each start or resume, so the
    time is the sum of each stretch's last value."""
    total, before = 0.0, 0.0
    for r in records:
        now = r.get("elapsed_s", 0.0)
        if now < before:
            total += before
        before = now
    return total + before


def len_training(cfg) -> int:
    """The number of training images of the run's split (datasets.with_split)."""
    return {"tutorial": 55_000, "paper": 50_000, "all": 60_000}[cfg.split]


def group(rows: list) -> list:
    """Per number of labels: the seeds' errors, mean ± sample std, the paper's."""
    out = []
    for labels in sorted({r["labels"] for r in rows}):
        mine = [r for r in rows if r["labels"] == labels]
        errors = [r["test_errors"] for r in mine]
        out.append({"labels": labels, "seeds": len(mine), "errors": errors,
                    "mean": statistics.mean(errors),
                    "std": statistics.stdev(errors) if len(errors) > 1 else None,
                    "epochs": [r["epochs"] for r in mine], "paper": PAPER.get(labels)})
    return out


def markdown(rows: list, groups: list) -> str:
    lines = ["| labels | seeds | test errors of 10,000 (averaged D), mean ± std | each seed "
             "(epochs) | paper (300 epochs, 10 seeds) |", "| --- | --- | --- | --- | --- |"]
    for g in groups:
        spread = f"{g['mean']:.0f}" + (f" ± {g['std']:.0f}" if g["std"] is not None else "")
        each = ", ".join(f"{e} ({p:g})" for e, p in zip(g["errors"], g["epochs"]))
        paper = f"{g['paper'][0]} ± {g['paper'][1]}" if g["paper"] else ""
        lines.append(f"| {g['labels']} | {g['seeds']} | {spread} | {each} | {paper} |")
    lines += ["", "| run | labels | seed / data seed | epochs | averaged D | D itself | "
              "best averaged D (test-chosen) | hours |", "| --- | --- | --- | --- | --- | "
              "--- | --- | --- |"]
    for r in rows:
        lines.append(f"| {Path(r['run']).name} | {r['labels']} | {r['seed']} / "
                     f"{r['data_seed']} | {r['epochs']:g} | {r['test_errors']} | "
                     f"{r['d_test_errors']} | {r['best_test_errors']} | {r['hours']} |")
    return "\n".join(lines) + "\n"


def study(runs: list, out) -> dict:
    if not runs:
        raise UserError("name the semi-supervised runs to tabulate (run folders)")
    rows = [read_run(r) for r in runs]
    groups = group(rows)
    out = Path(out)
    with locked(out, "study folder", flag="--out"):
        plot_test_errors({}, out / "curves.png", runs={
            f"{r['labels']} labels, seed {r['seed']}": _records(r) for r in rows},
            per_epoch=rows[0]["per_epoch"],
            title="semi-supervised GAN: test errors (solid: averaged D; dotted: D)")
        result = {"runs": rows, "groups": groups}
        atomic_write_text(out / "table.json", json.dumps(result, indent=2) + "\n")
        atomic_write_text(out / "table.md", markdown(rows, groups))
    print(markdown(rows, groups))
    print(f"wrote {out / 'table.md'}, table.json, curves.png")
    return result


def _records(row: dict) -> list:
    return [{"iter": it, "test_errors": e, **({"d_test_errors": d} if d is not None else {})}
            for it, e, d in row["curve"]]
