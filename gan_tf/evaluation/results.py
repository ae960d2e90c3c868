"""The docs' result tables, made from result files (`python -m gan_tf.results`).

Reads every `outputs/**/metrics.json` written by gan_tf.evaluate (or the run folders
given) and the toy experiments' and studies' results, and rewrites the sections of
the docs pages between their markers. Never typed by hand: rerun it after
evaluating a run. `update_section` is how every command that publishes a table
(bench, gan_vs_vae) writes it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from gan_tf.core import reading
from gan_tf.core.errors import UserError
from gan_tf.evaluation.evaluate import CLASSIFIER, TASKS
from gan_tf.evaluation.metrics import MEASURES
from gan_tf.runs.files import FolderLock, atomic_write_text
from gan_tf.runs.folder import METRICS, METRICS_LIMIT, RunFolder
from gan_tf.runs.outputs import STUDY_RESULTS
from gan_tf.runs.sweeps import is_sweep, read_sweep, sweep_folders

# Where each generated section lives: docs/PAGE between <!-- NAME:start --> and
# <!-- NAME:end -->.
PAGES = {"results": "results.md", "classes": "results.md", "saturation": "experiments.md",
         "gaussian": "toys.md", "modes": "toys.md", "pacgan": "toys.md",
         "stacked-mnist": "toys.md", "bench": "speed.md", "bench-dcgan": "speed.md",
         "profile-dcgan": "speed.md",
         "dcgan": "dcgan.md",
         "bench-sweep": "sweeps.md", "gan-vs-vae": "gan-vs-vae.md", "paper": "paper.md",
         "paper-results": "results.md"}
COLUMNS = [m for m in MEASURES if m.column]
# The last two columns say where each row's numbers come from (CAPTION, under the
# table, says how to read them): the samples evaluate measured and the split whose
# validation images chose the Parzen sigma; the precision the run trained in.
HEADER = ("| run | iterations | " + " | ".join(m.column for m in COLUMNS)
          + " | as labelled (worst class) | evaluated on | trained in |\n|"
          + "---|" * (len(COLUMNS) + 5))
PAPER_ROW = ("| GAN paper, Table 1 (MNIST, Parzen only) | | " + "| " * (len(COLUMNS) - 1)
             + "225 ± 2 | | 10,000 samples, paper split | |")
REAL_CELLS = ("10,000 test images; training images as Parzen centres", "")
CAPTION = ("*evaluated on*: the samples of G that `gan_tf.evaluate` measured (how many, "
           "from which z seed) and the split whose first 1,000 validation images chose "
           "the Parzen sigma (the 10,000 test images are scored); *trained in*: the run's "
           "`--precision`; a value per seed where a sweep's seeds differ, ? where its "
           "files do not say. The GAN paper's Parzen protocol is 10,000 samples as "
           "centres and the paper's split (docs/measures.md).")


def sampling_cell(num_samples, z_seed) -> str:
    """"10,000 samples, z seed 0": what evaluate drew; "?" for what is not recorded."""
    samples = f"{num_samples:,} samples" if type(num_samples) is int else "? samples"
    return f"{samples}, z seed {z_seed if type(z_seed) is int else '?'}"


def settings(num_samples, z_seed, split, precision) -> tuple[str, str]:
    """The evaluated-on and trained-in cells of one run; what a file does not record
    is "?", never assumed."""
    return (f"{sampling_cell(num_samples, z_seed)}, {split or '?'} split",
            str(precision or "?"))


def merged_settings(cells: list[tuple[str, str]]) -> tuple[str, str]:
    """A sweep's cells: each value once where its seeds agree, else every value."""
    return tuple(" / ".join(sorted(set(c))) for c in zip(*cells)) if cells else ("", "")


def run_settings(path: Path, m: dict) -> tuple[str, str]:
    """settings() of the run whose metrics.json is `path`: the samples and split as
    evaluate recorded them, the precision (and, in a metrics.json from before evaluate
    recorded the split, the split) from the run's config.json beside it."""
    folder, cfg = RunFolder(path.parent), None
    if folder.has_config():
        try:
            cfg = folder.read_config()
        except UserError:
            pass        # the table still stands; what it cannot read is "?"
    return settings(m.get("num_samples"), m.get("seed"),
                    m.get("split") or (cfg.split if cfg else None),
                    cfg.precision if cfg else None)


def table_row(name, iters, m, cells=("", "")) -> str:
    """A run's row; `cells`: its evaluated-on and trained-in cells (settings())."""
    # Only a conditional G has labels to agree with.
    labelled = (f"{100 * m['label_accuracy']:.1f}% ({100 * m['label_accuracy_min']:.1f}%)"
                if "label_accuracy" in m else "")
    return (f"| {name} | {iters} | " + " | ".join(c.cell(m) for c in COLUMNS)
            + f" | {labelled} | " + " | ".join(cells) + " |")


# A run's other generators (evaluate's "generators"), as their rows name them.
OTHER_NAMES = {"ema": "· G's moving average", "best": "· best G by validation FD"}


def _others(m: dict) -> dict:
    others = m.get("generators")
    return others if isinstance(others, dict) else {}


def read_metrics(path: Path) -> dict:
    """A metrics.json written by gan_tf.evaluate; a one-line error if it is not one."""
    try:
        m = reading.read_json(path, "evaluate the run again", limit=METRICS_LIMIT)
        # A family that measures no samples (families/base.Family.measures) has its
        # measures under that name: a file of the project's, not a damaged one.
        other = [k for k in (*TASKS, CLASSIFIER) if isinstance(m, dict) and k in m
                 and "generated" not in m]
        if other:
            raise UserError(f"{path} holds a {other[0]} run's measures "
                            f"({other[0]}: {', '.join(list(m[other[0]])[:4])}), which "
                            f"evaluate printed; results tables are for sample-quality runs "
                            f"(families that measure samples): leave {path.parent} out")
        for side in ("generated", "real"):
            for c in COLUMNS:
                c.cell(m[side])
        for other in _others(m).values():
            for c in COLUMNS:
                c.cell(other["generated"])
        return m
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise UserError(f"{path} is not a metrics file of gan_tf.evaluate ({type(e).__name__}"
                        f": {str(e)[:60]}); evaluate the run again") from None


def _iterations(path: Path, m: dict):
    """The iterations the evaluated generator had trained, as evaluate recorded them;
    "?" where it could not tell (never the run's config: a generator can be older)."""
    return m["iteration"] if type(m.get("iteration")) is int else "?"


TITLES = {"mnist": "MNIST", "fashion_mnist": "Fashion-MNIST"}


def spread_row(name, iters, ms: list[dict], cells=("", "")) -> str:
    """A sweep's row: every column as mean ± standard deviation over its seeds."""
    def cell(key, scale=1.0, fmt="{:.2f}", unit=""):
        v = np.array([m[key] for m in ms], np.float64) * scale
        sd = v.std(ddof=1) if len(v) > 1 else 0.0
        return f"{fmt.format(v.mean())}{unit} ± {fmt.format(sd)}{unit}"
    digits = {"mnist_score": "{:.2f}", "frechet_distance": "{:.1f}", "modes_covered": "{:.1f}",
              "class_kl": "{:.3f}", "confident_share": "{:.3f}", "parzen_ll": "{:.1f}"}
    values = [cell(c.key, fmt=digits.get(c.key, "{:.3f}")) for c in COLUMNS]
    labelled = (f"{cell('label_accuracy', 100, '{:.1f}', '%')} "
                f"({cell('label_accuracy_min', 100, '{:.1f}', '%')})"
                if all("label_accuracy" in m for m in ms) else "")
    return (f"| {name} | {iters} | " + " | ".join(values) + f" | {labelled} | "
            + " | ".join(cells) + " |")


def _sweep_of(path: Path):
    """The sweep folder a metrics file belongs to (its run is one seed of it), else None."""
    return path.parent.parent if is_sweep(path.parent.parent) else None


def table(metric_files: list[Path]) -> str:
    """One row per run, one per seed sweep (mean ± std over its seeds), grouped by
    dataset, each group followed by its real data."""
    if not metric_files:
        raise UserError("no metrics.json found; run python -m gan_tf.evaluate RUN_DIR first")
    groups, sweeps = {}, {}
    for path in sorted(metric_files):
        m = read_metrics(path)
        dataset = m.get("dataset", "mnist")
        rows, _ = groups.setdefault(dataset, ([], None))
        groups[dataset] = (rows, m["real"])
        sweep = _sweep_of(path)
        if sweep is not None:
            sweeps.setdefault((dataset, sweep), []).append((path, m))
            continue
        cells = run_settings(path, m)   # its other generators: the same evaluate call
        rows.append(table_row(f"`{path.parent.name}`", _iterations(path, m), m["generated"],
                              cells))
        for kind, other in _others(m).items():
            rows.append(table_row(f"`{path.parent.name}` {OTHER_NAMES[kind]}",
                                  other.get("iteration", "?"), other["generated"], cells))
    for (dataset, sweep), members in sweeps.items():
        total = len(read_sweep(sweep)["seeds"])
        iters = sorted({str(_iterations(p, m)) for p, m in members})
        name = (f"`{sweep.name}` ({len(members)} seeds)" if len(members) == total
                else f"`{sweep.name}` ({len(members)} of {total} seeds evaluated)")
        cells = merged_settings([run_settings(p, m) for p, m in members])
        groups[dataset][0].append(spread_row(name, "/".join(iters),
                                              [m["generated"] for _, m in members], cells))
        for kind, label in OTHER_NAMES.items():
            if all(kind in _others(m) for _, m in members):
                its = sorted({str(_others(m)[kind].get("iteration", "?")) for _, m in members})
                groups[dataset][0].append(spread_row(
                    f"{name} {label}", "/".join(its),
                    [_others(m)[kind]["generated"] for _, m in members], cells))
    for rows, _ in groups.values():
        rows.sort()
    lines = []
    for dataset in sorted(groups, key=lambda d: d != "mnist"):   # MNIST first
        rows, real = groups[dataset]
        lines += rows + [table_row(f"real {TITLES.get(dataset, dataset)} (same pipeline)", "",
                                   real, REAL_CELLS)]
    lines.append(PAPER_ROW)
    return HEADER + "\n" + "\n".join(lines) + "\n\n" + CAPTION


def update_section(docs, name: str, text: str) -> Path:
    """Replace what stands between section NAME's markers in its docs page (PAGES).
    The page is read, changed and written under the docs folder's lock (waiting for
    it a while): two commands publishing two sections of one page at once each keep
    the other's (a read-change-write without it loses one)."""
    page = Path(docs) / PAGES[name]
    start, end = f"<!-- {name}:start -->", f"<!-- {name}:end -->"
    if not page.is_file():
        raise UserError(f"no docs page {page}; pass the docs folder with --docs")
    lock = FolderLock(Path(docs))
    lock.acquire("docs folder", wait=60, flag="--docs")
    try:
        content = reading.read_text(page, "restore it from git", limit=16 * reading.MIB)
        if start not in content or end not in content:
            raise UserError(f"{page} lacks the markers {start} ... {end}")
        head, rest = content.split(start, 1)
        tail = rest.split(end, 1)[1]
        atomic_write_text(page, f"{head}{start}\n{text}\n{end}{tail}")
    finally:
        lock.release()
    return page


def read_result(path: Path, keys=()) -> dict:
    """A study's results file (JSON object with `keys`); one line if it is damaged."""
    try:
        value = reading.read_json(path, "make it again with the command that wrote it")
        missing = [k for k in keys if k not in value]
        if missing:
            raise KeyError(", ".join(missing))
        return value
    except (ValueError, TypeError, KeyError, AttributeError) as e:
        raise UserError(f"{path} is damaged ({type(e).__name__}: {str(e)[:80]}); make it "
                        f"again with the command that wrote it") from None


def toy_sections(outputs: Path) -> dict:
    """{section name: table} for the toy experiments whose results exist."""
    sections = {}
    g = outputs / STUDY_RESULTS["gaussian"]
    if g.is_file():
        m = read_result(g, ("iters", "wasserstein_1", "wasserstein_1_data_vs_data", "g_mean",
                            "g_std", "mu", "sigma", "d_mean_on_data",
                            "d_mean_gap_from_half_on_data"))
        sections["gaussian"] = (
            "| iterations | W1(G, data) | W1(data, fresh data) | G mean, std | data mean, std "
            "| mean D on data | mean abs(D - 1/2) on data |\n|---|---|---|---|---|---|---|\n"
            f"| {m['iters']} | {m['wasserstein_1']:.3f} | {m['wasserstein_1_data_vs_data']:.3f} "
            f"| {m['g_mean']:.2f}, {m['g_std']:.2f} | {m['mu']:.2f}, {m['sigma']:.2f} "
            f"| {m['d_mean_on_data']:.3f} | {m['d_mean_gap_from_half_on_data']:.3f} |")
    r = outputs / STUDY_RESULTS["modes"]
    if r.is_file():
        res = read_result(r, ("results", "iters", "seeds"))
        rows = ["| mixture | method | modes covered | high quality |", "|---|---|---|---|"]
        for key, v in res["results"].items():
            mixture, method = key.split("/")
            rows.append(f"| {mixture} | {method} | {v['modes_covered_mean']:.1f} ± "
                        f"{v['modes_covered_std']:.1f} of {v['modes_total']} | "
                        f"{v['high_quality_mean']:.1%} ± {v['high_quality_std']:.1%} |")
        rows.append(f"\n{res['iters']} iterations, seeds {res['seeds']}; per-seed numbers "
                    f"in `{r}`.")
        sections["modes"] = "\n".join(rows)
    return sections


def class_table(metric_files: list[Path]) -> str | None:
    """Per unconditional MNIST sweep, each digit's share of the samples (the
    classifier's reading), mean ± std over the seeds; None without such a sweep."""
    sweeps = {}
    for path in sorted(metric_files):
        sweep = _sweep_of(path)
        m = read_metrics(path)
        if (sweep is not None and m.get("dataset", "mnist") == "mnist"
                and "label_accuracy" not in m["generated"]
                and "class_histogram" in m["generated"]):
            sweeps.setdefault(sweep, []).append(m["generated"]["class_histogram"])
            real = 100 * np.array(m["real"]["class_histogram"])
    if not sweeps:
        return None
    rows = ["| sweep | " + " | ".join(str(d) for d in range(10)) + " | digits < 1% |",
            "|---|" + "---|" * 11]
    for sweep, hists in sorted(sweeps.items()):
        h = 100 * np.array(hists, np.float64)              # (seeds, 10), percent
        sd = h.std(axis=0, ddof=1) if len(h) > 1 else np.zeros(10)
        rare = sorted({d for row in h for d in range(10) if row[d] < 1})
        rows.append(f"| `{sweep.name}` ({len(h)} seeds) | "
                    + " | ".join(f"{m:.1f} ± {s:.1f}" for m, s in zip(h.mean(0), sd))
                    + f" | {', '.join(f'{d} ({int((h[:, d] < 1).sum())} of {len(h)})' for d in rare) or 'none'} |")
    rows.append("\nShares in percent of 10,000 samples per seed, as the classifier reads "
                f"them (real test digits, read alike: {real.min():.1f}% to {real.max():.1f}% "
                f"each); *digits < 1%*: which digits, in how many seeds, the generator all "
                f"but drops.")
    return "\n".join(rows)


def saturation_section(outputs: Path) -> str | None:
    """The saturating-vs-nonsaturating experiment's windows, mean ± std over seeds."""
    path = outputs / STUDY_RESULTS["saturation"]
    if not path.is_file():
        return None
    res = read_result(path, ("results", "iters", "seeds"))
    rows = ["| G loss | iterations | G's gradient norm | D(G(z)) |", "|---|---|---|---|"]
    for g_loss, seeds in res["results"].items():
        for when, label in (("first_1000", "first 1,000"), ("last_1000", "last 1,000")):
            def stat(key, fmt):
                v = np.array([r[f"{key}_{when}"] for r in seeds.values()])
                return (f"{fmt.format(v.mean())} ± {fmt.format(v.std(ddof=1) if len(v) > 1 else 0)}"
                        f" ({fmt.format(v.min())} to {fmt.format(v.max())})")
            rows.append(f"| {g_loss} | {label} | {stat('g_grad_norm', '{:.3g}')} | "
                        f"{stat('d_fake', '{:.2g}')} |")
    rows.append(f"\n{res['iters']} iterations, seeds {res['seeds']}: mean ± std over the "
                f"seeds of each window's mean (range in brackets); per seed in "
                f"`{path}`.")
    return "\n".join(rows)


def _is_toy(path: Path) -> bool:
    """The toy experiments write their own metrics.json, without 'generated'."""
    try:
        return "generated" not in reading.read_json(path, "", limit=METRICS_LIMIT)
    except (UserError, TypeError):
        return False     # damaged: read_metrics names it


def publish(runs=(), docs="docs", outputs="outputs", print_only: bool = False) -> str:
    """The results table of the run or sweep folders given (default: every
    metrics.json under outputs), printed and, unless print_only, written with the
    other generated sections into the docs pages."""
    folders = [f.path for r in runs
               for f in (sweep_folders(r) if is_sweep(r) else [RunFolder(r)])]
    files = ([Path(r) / METRICS for r in folders] if runs
             else [f for f in Path(outputs).glob(f"**/{METRICS}") if not _is_toy(f)])
    missing = [str(f.parent) for f in files if not f.is_file()]
    if missing:
        how = (f"python -m gan_tf.evaluate {missing[0]}" if len(missing) == 1
               else "python -m gan_tf.evaluate RUN_DIR, for each")
        raise UserError(f"no metrics.json in {', '.join(missing)}; evaluate first ({how})")
    text = table(files)
    if not print_only:
        sections = {"results": text, **toy_sections(Path(outputs)),
                    "classes": class_table(files),
                    "saturation": saturation_section(Path(outputs))}
        for name, section in sections.items():
            if section:
                update_section(docs, name, section)
    print(text)
    return text
