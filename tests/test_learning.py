"""Does training learn? Real MNIST, a few thousand real iterations, a measured gain.

The measure: the Fréchet distance between Gaussian fits of generated and real test
images, in the 20-dimensional PCA space of the held-out validation images (the
classic FID recipe, with PCA standing in for an Inception network). It reacts both
to what samples look like (means) and to their variety (covariances). Measured here:
untrained G ~51, after 3,000 iterations ~11, real training vs test images ~2.6.
A broken G update (zero step, or the G loss's sign flipped) stays at ~50-56.
"""

import keras
import numpy as np
import pytest

from gan_tf import families
from gan_tf.core.config import Config
from gan_tf.models import networks
from gan_tf.families.mlp import get_losses
from gan_tf.families.adversarial import AdversarialGan
from gan_tf.models.optimizers import make_optimizer
from gan_tf.training.loop import Driver
from gan_tf.training import run as train_lib

ITERS = 3000
Z = np.random.default_rng(1).uniform(-1, 1, (2000, 100)).astype(np.float32)


@pytest.fixture(scope="module")
def pca_fd(mnist):
    val = mnist.val_images.astype(np.float64) / 255
    mean = val.mean(0)
    proj = np.linalg.svd(val - mean, full_matrices=False)[2][:20].T
    test = (mnist.test_images[:2000] / 255.0 - mean) @ proj

    def fd(images):
        f = (np.asarray(images, np.float64) - mean) @ proj
        m1, m2 = f.mean(0), test.mean(0)
        c1, c2 = np.cov(f, rowvar=False), np.cov(test, rowvar=False)
        w, v = np.linalg.eigh(c1)
        s = v @ np.diag(np.sqrt(np.maximum(w, 0))) @ v.T
        cross = np.sqrt(np.maximum(np.linalg.eigvalsh(s @ c2 @ s), 0)).sum()
        return float(((m1 - m2) ** 2).sum() + np.trace(c1) + np.trace(c2) - 2 * cross)
    return fd


def test_pca_fd_separates_real_from_noise(pca_fd, mnist):
    real = pca_fd(mnist.train_images[:2000] / 255.0)
    noise = pca_fd(np.random.default_rng(0).uniform(0, 1, (2000, 784)))
    assert real < 5 and noise > 10 * real


def learned(fd_before, fd_after):
    """The criterion: training removed at least 65% of the distance to real digits."""
    return fd_after < 0.35 * fd_before


@pytest.mark.slow
def test_training_brings_samples_close_to_real_digits(pca_fd, mnist, tmp_path):
    cfg = Config.of(iters=ITERS)
    before = pca_fd(families.build_generator(cfg)(Z).numpy())
    train_lib.train(cfg, tmp_path / "run", data=mnist, log=lambda line: None)
    G = keras.saving.load_model(tmp_path / "run" / "generator.keras")
    after = pca_fd(G(Z).numpy())
    assert learned(before, after), (before, after)


@pytest.mark.slow
def test_the_criterion_fails_when_the_g_update_is_broken(pca_fd, mnist):
    """Negative control: the same run with G's Adam step set to zero must not pass."""
    cfg = Config.of(iters=ITERS)
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    broken_g_opt = keras.optimizers.Adam(learning_rate=0.0)
    trainer = Driver(AdversarialGan(G, D, broken_g_opt, make_optimizer(cfg), get_losses(cfg),
                                    cfg, mnist.train_images))
    before = pca_fd(G(Z).numpy())
    trainer.chunk(ITERS)
    assert not learned(before, pca_fd(G(Z).numpy()))


# --- the GAN paper's model (experiments/mnist_paper.py): SGD, maxout D with dropout,
# simultaneous updates. Its G's initial output is already the pixels' mean (the
# output bias from the marginals), so it starts nearer (~30) than the tutorial's.
# Measured here on a smaller G (one hidden layer of 1,200) and D (maxout 120, 120):
# ~30 before, 8.6 after 2,000 updates, 7.9 after 3,000; with G's step at zero it
# stays at 30.1. (G 512 with that D rose back to 28.8 by 3,000 updates: too weak a
# G for this D, so it is not the model tested.)
PAPER_ITERS = 3000


def paper_small():
    from gan_tf.core.config import override
    from gan_tf.core.experiments import load_experiment
    return override(load_experiment("mnist-paper"),
                    {"g_hidden": (1200,), "d_hidden": (120, 120), "parzen_every": 0})


def paper_learned(fd_before, fd_after):
    return fd_after < 0.5 * fd_before


@pytest.mark.slow
def test_the_papers_model_learns(pca_fd, mnist):
    from gan_tf.data.datasets import with_split
    from gan_tf.training.build import build_trainer
    trainer = build_trainer(paper_small(), with_split(mnist, "paper").train_images)
    before = pca_fd(trainer.G(Z).numpy())
    trainer.chunk(PAPER_ITERS)
    after = pca_fd(trainer.G(Z).numpy())
    assert paper_learned(before, after), (before, after)


@pytest.mark.slow
def test_the_papers_criterion_fails_when_the_g_update_is_broken(pca_fd, mnist):
    """(A broken dropout is caught by test_paper's check of the first update, whose
    expected step is computed through the dropout masks.)"""
    from gan_tf.data.datasets import with_split
    from gan_tf.training.build import build_trainer
    cfg, images = paper_small(), with_split(mnist, "paper").train_images
    t = build_trainer(cfg, images)
    trainer = Driver(AdversarialGan(t.G, t.D, keras.optimizers.SGD(learning_rate=0.0),
                                    t.d_opt, get_losses(cfg), cfg, images))
    before = pca_fd(trainer.G(Z).numpy())
    trainer.chunk(PAPER_ITERS)
    assert not paper_learned(before, pca_fd(trainer.G(Z).numpy()))
