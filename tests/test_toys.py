"""The toy experiments against what is known analytically or from the literature."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.toys import mixtures, xy_game


@pytest.mark.parametrize("eta", [0.05, 0.3, 1.0])
def test_simultaneous_updates_spiral_out_by_sqrt_1_plus_eta2(eta):
    p = xy_game.play(eta, 50, "simultaneous", start=(0.6, -0.8))
    r = np.hypot(p[:, 0], p[:, 1])
    eta = float(np.float32(eta))   # Keras keeps the learning rate in float32
    np.testing.assert_allclose(r[1:] / r[:-1], math.sqrt(1 + eta ** 2), rtol=1e-12)


@pytest.mark.parametrize("eta", [0.05, 0.3, 1.0, 1.9])
def test_alternating_updates_conserve_q_and_stay_bounded(eta):
    p = xy_game.play(eta, 500, "alternating", start=(0.6, -0.8))
    eta = float(np.float32(eta))   # Keras keeps the learning rate in float32
    q = p[:, 0] ** 2 - eta * p[:, 0] * p[:, 1] + p[:, 1] ** 2
    np.testing.assert_allclose(q, q[0], rtol=1e-10)
    # A conserved positive-definite Q (|eta| < 2) bounds the orbit: no spiral.
    assert np.hypot(p[:, 0], p[:, 1]).max() < 2 * math.sqrt(q[0] / (1 - eta / 2))
    # ...and it never converges to the equilibrium either.
    assert np.hypot(p[-50:, 0], p[-50:, 1]).min() > 0.1


def test_xy_game_command_writes_its_figures(tmp_path):
    assert xy_game.main(["--steps", "30", "--run-dir", str(tmp_path)]) == 0
    assert (tmp_path / "trajectories.png").stat().st_size > 0
    assert (tmp_path / "orbit.gif").stat().st_size > 0


def test_ring_has_eight_distinct_modes_and_grid_twenty_five():
    ring = mixtures.ring_centres()
    assert len(np.unique(np.round(ring, 9), axis=0)) == 8
    np.testing.assert_allclose(np.hypot(ring[:, 0], ring[:, 1]), 1.0)
    grid = mixtures.grid_centres()
    assert len(np.unique(grid, axis=0)) == 25 and grid.min() == -4 and grid.max() == 4


@pytest.mark.parametrize("name", ["ring", "grid"])
def test_true_mixture_scores_like_a_perfect_generator(name):
    centres, std = mixtures.MIXTURES[name]
    rates = []
    for s in range(4):
        x = mixtures.sampler(centres, std)(mixtures.SAMPLES,
                                           tf.constant([s, 7], tf.int64)).numpy()
        m = mixtures.mode_metrics(x, centres, std)
        assert m["modes_covered"] == len(centres)
        rates.append(m["high_quality"])
    # 1 - e^-4.5 = 0.9889; 10,000 draws have standard error ~0.001.
    assert np.mean(rates) == pytest.approx(1 - math.exp(-4.5), abs=0.004)


def test_collapsed_and_off_mode_samples_score_as_such():
    centres, std = mixtures.MIXTURES["ring"]
    one_mode = centres[3] + std * np.random.default_rng(0).normal(size=(2500, 2))
    m = mixtures.mode_metrics(one_mode, centres, std)
    assert m["modes_covered"] == 1 and m["high_quality"] > 0.97
    between = np.random.default_rng(1).uniform(-0.3, 0.3, size=(2500, 2))  # the middle
    assert mixtures.mode_metrics(between, centres, std)["high_quality"] == 0.0
