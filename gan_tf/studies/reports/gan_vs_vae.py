"""`python -m gan_tf.gan_vs_vae`: is the VAE really blurrier than the GAN? Measured.

Reads finished, evaluated run folders (default: outputs/mnist-vae, mnist-vae-z20,
mnist-basic, mnist-dcgan; each needs generator.keras and the metrics.json of
gan_tf.evaluate, a VAE also the likelihood.json of gan_tf.vae_likelihood) and writes
into outputs/gan-vs-vae/:
  samples.png          rows: real test digits | each model's samples (the first 10 of
                       evaluate's own 10,000, seed 0)
  reconstructions.png  test digits, then each VAE's reconstruction of them (the
                       decoder's mean image at the posterior mean)
  interpolations.png   latent walks, the same u-space segments (gan_tf.latent's) for
                       every model: a VAE's through its U(-1, 1) -> N(0, I) layer
  results.json, table.md  every evaluate measure, the blur measures of gan_tf.evaluation.metrics
                       on all 10,000 samples (and the test images as reference), and
                       each VAE's test ELBO and importance-weighted log p(x)
With --docs DIR the three pictures are also copied there (docs/gan-vs-vae-*.png)
and the table replaces the section between the gan-vs-vae markers of its page.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_dataset
from gan_tf.evaluation import metrics
from gan_tf.evaluation.evaluate import generate
from gan_tf.evaluation.latent import interpolations
from gan_tf.evaluation.metrics import MEASURES
from gan_tf.evaluation.results import read_metrics, read_result, update_section
from gan_tf.models.networks import z_dim_of
from gan_tf.models.vae import reconstruct
from gan_tf.runs.files import atomic_write_bytes, atomic_write_text, locked
from gan_tf.runs.folder import LIKELIHOOD, METRICS, RunFolder
from gan_tf.runs.outputs import GAN_VS_VAE, GAN_VS_VAE_RUNS, study_dir
from gan_tf.runs.pictures import save_rows

DEFAULT_RUNS = GAN_VS_VAE_RUNS
COLUMNS_PER_ROW = 10
LIKELIHOOD_KEYS = ("elbo", "elbo_se", "iw", "iw_se", "cb_elbo", "cb_iw", "cb_iw_se", "k",
                   "kl", "reconstruction_ll")
NUM_SAMPLES, SEED = 10_000, 0
TRAIN_FIX = ("train and evaluate it first (the default runs: make mnist-vae mnist-vae-z20 "
             "mnist-basic mnist-dcgan, make evaluate RUN=outputs/NAME for each, make "
             "likelihood RUN=outputs/NAME for each VAE), or name another run")   # evaluate's defaults: the samples it measured


def label(folder, cfg) -> str:
    name = Path(folder).name
    kind = ("VAE" if cfg.family == "vae" else "DCGAN" if cfg.family == "dcgan" else "GAN")
    return f"{kind} ({name})"


def load_runs(run_dirs) -> list[dict]:
    """Per run: its folder, config, generator, metrics and (a VAE's) likelihood."""
    runs = []
    for d in run_dirs:
        folder = RunFolder(d)
        if not folder.has_config():   # read_config's message would suggest --resume
            raise UserError(f"{folder} is not a trained run (no config.json there): "
                            f"{TRAIN_FIX}")
        cfg = folder.read_config()
        if not (folder / METRICS).is_file():
            raise UserError(f"{folder / METRICS} is missing: run python -m gan_tf.evaluate "
                            f"{folder} first")
        run = {"folder": folder, "cfg": cfg, "label": label(d, cfg),
               "G": folder.load_generator(),
               "metrics": read_metrics(folder / METRICS)}
        if cfg.family == "vae":
            if not (folder / LIKELIHOOD).is_file():
                raise UserError(f"{folder / LIKELIHOOD} is missing: run python -m "
                                f"gan_tf.vae_likelihood {folder} first")
            run["likelihood"] = read_result(folder / LIKELIHOOD, LIKELIHOOD_KEYS)
        runs.append(run)
    return runs


def measure(runs, test_images) -> dict:
    """results.json's content: per row (real, then each run) every measure."""
    real = runs[0]["metrics"]["real"]
    rows = {"real test images": {**{k: real[k] for k in _measure_keys()},
                                 **metrics.blur(test_images)}}
    for run in runs:
        samples, _ = generate(run["G"], NUM_SAMPLES, SEED)
        run["samples"] = samples
        g = run["metrics"]["generated"]
        row = {**{k: g[k] for k in _measure_keys()}, **metrics.blur(samples),
               "iterations": run["cfg"].iters}
        if "likelihood" in run:
            lk = run["likelihood"]
            row.update({k: lk[k] for k in LIKELIHOOD_KEYS})
        rows[run["label"]] = row
    return rows


def _measure_keys():
    return [m.key for m in MEASURES]


def table(rows: dict) -> str:
    """The docs' table: evaluate's measures, blur, and the likelihoods."""
    head = ("| | score | Fréchet dist. | classes ≥1% | p>0.9 | Parzen (nats) | blur length "
            "(px) | grey share of ink | test ELBO (nats) | IW log p(x) (nats) |")
    lines = [head, "|" + "---|" * 10]
    for name, r in rows.items():
        lik = ("", "")
        if "elbo" in r:
            lik = (f"{r['elbo']:.1f}", f"{r['iw']:.1f} (k = {r['k']:,})")
        lines.append(f"| {name} | {r['mnist_score']:.2f} | {r['frechet_distance']:.2f} | "
                     f"{r['modes_covered']} | {r['confident_share']:.3f} | "
                     f"{r['parzen_ll']:.1f} ± {r['parzen_se']:.1f} | {r['blur_length']:.3f} | "
                     f"{r['grey_share']:.3f} | {lik[0]} | {lik[1]} |")
    vaes = [(n, r) for n, r in rows.items() if "elbo" in r]
    if vaes:
        lines.append("")
        lines.append("| VAE | Parzen of its samples | IW log p(x), continuous Bernoulli "
                     "(a density, like Parzen) | IW log p(x), Bernoulli (trained on) | "
                     "test ELBO, Bernoulli |")
        lines.append("|---|---|---|---|---|")
        for n, r in vaes:
            lines.append(f"| {n} | {r['parzen_ll']:.1f} ± {r['parzen_se']:.1f} | "
                         f"{r['cb_iw']:.1f} ± {r['cb_iw_se']:.1f} | {r['iw']:.1f} ± "
                         f"{r['iw_se']:.1f} | {r['elbo']:.1f} |")
    return "\n".join(lines)


def pictures(runs, mnist, out: Path, rng_seed: int = 0) -> list[Path]:
    """samples.png, reconstructions.png, interpolations.png in `out`."""
    n = COLUMNS_PER_ROW
    test = mnist.test_images[:n].astype(np.float32) / 255.0
    paths = [out / "samples.png", out / "reconstructions.png", out / "interpolations.png"]
    save_rows(np.stack([test] + [r["samples"][:n] for r in runs]), paths[0],
              row_titles=["real"] + [r["label"] for r in runs])
    vaes = [r for r in runs if r["cfg"].family == "vae"]
    recon = [reconstruct(*r["folder"].load_vae()[1:3], test) for r in vaes]
    save_rows(np.stack([test] + recon), paths[1],
              row_titles=["test digits"] + [f"{r['label']}\nreconstruction" for r in vaes])
    rows, titles = [], []
    for r in runs:   # the same seed: every model walks the same segments of u-space
        walks, _ = interpolations(r["G"], z_dim_of(r["G"]), 2, n,
                                  np.random.default_rng(rng_seed + z_dim_of(r["G"])))
        rows += list(walks)
        titles += [r["label"], ""]
    save_rows(np.stack(rows), paths[2], row_titles=titles)
    return paths


def compare(run_dirs=DEFAULT_RUNS, out=study_dir(GAN_VS_VAE), docs=None,
            data_dir=None) -> str:
    """The pictures, results.json and table.md into `out`; with `docs`, the pictures
    copied there and the table into its gan-vs-vae section. Prints the table.
    The output folder's lock is held from the first read to the last write: a second
    process making the same study is refused in one line."""
    with locked(Path(out), "study folder", flag="--out"):
        return _compare(run_dirs, out, docs, data_dir)


def _compare(run_dirs, out, docs, data_dir) -> str:
    runs = load_runs(run_dirs)
    mnist = load_dataset("mnist", data_dir)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows = measure(runs, mnist.test_images.astype(np.float32) / 255.0)
    atomic_write_text(out / "results.json", json.dumps(rows, indent=2) + "\n")
    text = table(rows)
    atomic_write_text(out / "table.md", text + "\n")
    paths = pictures(runs, mnist, out)
    if docs:
        for path in paths:
            atomic_write_bytes(Path(docs) / f"gan-vs-vae-{path.name}", path.read_bytes())
        update_section(docs, "gan-vs-vae", text)
    print(text)
    print(f"wrote {out}/samples.png, reconstructions.png, interpolations.png, "
          f"results.json, table.md")
    return text
