"""SRGAN and CycleGAN (families/srgan.py, families/cyclegan.py): their fixed maps and
layers against hand computations, their losses by hand, their measures on known
answers, their steps doing what their papers say, and learning tests that fail
without each model's distinctive term."""

from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.core.config import Config, override

from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError


# --- SRGAN: the fixed maps and the sub-pixel layer

def keys_cubic(x, a=-0.5):
    x = np.abs(x)
    return np.where(x <= 1, (a + 2) * x ** 3 - (a + 3) * x ** 2 + 1,
                    np.where(x < 2, a * x ** 3 - 5 * a * x ** 2 + 8 * a * x - 4 * a, 0.0))


def test_the_downsampling_is_the_bicubic_kernel_stretched_four_times():
    """Each 7x7 pixel is the weighted mean of the 28x28 pixels within 8 of its centre,
    weights the Keys cubic (a = -0.5) at a quarter of the distance, normalised over
    the pixels inside the image; separable."""
    from gan_tf.models.super_resolution import downsample
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (3, 784)).astype(np.float32)
    centres = (np.arange(7) + 0.5) * 4
    w = keys_cubic(((np.arange(28) + 0.5)[None, :] - centres[:, None]) / 4)   # (7, 28)
    w /= w.sum(axis=1, keepdims=True)
    want = np.einsum("ir,brc,jc->bij", w, x.reshape(3, 28, 28), w).reshape(3, 49)
    np.testing.assert_allclose(downsample(x).numpy(), want, atol=1e-5)


def test_bicubic_upsampling_keeps_a_constant_and_stays_in_range():
    from gan_tf.models.super_resolution import upsample_bicubic, upsample_nearest
    c = np.full((2, 49), 0.3, np.float32)
    np.testing.assert_allclose(upsample_bicubic(c).numpy(), 0.3, atol=1e-6)
    spikes = np.where(np.random.default_rng(1).uniform(size=(4, 49)) > 0.5, 1.0, -1.0)
    up = upsample_bicubic(spikes.astype(np.float32)).numpy()
    assert up.max() <= 1.0 and up.min() >= -1.0 and up.shape == (4, 784)
    blocks = upsample_nearest(spikes.astype(np.float32)).numpy().reshape(4, 28, 28)
    np.testing.assert_array_equal(blocks[:, 4 * 3 + 2, 4 * 5 + 1], spikes[:, 3 * 7 + 5])


def test_pixel_shuffle_against_a_hand_rearrangement_and_through_a_saved_model(tmp_path):
    import keras
    from gan_tf.models.networks import PixelShuffle, load_generator
    x = np.random.default_rng(2).normal(size=(2, 3, 5, 8)).astype(np.float32)
    got = PixelShuffle(2)(x).numpy()
    want = np.zeros((2, 6, 10, 2), np.float32)
    for i in range(3):
        for j in range(5):
            for di in range(2):
                for dj in range(2):
                    want[:, 2 * i + di, 2 * j + dj, :] = x[:, i, j, (2 * di + dj) * 2:
                                                          (2 * di + dj) * 2 + 2]
    np.testing.assert_array_equal(got, want)
    inp = keras.Input((3, 5, 8))
    model = keras.Model(inp, PixelShuffle(2, name="up")(inp))
    model.save(tmp_path / "m.keras")
    np.testing.assert_array_equal(load_generator(tmp_path / "m.keras")(x).numpy(), want)


def test_psnr_and_ssim_on_known_answers():
    from gan_tf.evaluation.super_resolution import psnr, ssim
    ref = np.random.default_rng(3).uniform(0.2, 0.8, (5, 784))
    assert psnr(ref + 0.1, ref) == pytest.approx(20.0, abs=1e-9)    # MSE 0.01
    assert psnr(ref - 0.01, ref) == pytest.approx(40.0, abs=1e-9)
    assert ssim(ref, ref) == pytest.approx(1.0, abs=1e-6)
    assert ssim(np.full_like(ref, 0.5), ref) < 0.2


def test_the_content_loss_by_hand():
    from gan_tf.models.super_resolution import content_loss
    a = np.array([[0.0, 1.0], [0.5, -1.0]], np.float32)
    b = np.array([[0.5, 1.0], [0.0, 1.0]], np.float32)
    assert float(content_loss(a, b)) == pytest.approx((0.25 + 0 + 0.25 + 4) / 4)


def sr_config(**changes):
    return override(load_experiment("mnist-srgan"),
                    {"width": 8, "blocks": 1, "d_width": 8, **changes})


def test_srgans_d_waits_for_the_mse_iterations_and_srresnets_never_moves(mnist):
    from gan_tf.training.build import build_trainer
    images = mnist.train_images[:512]
    for changes, moves_at in (({"pretrain_iters": 3}, 3), ({"adv_weight": 0.0}, None)):
        trainer = build_trainer(sr_config(**changes), images)
        d0 = [w.copy() for w in trainer.D.get_weights()]
        g0 = [w.copy() for w in trainer.G.get_weights()]
        out = trainer.chunk(3)
        assert all(np.array_equal(a, b) for a, b in zip(d0, trainer.D.get_weights()))
        assert not all(np.array_equal(a, b) for a, b in zip(g0, trainer.G.get_weights()))
        assert out["sums"]["d_loss"] == 0 and out["sums"]["g_loss"] == out["sums"]["content"]
        out = trainer.chunk(1)
        d_moved = not all(np.array_equal(a, b) for a, b in zip(d0, trainer.D.get_weights()))
        assert d_moved == (moves_at is not None)
        if moves_at is not None:   # G's loss: the MSE plus 1e-3 of the adversarial term
            s = out["sums"]
            assert s["d_loss"] > 0 and s["g_adversarial"] > 0
            assert s["g_loss"] == pytest.approx(s["content"] + 1e-3 * s["g_adversarial"],
                                                rel=1e-5)


def test_the_image_to_image_families_refuse_what_they_cannot_mean():
    with pytest.raises(UserError, match="init 'xavier_tutorial' is an MLP's"):
        Config.of(family="srgan", init="xavier_tutorial")
    # the options of the GANs' shared step are not SRGAN's parameters at all
    for key, value in (("g_output", "sigmoid"), ("d_steps", 2), ("g_ema", 0.9)):
        with pytest.raises(UserError, match=f"{key} is a parameter of families .*, not of "
                                            f"'srgan'"):
            override(load_experiment("mnist-srgan"), {key: value})
    with pytest.raises(UserError, match=r"needs eval_every=0, strategy='default' \(got "
                                        r"eval_every=10, strategy='mirrored'\)"):
        override(load_experiment("mnist-srgan"), {"eval_every": 10, "log_every": 10,
                                                  "snapshot_every": 10,
                                                  "strategy": "mirrored"})
    with pytest.raises(UserError, match="adv_weight must be a number in"):
        override(load_experiment("mnist-srgan"), {"adv_weight": float("nan")})
    with pytest.raises(UserError, match="loss is a parameter of families .*, not of "
                                        "'cyclegan'"):
        override(load_experiment("mnist-cyclegan"), {"loss": "xent"})
    with pytest.raises(UserError, match="cycle_weight must be a number in"):
        override(load_experiment("mnist-cyclegan"), {"cycle_weight": -1.0})


# --- CycleGAN: the task's map, the position mixing, the losses, the data

def test_the_fixed_map_is_a_rotation_and_an_inversion_and_to_a_undoes_it():
    from gan_tf.models.cycle import to_a, to_b
    x = np.random.default_rng(4).uniform(-1, 1, (3, 784)).astype(np.float32)
    b = to_b(x).numpy()
    np.testing.assert_array_equal(b.reshape(3, 28, 28),
                                  -np.rot90(x.reshape(3, 28, 28), 1, axes=(1, 2)))
    np.testing.assert_array_equal(to_a(b).numpy(), x)
    # either half alone (domain_map), each undone by its to_a
    img = x.reshape(3, 28, 28)
    for name, want in (("invert", -img), ("rotate", np.rot90(img, 1, axes=(1, 2)))):
        b = to_b(x, name).numpy()
        np.testing.assert_array_equal(b.reshape(3, 28, 28), want)
        np.testing.assert_array_equal(to_a(b, name).numpy(), x)
    from gan_tf.families.cyclegan import DOMAIN_MAPS
    from gan_tf.models import cycle
    assert DOMAIN_MAPS == cycle.DOMAIN_MAPS
    with pytest.raises(UserError, match="domain_map must be one of rotate_invert, invert, "
                                        "rotate, got 'flip'"):
        override(load_experiment("mnist-cyclegan"), {"domain_map": "flip"})


def test_position_mixing_can_be_a_rotation_that_convolutions_cannot():
    """With its matrix the 7x7 rotation's permutation, the layer rotates every
    channel: the move of content across the image the all-convolutional G lacks."""
    from gan_tf.models.networks import PositionMixing
    layer = PositionMixing(seed=0)
    x = np.random.default_rng(5).normal(size=(2, 7, 7, 3)).astype(np.float32)
    layer(x)
    perm = np.zeros((49, 49), np.float32)
    src = np.arange(49).reshape(7, 7)
    for p, q in enumerate(np.rot90(src).ravel()):
        perm[q, p] = 1.0   # output position p takes input position q
    layer.kernel.assign(perm)
    np.testing.assert_allclose(layer(x).numpy(), np.rot90(x, 1, axes=(1, 2)), atol=1e-6)


def test_cyclegan_losses_by_hand():
    from gan_tf.models.cycle import cycle_loss, d_loss, g_loss
    real = np.array([[1.0, 0.5]], np.float32)
    fake = np.array([[0.0, 0.5]], np.float32)
    assert float(d_loss(real, fake)) == pytest.approx(0.5 * (0.125 + 0.125))
    assert float(g_loss(fake)) == pytest.approx((1 + 0.25) / 2)
    assert float(cycle_loss(np.array([[1.0, -1.0]]), np.array([[0.5, 0.0]]))) == \
        pytest.approx(0.75)


def test_cyclegans_two_domains_are_disjoint_halves_never_paired(mnist):
    from gan_tf.training.build import build_trainer
    images = np.concatenate([np.zeros((64, 784), np.uint8), np.full((64, 784), 100, np.uint8)])
    cfg = override(load_experiment("mnist-cyclegan"), {"width": 2, "blocks": 1, "d_width": 2})
    trainer = build_trainer(cfg, images)
    for t in range(5):
        a, _ = trainer.batch(t)
        np.testing.assert_array_equal(a.numpy(), -1.0)   # the first half, as it is
        np.testing.assert_allclose(trainer.batch_b(t).numpy(), -(100 / 127.5 - 1), atol=1e-6)
    out = trainer.chunk(2)
    assert np.isfinite(out["sums"]["cycle"]) and len(trainer.state()) > 40


def test_the_translation_measures_on_the_true_map_and_the_identity(mnist):
    """A G that is the true map scores error 0 and the classifier's own accuracy; the
    identity scores the reference's error."""
    import keras
    from gan_tf.evaluation.classifier import load_classifier
    from gan_tf.evaluation.translation import measure
    from gan_tf.models import cycle
    inp = keras.Input((784,), name="x")
    G = keras.Model(inp, keras.layers.Lambda(cycle.to_b)(inp))
    F = keras.Model(inp, keras.layers.Lambda(cycle.to_a)(inp))
    test = mnist.test_images[:500]
    r = measure(G, F, test, mnist.test_labels[:500], load_classifier())
    g = r["generators"]
    assert g["a_to_b"]["error"] < 1e-6 and g["b_to_a"]["error"] < 1e-6
    assert g["a_to_b"]["cycle_error"] < 1e-6
    assert g["a_to_b"]["accuracy"] == r["true_map"]["a_to_b"]["accuracy"] > 0.97
    assert g["a_to_b"]["permutation"] == list(range(10))   # every digit stays itself
    assert g["b_to_a"]["permuted_accuracy"] == g["b_to_a"]["accuracy"]
    assert r["identity"]["a_to_b"]["error"] > 0.5 and r["identity"]["a_to_b"]["accuracy"] < 0.5
    # measured against another map, the inversion alone, the same G is 0.5 off
    # (its rotation), and that map's own true translation is exact
    r = measure(G, F, test, mnist.test_labels[:500], load_classifier(), "invert")
    assert r["domain_map"] == "invert" and r["generators"]["a_to_b"]["error"] > 0.1
    G = keras.Model(inp, keras.layers.Lambda(lambda v: -v)(inp))
    r = measure(G, G, test, mnist.test_labels[:500], load_classifier(), "invert")
    assert r["generators"]["a_to_b"]["error"] < 1e-6
    assert r["generators"]["b_to_a"]["permutation"] == list(range(10))


# --- learning: each model's distinctive term, and the same model without it

SR_ITERS, SR_PRETRAIN = 1_500, 500


@pytest.mark.slow
def test_srgans_adversarial_term_sharpens_what_the_mse_alone_blurs(mnist):
    """The paper's finding at small scale: both networks upscale better than bicubic
    (PSNR), the MSE-only one blurs (its blur length well above the originals'), the
    adversarial term brings the blur to the originals' at some cost in PSNR. Measured
    when written (width 8, 1 block, adv_weight 1e-2, 1,500 iterations, 1,000 test
    digits): blur 1.25 vs 1.72 (originals 1.20), PSNR 15.4 vs 16.8 (bicubic 14.5)."""
    from gan_tf.evaluation import super_resolution as sr
    from gan_tf.evaluation.classifier import load_classifier
    from gan_tf.training.build import build_trainer
    measured = {}
    for adv in (1e-2, 0.0):
        cfg = sr_config(adv_weight=adv, pretrain_iters=SR_PRETRAIN)
        trainer = build_trainer(cfg, mnist.train_images)
        trainer.chunk(SR_ITERS)
        measured[adv] = sr.measure(trainer.G, mnist.test_images[:1000],
                                   mnist.test_labels[:1000], load_classifier())
    gan, mse = measured[1e-2], measured[0.0]
    hr_blur = gan["hr"]["blur_length"]
    for r in (gan, mse):
        assert r["generator"]["psnr"] > r["bicubic"]["psnr"] + 0.5, r
    assert mse["generator"]["blur_length"] > hr_blur + 0.25, mse
    assert abs(gan["generator"]["blur_length"] - hr_blur) < 0.15, gan
    assert mse["generator"]["psnr"] > gan["generator"]["psnr"], (mse, gan)


CYCLE_ITERS = 500


@pytest.mark.slow
def test_the_cycle_loss_makes_the_round_trip_keep_the_digit_and_nothing_else_does(mnist):
    """With the cycle term F(G(a)) is the digit a was (the classifier reads it so) and
    close to a; without it G and F each draw their domain's digits, and the round
    trip has lost which. Measured when written (width 8, 1 block, 500 iterations, 500
    test digits): round-trip accuracy 0.86 vs 0.10, cycle error 0.062 vs 0.179."""
    from gan_tf.evaluation import translation
    from gan_tf.evaluation.classifier import load_classifier
    from gan_tf.training.build import build_trainer
    for weight, keeps in ((10.0, True), (0.0, False)):
        cfg = override(load_experiment("mnist-cyclegan"),
                       {"width": 8, "blocks": 1, "d_width": 8, "cycle_weight": weight,
                        # the paper's objective, as calibrated: no identity term (it
                        # scales with the cycle's weight), pool or decay
                        "identity_weight": 0.0, "pool_size": 0, "decay_iters": 0})
        trainer = build_trainer(cfg, mnist.train_images)
        trainer.chunk(CYCLE_ITERS)
        r = translation.measure(trainer.G, trainer.F, mnist.test_images[:500],
                                mnist.test_labels[:500], load_classifier())["generators"]
        for d in ("a_to_b", "b_to_a"):
            assert (r[d]["cycle_accuracy"] > 0.6) == keeps, (weight, r)
            assert (r[d]["cycle_accuracy"] < 0.3) == (not keeps), (weight, r)
            assert (r[d]["cycle_error"] < 0.1) == keeps, (weight, r)


# --- CycleGAN's additions in the authors' code: the history pool, identity, decay

def _reference_pool(size, images_per_query, draws):
    """The authors' ImagePool.query, as util/image_pool.py writes it, with the random
    numbers given: a list of stored images and the images each query returns."""
    stored, shown = [], []
    for images, (u, slots) in zip(images_per_query, draws):
        out = []
        for x, ui, slot in zip(images, u, slots):
            if len(stored) < size:
                stored.append(x)
                out.append(x)
            elif ui > 0.5:
                out.append(stored[slot])
                stored[slot] = x
            else:
                out.append(x)
        shown.append(np.stack(out))
    return np.stack(stored), shown


def test_the_history_pool_is_the_authors_image_pool():
    """pool_query against the authors' ImagePool.query on the same random numbers:
    5 queries of 4 images into a pool of 6 (full in the middle of the second), with
    repeated slots in one query (the later image returns the earlier one's)."""
    from gan_tf.models.cycle import pool_query
    rng = np.random.default_rng(0)
    size, n = 6, 4
    queries = [rng.normal(size=(n, 3)).astype(np.float32) for _ in range(5)]
    draws = [(rng.uniform(size=n).astype(np.float32), rng.integers(0, size, n))
             for _ in range(5)]
    draws[3] = (np.array([0.9, 0.9, 0.1, 0.7], np.float32), np.array([2, 2, 2, 2]))
    want_pool, want_shown = _reference_pool(size, queries, draws)
    pool, filled = tf.zeros([size, 3]), tf.constant(0, tf.int32)
    for images, (u, slots), want in zip(queries, draws, want_shown):
        pool, filled, shown = pool_query(pool, filled, tf.constant(images), tf.constant(u),
                                         tf.constant(slots, tf.int32))
        np.testing.assert_array_equal(shown.numpy(), want)
    np.testing.assert_array_equal(pool.numpy(), want_pool)
    assert int(filled) == size
    # the repeated slot: the second image got the first's, the last the second's
    np.testing.assert_array_equal(want_shown[3][1], queries[3][0])
    np.testing.assert_array_equal(want_shown[3][3], queries[3][1])


def test_the_learning_rate_falls_as_the_authors_linear_policy():
    """lr_l = 1 - max(0, epoch + 1 - n_epochs) / (n_epochs_decay + 1), iterations for
    epochs: n 2 + 3 -> 1, 1, 3/4, 2/4, 1/4."""
    from gan_tf.models.cycle import decayed_lr
    got = [float(decayed_lr(2.0, t, 2, 3)) for t in range(5)]
    np.testing.assert_allclose(got, [2.0, 2.0, 1.5, 1.0, 0.5])
    assert float(decayed_lr(2.0, 7, 2, 0)) == 2.0


def test_cyclegans_step_adds_the_identity_term_and_shows_d_the_pool(mnist):
    """One step of tiny networks: the reported identity term is |G(b) - b|_1 +
    |F(a) - a|_1 before the update, g_loss = adversarial + 10 cycle + 5 identity, the
    learning rate is the decayed one, and the pool holds the first batch's fakes."""
    from gan_tf.models import cycle
    from gan_tf.training.build import build_trainer
    cfg = override(load_experiment("mnist-cyclegan"),
                   {"width": 2, "blocks": 1, "d_width": 2, "iters": 4, "decay_start": 0,
                    "decay_iters": 4, "pool_size": 20})
    trainer = build_trainer(cfg, mnist.train_images)
    a, _ = trainer.batch(tf.constant(0, tf.int64))
    b = trainer.batch_b(tf.constant(0, tf.int64))
    want_identity = float(cycle.cycle_loss(b, trainer.G(b, training=True))
                          + cycle.cycle_loss(a, trainer.F(a, training=True)))
    fake_b = trainer.G(a, training=True).numpy()
    out = trainer.step(tf.constant(0, tf.int64))
    assert float(out["identity"]) == pytest.approx(want_identity, rel=1e-5)
    assert float(out["g_loss"]) == pytest.approx(
        float(out["g_adversarial"]) + 10.0 * float(out["cycle"]) + 5.0 * want_identity,
        rel=1e-5)
    assert float(out["lr"]) == pytest.approx(2e-4 * 4 / 5)
    pool, filled = trainer.pools["b"]
    assert int(filled.numpy()) == 16
    np.testing.assert_allclose(pool.numpy()[:16], fake_b, atol=1e-6)


def test_a_cyclegan_config_saved_before_the_pool_loads_as_it_trained():
    """mnist-cyclegan's config.json as commit 7fe9a6b saved it (no identity_weight,
    pool_size, decay_*) loads without them, whatever today's defaults are."""
    saved = (Path(__file__).parent / "saved_configs" / "cyclegan-7fe9a6b.json").read_text()
    cfg = Config.from_json(saved)
    p = cfg.params
    assert (p.identity_weight, p.pool_size, p.decay_iters) == (0.0, 0, 0)
    assert p.domain_map == "rotate_invert"
    assert (p.width, p.blocks, p.cycle_weight, cfg.iters) == (16, 2, 10.0, 3_000)
    assert load_experiment("mnist-cyclegan").params.pool_size == 50


def test_cyclegan_refuses_a_decay_that_ends_before_the_run():
    # --iters also on --resume, the decay's flags in a new run (issue 50 item 4; run by
    # test_each_fix_the_decay_refusal_suggests_on_resume_is_accepted)
    with pytest.raises(UserError, match=r"decayed to lr/1501 at iteration 3,000 .*"
                                        r"\(--iters 3000\), or start a new run .*"
                                        r"--decay-start 6000 --decay-iters 6000"):
        override(load_experiment("mnist-cyclegan"), {"iters": 12_000})
    with pytest.raises(UserError, match=r"its own way \(decay_start, decay_iters\): drop "
                                        r"lr_decay=1\.5"):
        override(load_experiment("mnist-cyclegan"), {"lr_decay": 1.5})
    for key, bad in (("pool_size", -1), ("identity_weight", float("nan")),
                     ("decay_iters", 1.5)):
        with pytest.raises(UserError, match=key):
            override(load_experiment("mnist-cyclegan"), {key: bad})


@pytest.mark.slow   # three tiny CycleGAN runs, about a minute
def test_each_fix_the_decay_refusal_suggests_on_resume_is_accepted(mnist_dir, tmp_path,
                                                                   capsys):
    """Issue 50 item 4: extending a CycleGAN run whose decay has ended is refused with
    fixes that each work: --iters within the decay on --resume, the decay's flags in a
    new run (--resume refuses them)."""
    import re

    from conftest import one_line_error
    from gan_tf.train import main
    tiny = ["--experiment", "mnist-cyclegan", "--width", "2", "--blocks", "1",
            "--d-width", "2", "--snapshot-every", "2", "--log-every", "2",
            "--no-tensorboard", "--data-dir", str(mnist_dir)]
    run = tmp_path / "run"
    assert main([*tiny, "--iters", "4", "--decay-start", "2", "--decay-iters", "2",
                 "--run-dir", str(run)]) == 0
    capsys.readouterr()
    assert main(["--resume", "--iters", "8", "--run-dir", str(run)]) == 2
    line = one_line_error(capsys, "decayed", "new run")
    iters = re.search(r"--iters (\d+)\b", line)
    moved = re.search(r"--decay-start (\d+) --decay-iters (\d+)", line)
    assert iters and moved and "--decay-iters 0" in line, line
    assert main(["--resume", "--iters", iters[1], "--run-dir", str(run)]) == 0
    for i, flags in enumerate((moved[0].split(), ["--decay-iters", "0"])):
        assert main([*tiny, "--iters", "8", *flags, "--run-dir", str(tmp_path / str(i))]) == 0


@pytest.mark.slow
@pytest.mark.parametrize("experiment, task, where, key", [
    ("mnist-srresnet", "super_resolution", ("generator",), "psnr"),
    ("mnist-cyclegan", "translation", ("generators", "a_to_b"), "error")])
def test_evaluate_measures_a_sweep_of_image_to_image_runs(experiment, task, where, key,
                                                          mnist_dir, tmp_path, capsys):
    """`make evaluate RUN=<sweep>` of SR or translation runs (2 seeds of tiny networks,
    2 iterations): each seed's metrics.json and picture, then the seeds' mean ± std
    under the task's table (a KeyError once: such a sweep has no real-data reference
    to carry from seed to seed)."""
    import json

    from gan_tf.evaluation.evaluate import evaluate_folder
    from gan_tf.train import main
    tiny = ["--width", "2", "--blocks", "1", "--d-width", "2"]
    path = tmp_path / "sweep"
    assert main(["--experiment", experiment, "--iters", "2", "--snapshot-every", "2", "--log-every", "1",
                 "--seeds", "2", *tiny, "--data-dir", str(mnist_dir),
                 "--run-dir", str(path)]) == 0
    capsys.readouterr()
    results = evaluate_folder(path, data_dir=mnist_dir)
    out = capsys.readouterr().out
    values = []
    for s, r in enumerate(results):
        saved = json.loads((path / f"seed-{s}" / "metrics.json").read_text())
        measured = saved[task]
        for k in where:
            measured = measured[k]
        values.append(measured[key])
        assert (path / f"seed-{s}" / ("upscaled.png" if task == "super_resolution"
                                      else "translated.png")).is_file()
        if task == "translation":   # G and F saved with the map they translate by
            for name in ("generator.json", "generator-inverse.json"):
                info = json.loads((path / f"seed-{s}" / name).read_text())
                assert info["domain_map"] == "rotate_invert", info
    assert len(values) == 2 and values[0] != values[1]   # two seeds, two networks
    assert "mean ± std over 2 seeds" in out
    fmt = "{:.2f}" if key == "psnr" else "{:.4f}"
    assert (f"{fmt.format(np.mean(values))} ± {fmt.format(np.std(values, ddof=1))}"
            in out), out
