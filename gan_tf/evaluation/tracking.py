"""Measures taken while a run trains: `quick_parzen`, the Parzen estimate of the
GAN paper made small enough to run every few thousand iterations.

The full protocol (evaluate.py, metrics.parzen: 10,000 samples, sigma chosen on
1,000 validation images, the 10,000 test images scored) takes about a minute here;
this one takes a fraction of a second and never looks at the test set, so a curve
of it can say when training has stopped improving without choosing on test data.
"""

from __future__ import annotations

import numpy as np

from gan_tf.evaluation import metrics

QUICK_CENTRES = 2000      # samples, as the kernels' centres
QUICK_SIGMA_IMAGES = 500  # validation images that choose sigma
QUICK_SCORED_IMAGES = 500  # the next validation images, scored at that sigma


def quick_estimate(centres: np.ndarray, val_images_uint8: np.ndarray) -> dict:
    """The quick estimate for `centres` (N, 784) in [0, 1]: sigma from the paper's grid
    chosen on validation images 0-499, then the mean log-likelihood of images 500-999."""
    val = val_images_uint8[:QUICK_SIGMA_IMAGES + QUICK_SCORED_IMAGES].astype(np.float32) / 255.0
    sigma = metrics.best_sigma(centres, val[:QUICK_SIGMA_IMAGES])
    ll = metrics.parzen_log_likelihood(centres, val[QUICK_SIGMA_IMAGES:], sigma)
    return {"parzen_quick": float(ll.mean()), "parzen_quick_sigma": sigma}


def quick_parzen(cfg, data):
    """A function G -> quick_estimate of 2,000 samples of G from one fixed z (the same
    at every call, so the curve moves with G only)."""
    from gan_tf.models.networks import unit_images
    from gan_tf.training.streams import STREAM_PARZEN, sample_z
    z = sample_z(cfg.seed, STREAM_PARZEN, 0, QUICK_CENTRES, cfg.z_dim).numpy()
    # A conditional G draws every digit equally, as evaluate's samples do.
    labels = np.arange(QUICK_CENTRES) % 10 if cfg.conditional else None
    return lambda G: quick_estimate(unit_images(G, z, labels), data.val_images)
