"""Measure a trained generator, beside real data (`python -m gan_tf.evaluate RUN_DIR`).

Loads RUN_DIR/generator.keras, draws 10,000 samples with a recorded seed, applies
every measure of gan_tf.evaluation.metrics to them and, identically, to real images of the
run's dataset (MNIST or Fashion-MNIST, each with its own committed classifier),
writes RUN_DIR/metrics.json and RUN_DIR/nearest_neighbours.png, and prints a table.

RUN_DIR may also be a saved generator file (NAME.keras, such as the committed ones
in docs/models/): it is measured the same way, on the dataset and split that
NAME.json beside it names (MNIST's tutorial split without one), and only the table
is printed. The Parzen sigma is chosen on the first 1,000 validation images of the
run's split: the tutorial's (training images 55,000-55,999) or the paper's
(50,000-50,999, as parzen_ll.py).

What is measured is what the run's family declares (families/base.Family.measures):
G's samples, its super-resolution or translation of test digits, or, for a family
whose product is a classifier (the semi-supervised GAN), that classifier's errors on
the test digits. A generator file says it in NAME.json's "measures".
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import numpy as np

from gan_tf import families
from gan_tf.core.config import DATASETS, SPLITS
from gan_tf.core.errors import UserError
from gan_tf.core.reading import read_json
from gan_tf.data.datasets import load_dataset, with_split
from gan_tf.evaluation import metrics, super_resolution, translation
from gan_tf.evaluation.classifier import load_classifier, predict
from gan_tf.families.cyclegan import DOMAIN_MAPS
from gan_tf.models.networks import NUM_CLASSES, is_conditional, unit_images, z_dim_of
from gan_tf.runs.files import atomic_write_text
from gan_tf.runs.folder import (GENERATOR_INFO_LIMIT, GENERATORS, METRICS, NEIGHBOURS,
                                RunFolder, read_generator)
from gan_tf.runs.pictures import save_rows
from gan_tf.runs.sweeps import is_sweep, read_sweep, seed_folder

PAPER_PARZEN = "225 ± 2 (Goodfellow et al. 2014, Table 1)"
PARZEN_VALIDATION = 1000   # validation images for the sigma search, as the paper


def evaluate_images(images: np.ndarray, mnist, classifier, *, reference: dict | None = None,
                    labels: np.ndarray | None = None, log=lambda line: None) -> dict:
    """All measures of `images` (N, 784) in [0, 1]. Returns {'generated': {...},
    'real': {...}}; pass `reference` (an earlier 'real') to skip recomputing it. With
    `labels` (a conditional G's conditioning labels) also how often the classifier
    agrees with them, per label."""
    images = check_range(images)
    test = mnist.test_images.astype(np.float32) / 255.0
    train = mnist.train_images[:len(test)].astype(np.float32) / 255.0
    val = mnist.val_images[:PARZEN_VALIDATION].astype(np.float32) / 255.0
    stages = 3 if reference is not None else 5
    step = iter(range(1, stages + 1))

    log(f"[{next(step)}/{stages}] classifier on {len(images)} samples and the test set")
    probs_g, feats_g = predict(classifier, images)
    probs_t, feats_t = predict(classifier, test)
    mu_t, cov_t = metrics.gaussian_fit(feats_t)
    gen = {**metrics.mnist_score(probs_g),
           "frechet_distance": metrics.frechet_distance(*metrics.gaussian_fit(feats_g),
                                                        mu_t, cov_t),
           **metrics.mode_coverage(probs_g, mnist.test_labels)}
    if labels is not None:
        gen.update(label_accuracy(probs_g, labels))
    log(f"[{next(step)}/{stages}] Parzen window on the samples")
    gen.update(metrics.parzen(images, val, test))
    if reference is None:
        log(f"[{next(step)}/{stages}] the same measures for real images")
        probs_tr, feats_tr = predict(classifier, train)
        real = {**metrics.mnist_score(probs_t),
                # The floor: 10,000 training images against the test images.
                "frechet_distance": metrics.frechet_distance(
                    *metrics.gaussian_fit(feats_tr), mu_t, cov_t),
                **metrics.mode_coverage(probs_t, mnist.test_labels)}
        log(f"[{next(step)}/{stages}] Parzen window on 10,000 training images")
        real.update(metrics.parzen(train, val, test))
        reference = real
    log(f"[{next(step)}/{stages}] done")
    return {"generated": gen, "real": reference}


def label_accuracy(probs: np.ndarray, labels: np.ndarray) -> dict:
    """Share of samples the classifier assigns to their conditioning label: overall,
    per label, and the worst label's."""
    hit = probs.argmax(1) == np.asarray(labels)
    per = {str(k): float(hit[labels == k].mean()) for k in np.unique(labels)}
    return {"label_accuracy": float(hit.mean()), "label_accuracy_per_label": per,
            "label_accuracy_min": min(per.values())}


def check_range(images: np.ndarray) -> np.ndarray:
    images = np.asarray(images, np.float32).reshape(len(images), -1)
    if images.shape[1] != 784:
        raise UserError(f"samples must be 28x28 images, got shape {images.shape}")
    if images.min() < -1e-6 or images.max() > 1 + 1e-6 or not np.isfinite(images).all():
        raise UserError("samples must lie in [0, 1] (rescale [-1, 1] images first: "
                        "Parzen numbers shift by 784 ln 2 = 543.4 nats otherwise)")
    return images


def generate(G, num_samples: int, seed: int):
    """(images, labels): num_samples images in [0, 1] from the run's final generator;
    a conditional generator's are conditioned on every label in turn (labels None
    otherwise)."""
    z = np.random.default_rng(seed).uniform(-1, 1, (num_samples, z_dim_of(G)))
    z = z.astype(np.float32)
    labels = np.arange(num_samples) % NUM_CLASSES if is_conditional(G) else None
    images = np.concatenate([
        unit_images(G, z[i:i + 1000], None if labels is None else labels[i:i + 1000])
        for i in range(0, num_samples, 1000)])
    return images, labels


def write_neighbours(samples, mnist, path: Path, count: int = 8, k: int = 3) -> None:
    train = mnist.train_images.astype(np.float32) / 255.0
    idx, _ = metrics.nearest_neighbours(samples[:count], train, k)
    rows = [np.concatenate([samples[i:i + 1], train[idx[i]]]) for i in range(count)]
    save_rows(np.stack(rows), path, column_titles=["sample"] + [f"nearest {j + 1}"
                                                                for j in range(k)])


def format_table(result: dict) -> str:
    g, r = result["generated"], result["real"]
    lines = [f"{'measure':<34}{'generated':>14}{'real data':>14}"]
    title = {"fashion_mnist": "Fashion-MNIST"}.get(result.get("dataset"), "MNIST")
    for m in metrics.MEASURES:
        name = m.label.format(title=title)
        lines.append(f"{name:<34}{m.fmt.format(g[m.key]):>14}{m.fmt.format(r[m.key]):>14}")
    if "label_accuracy" in g:
        per = g["label_accuracy_per_label"]
        lines.append(f"{'classified as their label':<34}{g['label_accuracy']:>14.4f}")
        lines.append("  per label: " + "  ".join(f"{k}: {v:.3f}" for k, v in per.items()))
    for kind, other in result.get("generators", {}).items():
        o = other["generated"]
        lines.append(f"{other['file']} (iteration {other['iteration']}): "
                     + ", ".join(f"{m.column} {m.fmt.format(o[m.key])}" for m in metrics.MEASURES
                                 if m.column and m.key in o))
    lines.append("real data: test images (score, classes); 10,000 training vs test images "
                 "(Frechet floor); training images as Parzen centres")
    n = result.get("num_samples")
    lines.append(f"generated: {f'{n:,}' if type(n) is int else '?'} samples of G from z seed "
                 f"{result.get('seed', '?')}, as Parzen centres with sigma chosen on "
                 f"validation images 0-{PARZEN_VALIDATION - 1} of the "
                 f"{result.get('split', '?')} split; the test images scored")
    if title == "MNIST":
        lines.append(f"paper's GAN Parzen estimate: {PAPER_PARZEN}, with 10,000 samples "
                     f"and the paper's split")
    return "\n".join(lines)


def evaluate_folders(run_dirs: list, num_samples: int = 10_000, seed: int = 0,
                     data_dir=None, ensemble_too: bool = False) -> list[dict]:
    """evaluate_folder of each of run_dirs in turn; with `ensemble_too` (runs whose
    product is a classifier, checked first) then their ensemble's test errors."""
    if ensemble_too:
        check_ensemble([RunFolder(r) for r in run_dirs])
    results = [r for run_dir in run_dirs
               for r in evaluate_folder(run_dir, num_samples, seed, data_dir)]
    if ensemble_too:
        result = ensemble(run_dirs, data_dir)
        print(f"--- ensemble of {len(run_dirs)} classifiers: "
              f"{format_errors(result[CLASSIFIER])}")
        results.append(result)
    return results


def evaluate_folder(run_dir, num_samples: int = 10_000, seed: int = 0,
                    data_dir=None) -> list[dict]:
    """Evaluate a run folder, or every seed of a sweep folder (the real-data measures,
    the same for all, once) and print their mean ± std. Returns the results."""
    if not 100 <= num_samples <= 100_000:
        raise UserError(f"--num-samples must be 100 to 100000, got {num_samples}")
    if seed < 0:
        raise UserError(f"--seed must be non-negative, got {seed}")
    if Path(run_dir).suffix == ".keras" and not Path(run_dir).is_dir():
        return [evaluate_file(Path(run_dir), num_samples, seed, data_dir)]
    if not is_sweep(run_dir):
        return [evaluate_run(RunFolder(run_dir), num_samples, seed, data_dir)]
    results, reference = [], None
    info = read_sweep(run_dir)
    for s in info["seeds"]:
        run = seed_folder(run_dir, s)
        if str(s) in info["diverged"]:
            print(f"--- {run}: diverged, left out", flush=True)
            continue
        print(f"--- {run}", flush=True)
        result = evaluate_run(run, num_samples, seed, data_dir, reference)
        results.append(result)
        reference = result.get("real")   # (an SR or translation G has none)
    print(f"--- {run_dir}: mean ± std over {len(results)} seeds")
    if results and all(CLASSIFIER in r for r in results):
        print(format_errors_spread([r[CLASSIFIER] for r in results]))
        return results
    for task in TASKS:
        if results and all(task in r for r in results):
            print(_task_module(task).format_spread([r[task] for r in results]))
            return results
    print(format_spread([r["generated"] for r in results]))
    for kind in ("ema", "best"):
        if results and all(kind in r.get("generators", {}) for r in results):
            print(f"--- {run_dir}: its generator-{kind}.keras, mean ± std")
            print(format_spread([r["generators"][kind]["generated"] for r in results]))
    return results


# What a G that does not sample is measured by, under its task's key in metrics.json:
# SRGAN's (families/srgan.py) and CycleGAN's (families/cyclegan.py).
TASKS = ("super_resolution", "translation")
INVERSE = "generator-inverse.keras"   # CycleGAN's F, beside its G


CLASSIFIER = "classifier"   # a run whose product is classifier.keras


def run_measures(run) -> str:
    """What the run's family declares evaluate measures: 'samples', one of TASKS or
    CLASSIFIER."""
    return families.get(run.read_config()).measures if run.has_config() else "samples"


def file_measures(info: dict, G) -> str:
    """What NAME.json says a generator file is measured by. A NAME.json written before
    it said so (2026-12-07) is read as then, from G's input layer: 'lr' upscales,
    'x' translates, 'z' samples."""
    if "measures" in info:
        return info["measures"]
    card = info.get("card")
    if isinstance(card, dict) and "measures" in card:   # docs/models' files say it there
        return card["measures"]
    return {"lr": "super_resolution", "x": "translation"}.get(G.inputs[0].name, "samples")


def classifier_logits(classifier, images: np.ndarray, batch: int = 1000) -> np.ndarray:
    """The classifier's logits (N, 10) of `images` (uint8, (N, 784)), in inference mode
    (a noisy D's noise off)."""
    return np.concatenate([
        np.asarray(classifier(images[i:i + batch].astype(np.float32) / 255.0,
                              training=False)) for i in range(0, len(images), batch)])


def count_errors(classifier, images: np.ndarray, labels: np.ndarray,
                 batch: int = 1000) -> int:
    """How many of `images` (uint8, (N, 784)) the classifier's argmax gets wrong, in
    inference mode (a noisy D's noise off)."""
    logits = classifier_logits(classifier, images, batch)
    return int(np.sum(np.argmax(logits, axis=1) != labels))


def error_counts(logits: np.ndarray, labels: np.ndarray) -> dict:
    """Test errors of argmax(logits), in all and per true digit."""
    wrong = np.argmax(logits, axis=1) != labels
    per = np.bincount(labels[wrong], minlength=NUM_CLASSES)
    return {"test_errors": int(wrong.sum()), "test_error": float(wrong.mean()),
            "num_test_images": len(labels),
            "per_class_errors": {str(k): int(per[k]) for k in range(NUM_CLASSES)}}


FINISH_RUN = "train the run to its end (python -m gan_tf.train --resume)"


def classifier_errors(model, dataset: str, split: str, data_dir=None) -> dict:
    """error_counts of a classifier on the split's test digits."""
    data = with_split(load_dataset(dataset, data_dir), split)
    return error_counts(classifier_logits(model, data.test_images), data.test_labels)


def measure_classifier(run, data_dir=None) -> dict:
    """The run's classifier.keras on its split's test digits: errors, error rate and
    errors per digit."""
    t0 = time.time()
    model = read_generator(run / "classifier.keras", FINISH_RUN)
    measured = classifier_errors(model, run.dataset(), run.split(), data_dir)
    info = run.generator_info("classifier.keras") or {}
    return {"run": str(run), "iteration": info.get("iteration"), "dataset": run.dataset(),
            "split": run.split(), CLASSIFIER: measured,
            "seconds": round(time.time() - t0, 1)}


def check_ensemble(runs: list) -> None:
    """Refuse, in one line, runs that cannot form an ensemble."""
    not_classifier = [str(r) for r in runs if run_measures(r) != CLASSIFIER]
    if len(runs) < 2 or not_classifier:
        raise UserError("--ensemble takes two or more runs whose product is a classifier "
                        "(the semi-supervised GAN's)"
                        + (f"; not one: {', '.join(not_classifier[:3])}" if not_classifier
                           else ""))
    datasets = sorted({r.dataset() for r in runs})
    if len(datasets) > 1:
        raise UserError(f"--ensemble needs runs of one dataset, got {', '.join(datasets)}")


def ensemble(runs: list, data_dir=None) -> dict:
    """The test errors of the classifiers of `runs` (semi-supervised runs) as one
    ensemble: the mean of their softmax probabilities, as Salimans et al.'s Table 1
    ensemble of 10 models. Nothing is written (the result belongs to no one run)."""
    runs = [RunFolder(r) for r in runs]
    check_ensemble(runs)
    data = load_dataset(runs[0].dataset(), data_dir)
    probs = 0.0
    for r in runs:
        with r.held():
            model = read_generator(r / "classifier.keras", FINISH_RUN)
            logits = classifier_logits(model, data.test_images)
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        probs = probs + e / e.sum(axis=1, keepdims=True) / len(runs)
    return {"runs": [str(r) for r in runs], CLASSIFIER: error_counts(
        np.log(np.maximum(probs, 1e-30)), data.test_labels)}


def format_errors(m: dict) -> str:
    """'93 errors on 10,000 test digits (0.93%); per digit 0: 5, 1: 3, ...'."""
    line = (f"{m['test_errors']} errors on {m['num_test_images']:,} test digits "
            f"({100 * m['test_error']:.2f}%)")
    if "per_class_errors" in m:
        line += "; per digit " + ", ".join(f"{k}: {v}" for k, v in
                                           m["per_class_errors"].items())
    return line


def format_errors_spread(measured: list[dict]) -> str:
    v = np.array([m["test_errors"] for m in measured], np.float64)
    sd = v.std(ddof=1) if len(v) > 1 else 0.0
    return (f"     test errors: {v.mean():.1f} ± {sd:.1f} of {measured[0]['num_test_images']:,}"
            f"   (seeds: {', '.join(str(int(x)) for x in v)})")


def _task_module(task: str):
    return {"super_resolution": super_resolution, "translation": translation}[task]


def measure_task(task: str, G, F, dataset: str, split: str, data_dir=None,
                 domain_map: str = "rotate_invert", **about) -> dict:
    """G (and CycleGAN's F, or None) measured on the split's test digits by its task's
    module (a translation against the true `domain_map`); prints the table. The
    result holds the measures under `task`, beside `about` (run, iteration)."""
    t0 = time.time()
    data = with_split(load_dataset(dataset, data_dir), split)
    module = _task_module(task)
    classifier = load_classifier(dataset=dataset)
    measured = (module.measure(G, data.test_images, data.test_labels, classifier)
                if task == "super_resolution" else
                module.measure(G, F, data.test_images, data.test_labels, classifier,
                               domain_map))
    print(module.format_table(measured))
    return {**about, "dataset": dataset, "split": split,
            "num_test_images": len(data.test_images), task: measured,
            "seconds": round(time.time() - t0, 1)}


def measure_generator(G, dataset: str, split: str, num_samples: int, seed: int,
                      data_dir=None, reference: dict | None = None, **about):
    """Samples of G measured on `dataset` split as `split`: (result, samples, data).
    `about` (run, iteration, ...) goes into the result beside the sampling's facts."""
    t0 = time.time()
    mnist = with_split(load_dataset(dataset, data_dir), split)
    samples, labels = generate(G, num_samples, seed)
    result = evaluate_images(samples, mnist, load_classifier(dataset=dataset), labels=labels,
                             reference=reference,
                             log=lambda line: print(line, file=sys.stderr, flush=True))
    result.update(dataset=dataset, split=split, **about, num_samples=num_samples, seed=seed,
                  paper_parzen=PAPER_PARZEN, seconds=round(time.time() - t0, 1))
    return result, samples, mnist


def evaluate_run(run, num_samples: int, seed: int, data_dir=None,
                 reference: dict | None = None) -> dict:
    """Measure one run folder, write its metrics.json and nearest_neighbours.png. A run
    that saved its G's moving average (g_ema) or its best G (eval_every) beside the
    final G has each measured the same way, under "generators" in metrics.json:
    reported beside the final G's numbers, never instead of them. The run's lock is
    held from the first read to the last write (a training of it is refused meanwhile,
    and this while it trains), so the files measured are the files described."""
    with run.held():
        return _evaluate_run(run, num_samples, seed, data_dir, reference)


def _evaluate_run(run, num_samples: int, seed: int, data_dir, reference) -> dict:
    iteration = run.generator_iteration()
    if iteration is None and run.has_config():
        raise UserError(f"cannot tell which iteration {run / 'generator.keras'} was saved "
                        f"at: the run was resumed to {run.read_config().iters:,} iterations "
                        f"and has not finished again; finish it (python -m gan_tf.train "
                        f"--resume --run-dir {run}) and evaluate it then")
    task = run_measures(run)
    if task == CLASSIFIER:
        result = measure_classifier(run, data_dir)
        atomic_write_text(run / METRICS, json.dumps(result, indent=2) + "\n")
        print("classifier.keras: " + format_errors(result[CLASSIFIER]))
        print(f"wrote {run / METRICS} ({result['seconds']} s)")
        return result
    G = run.load_generator()
    if task != "samples":
        F = run.load_generator(INVERSE) if (run / INVERSE).is_file() else None
        domain_map = (getattr(run.read_config().params, "domain_map", "rotate_invert")
                      if run.has_config() else "rotate_invert")
        result = measure_task(task, G, F, run.dataset(), run.split(), data_dir, domain_map,
                              run=str(run), iteration=iteration)
        atomic_write_text(run / METRICS, json.dumps(result, indent=2) + "\n")
        module = _task_module(task)
        test = with_split(load_dataset(run.dataset(), data_dir), run.split()).test_images
        if task == "translation":
            module.write_picture(G, F, test, run / module.PICTURE, domain_map=domain_map)
        else:
            module.write_picture(G, test, run / module.PICTURE)
        print(f"wrote {run / METRICS} and {run / module.PICTURE} ({result['seconds']} s)")
        return result
    result, samples, mnist = measure_generator(
        G, run.dataset(), run.split(), num_samples, seed, data_dir,
        reference, run=str(run), iteration=iteration)
    others = {}
    for kind, name in GENERATORS.items():
        if kind == "final" or not (run / name).is_file():
            continue
        info = run.generator_info(name)
        if info is None:
            raise UserError(f"{run / name} has no matching {Path(name).stem}.json (written "
                            f"after it): the run stopped between the two; finish it again "
                            f"with --resume, or delete {run / name}")
        other, _, _ = measure_generator(run.load_generator(name), run.dataset(), run.split(),
                                        num_samples, seed, data_dir, result["real"])
        others[kind] = {"file": name, "generated": other["generated"],
                        **{k: v for k, v in info.items() if k != "sha256"}}
    if others:
        result["generators"] = others
    atomic_write_text(run / METRICS, json.dumps(result, indent=2) + "\n")
    write_neighbours(samples, mnist, run / NEIGHBOURS)
    print(format_table(result))
    print(f"wrote {run / METRICS} and {run / NEIGHBOURS} ({result['seconds']} s)")
    return result


def evaluate_file(path: Path, num_samples: int, seed: int, data_dir=None) -> dict:
    """Measure a saved generator file; its dataset and split from NAME.json beside it
    (written with it: see docs/models/), else MNIST's tutorial split. Prints the table,
    writes nothing."""
    if not (path.exists() or path.is_symlink()):
        raise UserError(f"no generator file at {path}")
    info_path = path.with_suffix(".json")
    info = (read_json(info_path, "restore it from git, or delete it to evaluate on MNIST's "
                                 "tutorial split", limit=GENERATOR_INFO_LIMIT)
            if info_path.exists() else {})
    dataset, split = info.get("dataset", "mnist"), info.get("split", "tutorial")
    iteration = info.get("iteration")
    if dataset not in DATASETS or split not in SPLITS or not (
            iteration is None or type(iteration) is int and iteration >= 0):
        raise UserError(f"{info_path} names dataset {str(dataset)[:40]!r}, split "
                        f"{str(split)[:40]!r} and iteration {str(iteration)[:20]}; expected "
                        f"one of {', '.join(DATASETS)}, one of {', '.join(SPLITS)} and a "
                        f"non-negative integer")
    G = read_generator(path, "use a generator file gan-tf saved (docs/models/, or a run's "
                             "generator.keras)")
    task = file_measures(info, G)
    if task not in ("samples", CLASSIFIER) + TASKS:
        raise UserError(f"{info_path} says measures {str(task)[:40]!r}; a generator file is "
                        f"measured by one of samples, {CLASSIFIER}, {', '.join(TASKS)}")
    if task == CLASSIFIER:   # a semi-supervised GAN's classifier (docs/models/)
        t0 = time.time()
        measured = classifier_errors(G, dataset, split, data_dir)
        print(f"{path.name}: {format_errors(measured)}")
        print(f"({path} is a classifier file: nothing written; {time.time() - t0:.1f} s)")
        return {"run": str(path), "iteration": iteration, "dataset": dataset, "split": split,
                CLASSIFIER: measured}
    if task != "samples":   # (a CycleGAN's G alone: A -> B measured, F not known here)
        domain_map = info.get("domain_map", "rotate_invert")
        if domain_map not in DOMAIN_MAPS:
            raise UserError(f"{info_path} names domain_map {str(domain_map)[:40]!r}; "
                            f"expected one of {', '.join(DOMAIN_MAPS)}")
        result = measure_task(task, G, None, dataset, split, data_dir, domain_map,
                              run=str(path), iteration=iteration)
        print(f"({path} is a generator file: nothing written; {result['seconds']} s)")
        return result
    result, _, _ = measure_generator(G, dataset, split, num_samples, seed, data_dir,
                                     run=str(path), iteration=iteration)
    print(format_table(result))
    print(f"({path} is a generator file: nothing written; {result['seconds']} s)")
    return result


def format_spread(generated: list[dict]) -> str:
    """Each measure's mean ± standard deviation (ddof 1) over runs."""
    lines = []
    for m in metrics.MEASURES:
        if m.column and all(m.key in g for g in generated):
            v = np.array([g[m.key] for g in generated], np.float64)
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            lines.append(f"{m.column:>16}: {v.mean():.3f} ± {sd:.3f}   "
                         f"(seeds: {', '.join(f'{x:.3g}' for x in v)})")
    return "\n".join(lines)
