"""The 2-D Gaussian mixtures of the mode-collapse literature (the toys' and the PacGAN
paper's data; their measures are evaluation/modes.py's).

Ring of 8: centres (cos 2 pi k/8, sin 2 pi k/8), k = 0..7, std 0.01 (not
linspace(0, 2 pi, 8), which repeats the first centre and yields only 7 modes).
Grid of 25: centres {-4, -2, 0, 2, 4}^2, std 0.05.

Measured from SAMPLES samples (Metz et al. 2016; Srivastava et al. 2017).
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
