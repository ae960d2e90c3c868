"""The DCGAN's quality over training, and what moves it (`python -m gan_tf.dcgan`).

Reads an evaluated seed sweep of experiments/mnist_dcgan.py (`make mnist-dcgan
ARGS="--seeds 3"`, then `make evaluate RUN=outputs/mnist-dcgan-seeds`) and makes,
into --out:

  table.md, results.json  the final G, its moving average (generator-ema.keras) and
                          the best G by validation Fréchet distance
                          (generator-best.keras) of every seed, measured by evaluate
                          on the test set (10,000 samples), mean ± std; per seed, where
                          its quality curve flattens; then the ablations
  quality.png             every seed's quality curve (eval_every: 5,000 samples
                          against the validation images), G dotted, its average solid
  samples.png             100 samples of the kept seed's headline generator
--ablation RUN (repeatable): a sweep of the same recipe with one flag changed (label
smoothing, the two time-scale rule, float32, ...), usually shorter: each of its seeds
is compared with the same seed of the main sweep at the same iteration, on the
quality curve (paired differences, mean ± std over the seeds). The moving average
and the length of training are ablated inside the main sweep itself (G against its
average, and the curve at half the iterations against the end). With --docs: the
pictures as dcgan-NAME.png, the tables into docs/dcgan.md's `dcgan` section, and the
kept seed's headline generator with its NAME.json into docs/models/.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.evaluation.evaluate import generate
from gan_tf.evaluation.results import read_metrics as read_checked, update_section
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, locked
from gan_tf.runs.folder import GENERATORS, METRICS, RunFolder
from gan_tf.core.config import differences
from gan_tf.runs.pictures import plot_quality, save_grid
from gan_tf.runs.sweeps import seed_runs

TRAIN_FIX = ('train it with make mnist-dcgan ARGS="--seeds 3", evaluate it with make '
             'evaluate RUN=outputs/mnist-dcgan-seeds, or name another run')
FLAT_WITHIN = 0.10   # a curve has flattened where it stays within 10% of its best
# The targets for the unconditional DCGAN (3 seeds).
TARGETS = {"mnist_score": (">=", 9.3), "frechet_distance": ("<=", 3.0),
           "confident_share": (">=", 0.90)}
MEASURE_KEYS = (("mnist_score", "score", "{:.2f}"), ("frechet_distance", "FD (test)", "{:.2f}"),
                ("confident_share", "p>0.9", "{:.3f}"), ("class_kl", "class KL", "{:.3f}"),
                ("modes_covered", "classes ≥1%", "{:.1f}"))


def curve(run: RunFolder, key: str) -> list[tuple[int, float]]:
    """(iteration, value) of one eval_every measure, from the run's stats.jsonl."""
    return [(r["iter"], float(r[key])) for r in run.read_stats()
            if isinstance(r.get(key), (int, float))]


def flattens_at(points: list[tuple[int, float]], within: float = FLAT_WITHIN):
    """The first iteration from which a distance curve stays within `within` of its
    minimum (None for an empty curve)."""
    if not points:
        return None
    best = min(v for _, v in points)
    for i, (it, _) in enumerate(points):
        if all(v <= (1 + within) * best for _, v in points[i:]):
            return it
    return points[-1][0]


def at(points, iteration):
    """The curve's value at `iteration` (None if it was not measured there)."""
    return dict(points).get(iteration)


def _mean_sd(values) -> str:
    v = np.array(values, np.float64)
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return f"{v.mean():.2f} ± {sd:.2f}"


def read_metrics(run: RunFolder) -> dict:
    path = run / METRICS
    if not path.is_file():
        raise UserError(f"no {path}: evaluate the sweep first (make evaluate RUN=...)")
    return read_checked(path)


def generator_rows(runs: dict) -> dict:
    """{kind: {seed: measures}} for the final G and each of its saved companions."""
    rows = {}
    for s, run in runs.items():
        m = read_metrics(run)
        rows.setdefault("final", {})[s] = {**m["generated"], "iteration": m.get("iteration")}
        for kind, other in m.get("generators", {}).items():
            rows.setdefault(kind, {})[s] = {**other["generated"],
                                            "iteration": other.get("iteration")}
    return rows


def main_table(rows: dict) -> str:
    names = {"final": "G at the end (generator.keras)",
             "ema": "its moving average (generator-ema.keras)",
             "best": "best by validation FD (generator-best.keras)"}
    out = ["| generator | iteration | " + " | ".join(c for _, c, _ in MEASURE_KEYS)
           + " | digits (min–max share) |", "|---|---|" + "---|" * (len(MEASURE_KEYS) + 1)]
    for kind, per_seed in rows.items():
        ms = list(per_seed.values())
        its = "/".join(sorted({str(m["iteration"]) for m in ms}))
        hist = np.array([m["class_histogram"] for m in ms])
        out.append(f"| {names.get(kind, kind)} | {its} | "
                   + " | ".join(_mean_sd([m[k] for m in ms]) for k, _, _ in MEASURE_KEYS)
                   + f" | {100 * hist.min():.1f}–{100 * hist.max():.1f}% |")
    return "\n".join(out)


def targets_lines(rows: dict, kind: str) -> str:
    ms = list(rows[kind].values())
    lines = []
    for key, (op, bound) in TARGETS.items():
        v = np.array([m[key] for m in ms])
        ok = bool(np.all(v >= bound) if op == ">=" else np.all(v <= bound))
        lines.append(f"- [{'PASS' if ok else 'MISS'}] {key} {op} {bound} in every seed: "
                     f"{', '.join(f'{x:.3g}' for x in v)}")
    hist = np.array([m["class_histogram"] for m in ms])
    ok = bool((hist >= 0.07).all() and (hist <= 0.13).all())
    lines.append(f"- [{'PASS' if ok else 'MISS'}] every digit between 7% and 13%: "
                 f"{100 * hist.min():.1f}% to {100 * hist.max():.1f}%")
    return "\n".join(lines)


def flat_text(points) -> str:
    """Where a distance curve flattens, or that it has not: its best is its last point
    and the one before lies more than FLAT_WITHIN above."""
    it = flattens_at(points)
    if it is None:
        return ""
    if it == points[-1][0] and len(points) > 1:
        return "not yet: still falling at the end"
    return str(it)


def curve_table(runs: dict, reference: dict | None = None) -> str:
    out = ["| run | val FD at half way (G / average) | at the end | best (iteration) | "
           "flattens at (within 10% of its best) |", "|---|---|---|---|---|"]
    named = [(f"seed {s}", run) for s, run in runs.items()]
    named += [(f"first recipe, seed {s}", run) for s, run in (reference or {}).items()]
    for s, run in named:
        g, e = curve(run, "quality_fd"), curve(run, "ema_quality_fd")
        key = e or g
        half = key[len(key) // 2 - 1][0] if key else None
        best = min(key, key=lambda p: p[1]) if key else (None, float("nan"))
        out.append(f"| {s} | {at(g, half):.1f} / {at(e, half) or float('nan'):.1f} (it {half}) | "
                   f"{g[-1][1]:.1f} / {(e[-1][1] if e else float('nan')):.1f} (it {key[-1][0]}) | "
                   f"{best[1]:.1f} ({best[0]}) | {flat_text(key)} |")
    return "\n".join(out)


def ablation_rows(runs: dict, ablations: dict, against: dict | None = None) -> str:
    """Per ablation: its seeds' last quality record against its base's record (the
    main sweep's, or `against[label]`'s) at the same iteration and seed, as paired
    differences."""
    out = ["| change (seeds) | against | at iteration | val FD of the average: base → "
           "changed | paired difference | score: base → changed |",
           "|---|---|---|---|---|---|"]
    for label, sweep in ablations.items():
        base_name, base_runs = (against or {}).get(label, ("this recipe", runs))
        diffs, mains, others, s_main, s_other, its = [], [], [], [], [], set()
        for s, run in sweep.items():
            if s not in base_runs:
                raise UserError(f"ablation seed {s} of {run} is not a seed of {base_name}")
            mine = curve(run, "ema_quality_fd") or curve(run, "quality_fd")
            if not mine:
                raise UserError(f"{run} has no quality curve (train it with --eval-every)")
            it, v = mine[-1]
            key = "ema_quality_fd" if curve(run, "ema_quality_fd") else "quality_fd"
            base = at(curve(base_runs[s], key), it)
            if base is None:
                raise UserError(f"seed {s} of {base_name} has no quality record at "
                                f"iteration {it}; train the ablation to an iteration on "
                                f"its eval_every grid")
            skey = key.replace("_fd", "_score")
            mains.append(base)
            others.append(v)
            diffs.append(v - base)
            s_main.append(at(curve(base_runs[s], skey), it))
            s_other.append(at(curve(run, skey), it))
            its.add(it)
        out.append(f"| {label} ({len(diffs)}) | {base_name} | {'/'.join(map(str, sorted(its)))} | "
                   f"{_mean_sd(mains)} → {_mean_sd(others)} | {_mean_sd(diffs)} | "
                   f"{_mean_sd(s_main)} → {_mean_sd(s_other)} |")
    return "\n".join(out)


def inside_ablations(runs: dict) -> str:
    """What the main sweep itself says: G against its moving average at the end, and
    the average at half the iterations against the end."""
    out = []
    g_end = [curve(r, "quality_fd")[-1][1] for r in runs.values()]
    e_curves = [curve(r, "ema_quality_fd") for r in runs.values()]
    if all(e_curves):
        e_end = [c[-1][1] for c in e_curves]
        out.append(f"- the moving average against G, at the end: val FD {_mean_sd(g_end)} → "
                   f"{_mean_sd(e_end)} (paired difference "
                   f"{_mean_sd(np.subtract(e_end, g_end))})")
        half = [c[len(c) // 2 - 1] for c in e_curves]
        out.append(f"- training twice as long: the average's val FD at iteration "
                   f"{half[0][0]} {_mean_sd([h[1] for h in half])} → at "
                   f"{e_curves[0][-1][0]} {_mean_sd(e_end)}")
    return "\n".join(out)


def plot_curves(runs: dict, path: Path, reference: dict | None = None) -> None:
    curves = {f"seed {s}": r.read_stats() for s, r in runs.items()}
    curves.update({f"first recipe, seed {s}": r.read_stats()
                   for s, r in (reference or {}).items()})
    plot_quality([], path, title="mnist-dcgan: quality during training", runs=curves)


def sample_panel(G, path: Path) -> None:
    images, _ = generate(G, 100, seed=0)
    save_grid(images, path)


def _closest(cfg, bases: dict) -> tuple[str, str]:
    """(base name, flags) of the base config that `cfg` differs from in fewest fields;
    a run of a base's own config (a rerun of this recipe, say) is an ablation of the
    other base, if there is one."""
    def count(label):
        return 0 if label == "the same config" else label.count("--")
    found = [(name, differences(cfg, base_cfg, ignore=("iters",)))
             for name, base_cfg in bases.items()]
    changed = [f for f in found if count(f[1])] if len(found) > 1 else found
    return min(changed or found, key=lambda f: count(f[1]))


def dcgan_study(path, out, docs=None, keep_seed=None, ablations=(), headline="ema",
                reference=None) -> str:
    """The DCGAN quality table, curves and samples of the sweep at `path` (with its
    `ablations` and `reference` recipe) into `out`; with `docs`, into its section and
    the kept seed's `headline` generator into docs/models. Prints the table.
    The output folder's lock is held from the first read to the last write: a second
    process making the same study is refused in one line."""
    with locked(Path(out), "study folder", flag="--out"):
        return _dcgan_study(path, out, docs, keep_seed, ablations, headline, reference)


def _dcgan_study(path, out, docs, keep_seed, ablations, headline, reference) -> str:
    runs = seed_runs(path, TRAIN_FIX)
    base = next(iter(runs.values())).read_config()
    if base.family != "dcgan" or base.conditional or not base.eval_every:
        raise UserError(f"{path} is not a sweep of mnist-dcgan's recipe (family {base.family!r}, "
                        f"eval_every {base.eval_every}); train it with make mnist-dcgan "
                        f"ARGS=\"--seeds 3\"")
    if headline not in GENERATORS:
        raise UserError(f"--headline must be one of {', '.join(GENERATORS)}")
    # `reference`: a run or sweep of an earlier recipe (the first one), whose curve is
    # drawn beside this one's and against which the ablations made on it are paired.
    bases = {"this recipe": base}
    ref_runs = seed_runs(reference, TRAIN_FIX) if reference else {}
    if ref_runs:
        bases["the first recipe"] = next(iter(ref_runs.values())).read_config()
    # Ablation runs or sweeps that change the same flags from the same base are one
    # ablation (e.g. a run per seed), labelled by what they change.
    others, against = {}, {}
    for a in ablations:
        for s, run in seed_runs(a, TRAIN_FIX).items():
            base_name, label = _closest(run.read_config(), bases)
            against[label] = (base_name, runs if base_name == "this recipe" else ref_runs)
            if s in others.setdefault(label, {}):
                raise UserError(f"two ablation runs of {label} with seed {s}: {run} and "
                                f"{others[label][s]}")
            others[label][s] = run
    rows = generator_rows(runs)
    if headline not in rows:
        raise UserError(f"the sweep has no {GENERATORS[headline]} measured: evaluate it")
    keep = min(runs) if keep_seed is None else keep_seed
    if keep not in runs:
        raise UserError(f"--keep-seed {keep} is not one of the seeds {sorted(runs)}")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    plot_curves(runs, out / "quality.png", ref_runs)
    headline_file = GENERATORS[headline]
    sample_panel(runs[keep].load_generator(headline_file), out / "samples.png")
    text = "\n\n".join(filter(None, [
        main_table(rows),
        f"Targets, for the {headline} generator:\n\n" + targets_lines(rows, headline),
        "The quality curves (validation images, 5,000 samples, every "
        f"{base.eval_every} iterations):\n\n" + curve_table(runs, ref_runs),
        "Ablations inside the sweep:\n\n" + inside_ablations(runs),
        ("Ablations, each its own run against the same seed of its base, at the "
         "ablation's last iteration:\n\n" + ablation_rows(runs, others, against))
        if others else ""]))
    atomic_write_text(out / "table.md", text + "\n")
    atomic_write_text(out / "results.json", json.dumps(
        {"rows": {k: {str(s): m for s, m in v.items()} for k, v in rows.items()},
         "headline": headline}, indent=2) + "\n")
    if docs:
        docs = Path(docs)
        for name in ("quality.png", "samples.png"):
            atomic_write_bytes(docs / f"dcgan-{name}", (out / name).read_bytes())
        update_section(docs, "dcgan", text)
        models = docs / "models"
        models.mkdir(exist_ok=True)
        target = models / f"mnist-dcgan-seed-{keep}.keras"
        atomic_write_bytes(target, (runs[keep] / headline_file).read_bytes())
        m = rows[headline][keep]
        atomic_write_text(target.with_suffix(".json"), json.dumps(
            {"dataset": "mnist", "split": "tutorial", "iteration": m["iteration"],
             "seed": keep, "generator": headline_file,
             "mnist_score": m["mnist_score"], "frechet_distance": m["frechet_distance"],
             "trained_by": "make mnist-dcgan ARGS=\"--seeds 3\""}, indent=2) + "\n")
    print(text)
    print(f"wrote {out}/table.md, results.json, quality.png, samples.png")
    return text
