"""Measures taken while a run trains, for the stats records: `quick_parzen` (the
Parzen estimate of the GAN paper made small enough to run every few thousand
iterations), `quality` (the classifier's measures of evaluate, on 5,000 samples
against the 5,000 validation images) and, for a family whose product is a classifier
(the semi-supervised GAN), `test_errors`; `tracker` is what the train command hands
the training loop.

The full protocol (evaluate.py, metrics.parzen: 10,000 samples, sigma chosen on
1,000 validation images, the 10,000 test images scored) takes about a minute here;
this one takes a fraction of a second and never looks at the test set, so a curve
of it can say when training has stopped improving without choosing on test data.
"""

from __future__ import annotations

import numpy as np

from gan_tf import families
from gan_tf.data.streams import STREAM_PARZEN, STREAM_QUALITY, sample_z
from gan_tf.evaluation import metrics
from gan_tf.evaluation.classifier import load_classifier, predict
from gan_tf.evaluation.evaluate import count_errors
from gan_tf.models import networks   # networks.unit_images, looked up at each call

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
    z = sample_z(cfg.seed, STREAM_PARZEN, 0, QUICK_CENTRES, cfg.z_dim).numpy()
    # A conditional G draws every digit equally, as evaluate's samples do.
    labels = np.arange(QUICK_CENTRES) % 10 if cfg.conditional else None
    return lambda G: quick_estimate(networks.unit_images(G, z, labels), data.val_images)


QUALITY_SAMPLES = 5000   # eval_every's samples per generator (the same z every time)


def quality(cfg, data, classifier=None, samples: int | None = None):
    """A function G -> the classifier's measures of QUALITY_SAMPLES samples of G from
    one fixed z: 'quality_score' (the MNIST score), 'quality_fd' (Frechet distance of
    the classifier's features to those of the validation images: the test images stay
    unseen until evaluate), 'quality_confident' (share read with p > 0.9) and
    'quality_class_kl' (KL of the classes to the validation labels'). About 2 s on
    this CPU. `samples` (default QUALITY_SAMPLES, read at the call) replaces both
    5,000s."""
    n = samples or QUALITY_SAMPLES
    classifier = classifier or load_classifier(dataset=cfg.dataset)
    val = data.val_images[:n].astype(np.float32) / 255.0
    _, feats_v = predict(classifier, val)
    mu_v, cov_v = metrics.gaussian_fit(feats_v)
    val_labels = data.val_labels[:n]
    z = sample_z(cfg.seed, STREAM_QUALITY, 0, n, cfg.z_dim).numpy()
    labels = np.arange(n) % 10 if cfg.conditional else None

    def measure(G) -> dict:
        images = np.concatenate([
            networks.unit_images(G, z[i:i + 1000],
                                 None if labels is None else labels[i:i + 1000])
            for i in range(0, n, 1000)])
        if not np.isfinite(images).all():
            return {"quality_fd": float("nan")}
        probs, feats = predict(classifier, images)
        classes = metrics.mode_coverage(probs, val_labels)
        return {"quality_score": metrics.mnist_score(probs)["mnist_score"],
                "quality_fd": metrics.frechet_distance(*metrics.gaussian_fit(feats),
                                                       mu_v, cov_v),
                "quality_confident": classes["confident_share"],
                "quality_class_kl": classes["class_kl"]}
    return measure


def test_errors(data):
    """A function classifier -> {'test_errors': how many of the split's test digits
    its argmax gets wrong}, in inference mode (a noisy D's noise off). The curve the
    authors of the semi-supervised GAN print every epoch (train_mnist_feature_matching
    .py:94); nothing is chosen by it."""
    return lambda model: {"test_errors": count_errors(model, data.test_images,
                                                      data.test_labels)}


def tracker(cfg, data):
    """The training loop's `measure`: a function (models, iteration) -> numbers, the
    quick Parzen estimate of the first model every cfg.parzen_every iterations and,
    every cfg.eval_every, `quality` of each generator (or, where the family's product
    is a classifier, `test_errors` of each), its keys prefixed by the model's ('' for
    G, 'ema_' for its moving average; the classifier, 'd_' for D itself)."""
    parzen = quick_parzen(cfg, data) if cfg.parzen_every else None
    classifier = families.get(cfg).measures == "classifier"
    quality_of = (None if not cfg.eval_every else test_errors(data) if classifier
                  else quality(cfg, data))

    def track(generators: dict, it: int) -> dict:
        out = {}
        if parzen and it % cfg.parzen_every == 0:
            out.update(parzen(next(iter(generators.values()))))
        if quality_of and it % cfg.eval_every == 0:
            for prefix, G in generators.items():
                out.update({prefix + k: v for k, v in quality_of(G).items()})
        return out
    return track
