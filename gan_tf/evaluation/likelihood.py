"""A VAE's likelihood of the MNIST test set (`python -m gan_tf.vae_likelihood RUN_DIR`).

A VAE, unlike a GAN, has a likelihood to bound. For each test image x, with k
samples z_j ~ q(z | x) and log weights
    log w_j = log p(x | z_j) + log p(z_j) - log q(z_j | x),
  test ELBO    E_q log p(x | z) - KL(q || p)  (the reconstruction term averaged over
               the k samples, the KL in closed form)
  IW log p(x)  log (1/k) sum_j w_j, the importance-weighted bound of Burda et al.
               (2016): below log p(x) in expectation, above the ELBO, tighter as k
               grows, exact as k -> infinity.
All in nats per image, averaged over the test images, with standard errors.

Two likelihoods are reported, because the VAE tutorial's Bernoulli "likelihood" on
grey pixels is not a density: sum_x p(x | z) over x in [0, 1]^784 is below 1.
  bernoulli             the usual number, the objective the VAE was trained on
  continuous Bernoulli  the same decoder outputs read as a continuous Bernoulli
                        (Loaiza-Ganem & Cunningham 2019), a proper density on
                        [0, 1]^784: log p(x | z) + sum_i log C(p_i). This is the one
                        on the same scale as the Parzen estimate, itself a density on
                        pixel space, so the two can be compared in nats.
Writes RUN_DIR/likelihood.json (with the run's Parzen estimate from metrics.json,
when gan_tf.evaluate has run) and prints a table.
"""

from __future__ import annotations

import json
import math
import sys
import time

import numpy as np
import tensorflow as tf

from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_dataset
from gan_tf.evaluation.results import read_metrics
from gan_tf.models import losses
from gan_tf.runs.files import atomic_write_text
from gan_tf.runs.folder import LIKELIHOOD, METRICS, RunFolder

ROWS_PER_BATCH = 10_000   # images x samples per decoder call: ~31 MB of logits


def log_weights(E, decoder, x, k: int, seed, batch_index: int = 0) -> dict:
    """For images x (m, 784): per image, the mean over k samples z ~ q(z|x) of
    log p(x|z) ('reconstruction_ll'), the closed-form KL ('kl'), and log (1/k) sum w
    for the Bernoulli ('iw') and continuous-Bernoulli ('cb_iw') decoders; and the
    mean continuous-Bernoulli log p(x|z) ('cb_reconstruction_ll')."""

    x = tf.convert_to_tensor(np.asarray(x, np.float32))
    m = int(x.shape[0])
    mu, logvar = E(x, training=False)
    eps = tf.random.stateless_normal([k, m, mu.shape[-1]], seed=[seed, batch_index])
    z = mu[None] + tf.exp(0.5 * logvar)[None] * eps                 # (k, m, d)
    logits = tf.reshape(decoder(tf.reshape(z, [k * m, -1]), training=False), [k, m, -1])
    rec = losses.bernoulli_log_likelihood(tf.broadcast_to(x, logits.shape), logits)           # (k, m)
    cb = rec + losses.continuous_bernoulli_log_norm(logits)
    prior = losses.gaussian_log_density(z, tf.zeros_like(z), tf.zeros_like(z))
    post = losses.gaussian_log_density(z, mu[None], logvar[None])
    log_k = math.log(k)
    return {"reconstruction_ll": tf.reduce_mean(rec, 0).numpy(),
            "cb_reconstruction_ll": tf.reduce_mean(cb, 0).numpy(),
            "kl": losses.gaussian_kl(mu, logvar).numpy(),
            "iw": (tf.reduce_logsumexp(rec + prior - post, 0) - log_k).numpy(),
            "cb_iw": (tf.reduce_logsumexp(cb + prior - post, 0) - log_k).numpy()}


def likelihood(E, decoder, images: np.ndarray, k: int, seed: int = 0,
               log=lambda line: None) -> dict:
    """Per-image arrays of log_weights over all `images`, in batches that fit memory."""
    m = max(1, ROWS_PER_BATCH // k)
    parts = []
    for b, i in enumerate(range(0, len(images), m)):
        parts.append(log_weights(E, decoder, images[i:i + m], k, seed, b))
        if b % 100 == 0:
            log(f"  {i + len(images[i:i + m]):,} of {len(images):,} images")
    per = {key: np.concatenate([p[key] for p in parts]) for key in parts[0]}
    per["elbo"] = per["reconstruction_ll"] - per["kl"]
    per["cb_elbo"] = per["cb_reconstruction_ll"] - per["kl"]
    return per


def summary(per: dict) -> dict:
    """Mean and standard error of each per-image quantity, in nats."""
    out = {}
    for key, v in per.items():
        out[key] = float(np.mean(v))
        out[key + "_se"] = float(np.std(v) / math.sqrt(len(v)))
    return out


def format_table(result: dict) -> str:
    r = result
    lines = [f"{'nats per test image':<44}{'Bernoulli':>12}{'cont. Bern.':>14}",
             f"{'test ELBO':<44}{r['elbo']:>12.2f}{r['cb_elbo']:>14.2f}",
             f"{'  reconstruction E_q log p(x|z)':<44}{r['reconstruction_ll']:>12.2f}"
             f"{r['cb_reconstruction_ll']:>14.2f}",
             f"{'  KL(q(z|x) || p(z))':<44}{r['kl']:>12.2f}{r['kl']:>14.2f}",
             f"{'IW log p(x), k = ' + format(r['k'], ','):<44}{r['iw']:>12.2f}"
             f"{r['cb_iw']:>14.2f}",
             f"{'  its standard error':<44}{r['iw_se']:>12.2f}{r['cb_iw_se']:>14.2f}"]
    if r.get("parzen_ll") is not None:
        lines.append(f"{'Parzen estimate of its samples (evaluate)':<44}{'':>12}"
                     f"{r['parzen_ll']:>14.2f}")
    return "\n".join(lines)


def run_likelihood(run_dir, k: int = 1000, num_images: int = 10_000, seed: int = 0,
                   data_dir=None) -> dict:
    """A finished VAE run's test likelihoods into RUN_DIR/likelihood.json (with its
    Parzen estimate from metrics.json, when evaluate has run); prints the table."""
    run = RunFolder(run_dir)
    t0 = time.time()
    if not 1 <= k <= ROWS_PER_BATCH:
        raise UserError(f"--k must be 1 to {ROWS_PER_BATCH}, got {k}")
    if not 1 <= num_images <= 10_000:
        raise UserError(f"--num-images must be 1 to 10000, got {num_images}")
    if not 0 <= seed < 2**31:
        raise UserError(f"--seed must be in [0, 2^31), got {seed}")
    with run.held():   # as evaluate: the run's lock from first read to last write
        cfg, E, decoder, _ = run.load_vae()
        data = load_dataset(cfg.dataset, data_dir)
        images = data.test_images[:num_images].astype(np.float32) / 255.0
        per = likelihood(E, decoder, images, k, seed,
                         log=lambda line: print(line, file=sys.stderr, flush=True))
        result = {"run": str(run), "iteration": cfg.iters, "z_dim": cfg.z_dim, "k": k,
                  "num_images": len(images), "seed": seed, **summary(per)}
        if not all(math.isfinite(v) for v in summary(per).values()):
            raise UserError(f"the likelihood of {run} came out NaN or infinite; nothing "
                            f"written (is the VAE trained, its checkpoint whole?)")
        if (run / METRICS).is_file():
            g = read_metrics(run / METRICS)["generated"]   # one line if damaged
            result.update(parzen_ll=g["parzen_ll"], parzen_se=g["parzen_se"])
        result["seconds"] = round(time.time() - t0, 1)
        atomic_write_text(run / LIKELIHOOD, json.dumps(result, indent=2) + "\n")
        print(format_table(result))
        print(f"wrote {run / LIKELIHOOD} ({result['seconds']} s)")
        return result
