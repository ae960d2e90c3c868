"""2-D Gaussian mixtures and the mode-collapse measures of the literature.

Ring of 8: centres (cos 2 pi k/8, sin 2 pi k/8), k = 0..7, std 0.01 (not
linspace(0, 2 pi, 8), which repeats the first centre and yields only 7 modes).
Grid of 25: centres {-4, -2, 0, 2, 4}^2, std 0.05.

From 2,500 samples (Metz et al. 2016; Srivastava et al. 2017): a sample is high
quality if it lies within 3 standard deviations of its nearest centre; a mode is
covered if it is the nearest centre of at least one high-quality sample. A
perfect generator scores P(|N(0, I_2)| < 3) = 1 - e^-4.5 = 98.9% high quality.
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

SAMPLES = 2500


def ring_centres(k: int = 8, radius: float = 1.0) -> np.ndarray:
    angles = 2 * np.pi * np.arange(k) / k
    return radius * np.stack([np.cos(angles), np.sin(angles)], axis=1)


def grid_centres() -> np.ndarray:
    v = np.array([-4.0, -2.0, 0.0, 2.0, 4.0])
    return np.stack(np.meshgrid(v, v), axis=-1).reshape(-1, 2)


MIXTURES = {"ring": (ring_centres(), 0.01), "grid": (grid_centres(), 0.05)}


def sampler(centres: np.ndarray, std: float):
    """sample(n, seed) -> (n, 2) tensor from the equal-weight mixture, in-graph."""
    c = tf.constant(centres, tf.float32)

    def sample(n, seed):
        seeds = tf.random.experimental.stateless_split(seed, 2)
        k = tf.random.stateless_uniform([n], seeds[0], 0, len(centres), dtype=tf.int32)
        return tf.gather(c, k) + std * tf.random.stateless_normal([n, 2], seeds[1])
    return sample


def mode_counts(samples: np.ndarray, centres: np.ndarray, std: float):
    """(high-quality samples per mode, which samples are high quality): a sample is high
    quality within 3 std of its nearest centre, and counts for that centre."""
    d = np.linalg.norm(samples[:, None, :] - centres[None], axis=-1)
    nearest = d.argmin(axis=1)
    good = d[np.arange(len(samples)), nearest] < 3 * std
    return np.bincount(nearest[good], minlength=len(centres)), good


def mode_metrics(samples: np.ndarray, centres: np.ndarray, std: float) -> dict:
    counts, good = mode_counts(samples, centres, std)
    return {"modes_covered": int((counts > 0).sum()), "modes_total": int(len(centres)),
            "high_quality": float(good.mean())}
