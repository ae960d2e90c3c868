"""Mode-collapse measures of the literature, for samples whose modes are known: the
2-D Gaussian mixtures of the toys and the PacGAN paper (data/mixtures.py), and
Stacked MNIST's 1,000 digit triples. (A generator of MNIST digits is measured by
its classes in metrics.py: classes with at least 1% of the samples.)

Mixtures (Metz et al. 2016; Srivastava et al. 2017; PacGAN's MetricLogger): a sample
is high quality if it lies within 3 standard deviations of its nearest centre (with
isotropic variances, the standardised distance below 3 is the Euclidean one below
3 std), and counts for that centre; a mode is covered if at least one high-quality
sample counts for it. A perfect generator scores P(|N(0, I_2)| < 3) = 1 - e^-4.5 =
98.9% high quality.
"""

from __future__ import annotations

import numpy as np

STACKED_MODES = 1000      # digit triples


def mixture_counts(samples: np.ndarray, centres: np.ndarray, std: float):
    """(high-quality samples per mode, which samples are high quality)."""
    d = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(samples)), nearest] < 3 * std
    return np.bincount(nearest[good], minlength=len(centres)), good


def mixture_modes(samples: np.ndarray, centres: np.ndarray, std: float) -> dict:
    """Modes covered (of modes_total), the high-quality share, and the reverse KL of
    the high-quality samples' mode shares to the uniform one (PacGAN's Table 1; NaN
    when no sample is on any mode, where it is undefined)."""
    counts, good = mixture_counts(np.asarray(samples), centres, std)
    total = counts.sum()
    if total:
        p = counts[counts > 0] / total
        reverse_kl = float(np.sum(p * np.log(p * len(centres))))
    else:
        reverse_kl = float("nan")
    return {"modes": int((counts > 0).sum()), "high_quality": float(good.mean()),
            "reverse_kl": reverse_kl, "modes_total": int(len(centres))}


def triple_modes(labels) -> dict:
    """labels (N, 3): each Stacked MNIST sample's three digits. modes = distinct
    triples; kl = KL(p || uniform over 1,000), p the triples' shares (PacGAN's
    log_metrics)."""
    labels = np.asarray(labels, np.int64)
    _, counts = np.unique(labels @ np.array([100, 10, 1]), return_counts=True)
    p = counts / counts.sum()
    return {"modes": int(len(counts)), "kl": float(np.sum(p * np.log(p * STACKED_MODES)))}
