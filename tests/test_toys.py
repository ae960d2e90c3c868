"""The toy experiments against what is known analytically or from the literature."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.evaluation.modes import mixture_modes
from gan_tf.studies.toys import xy_game
from gan_tf.data import mixtures
from gan_tf.toys import xy_game as xy_game_command


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


@pytest.mark.slow
def test_xy_game_command_writes_its_figures(tmp_path):
    assert xy_game_command.main(["--steps", "30", "--run-dir", str(tmp_path)]) == 0
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
        m = mixture_modes(x, centres, std)
        assert m["modes"] == len(centres)
        rates.append(m["high_quality"])
    # 1 - e^-4.5 = 0.9889; 10,000 draws have standard error ~0.001.
    assert np.mean(rates) == pytest.approx(1 - math.exp(-4.5), abs=0.004)


def test_collapsed_and_off_mode_samples_score_as_such():
    centres, std = mixtures.MIXTURES["ring"]
    one_mode = centres[3] + std * np.random.default_rng(0).normal(size=(2500, 2))
    m = mixture_modes(one_mode, centres, std)
    assert m["modes"] == 1 and m["high_quality"] > 0.97
    between = np.random.default_rng(1).uniform(-0.3, 0.3, size=(2500, 2))  # the middle
    assert mixture_modes(between, centres, std)["high_quality"] == 0.0


@pytest.mark.slow
def test_gaussian_1d_gan_matches_the_data_and_d_goes_to_one_half(tmp_path):
    """Trained for real: p_g close to p_data (1-D Wasserstein) and D(x) ~ 1/2 on the
    data, as in Figure 1(d) of the GAN paper. Measured here (seed 0, 15,000
    iterations): W1 0.09 from 2.0 at the start (data against fresh data: 0.009),
    mean |D - 1/2| on the data 0.03."""
    from gan_tf.studies.toys import gaussian1d
    gan = gaussian1d.make_gan(seed=0)
    before = gaussian1d.measure(gan)
    for _ in range(5):
        gan.train(3000)
    after = gaussian1d.measure(gan)
    assert before["wasserstein_1"] > 1.0
    assert after["wasserstein_1"] < 0.15           # 0.3 sigma
    assert after["d_mean_gap_from_half_on_data"] < 0.1
    assert abs(after["g_mean"] - gaussian1d.MU) < 0.15


@pytest.mark.slow
def test_gaussian_1d_command_writes_figures(tmp_path):
    from gan_tf.studies.toys import gaussian1d
    m = gaussian1d.run(tmp_path, iters=600, frame_every=300)
    for name in ("stages.png", "training.gif", "metrics.json"):
        assert (tmp_path / name).stat().st_size > 0
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "training.gif", index=None).shape[0] == 3
    assert set(m) >= {"wasserstein_1", "d_mean_on_data"}


def test_pacgan_judges_packs_of_consecutive_samples():
    from gan_tf.studies.toys.toy_gan import ToyGAN
    centres, std = mixtures.MIXTURES["ring"]
    gan = ToyGAN(mixtures.sampler(centres, std), 2, pack=4, batch=8)
    assert gan.D.inputs[0].shape[-1] == 8
    x = tf.reshape(tf.range(16, dtype=tf.float32), [8, 2])
    packed = gan._packed(x).numpy()
    assert packed.shape == (2, 8) and list(packed[1]) == list(range(8, 16))
    with pytest.raises(ValueError, match="multiple of pack"):
        ToyGAN(mixtures.sampler(centres, std), 2, pack=3, batch=8)


@pytest.mark.slow
def test_mode_collapse_command_writes_results_and_pictures(tmp_path):
    from gan_tf.studies.toys import mode_collapse
    out = mode_collapse.run(tmp_path, iters=100, seeds=(0,), frames=2, log=lambda l: None)
    assert set(out["results"]) == {f"{m}/{k}" for m in ("ring", "grid")
                                   for k in mode_collapse.METHODS}
    for r in out["results"].values():
        assert 0 <= r["high_quality_mean"] <= 1 and r["modes_total"] in (8, 25)
    import imageio.v3 as iio
    assert iio.imread(tmp_path / "training.gif", index=None).shape[0] == 3
    assert (tmp_path / "final.png").exists() and (tmp_path / "results.json").exists()
