"""Stacked MNIST (studies/stacked_mnist.py) and its table: the measures on hand-made
triples, the classifier's per-channel reading of real stacked digits, the data's
stacking and packing, per-slot batch norm in G, one iteration against explicit Adam
steps, and the study's keep/refuse/lock rules."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.evaluation.modes import triple_modes
from gan_tf.core.errors import UserError
from gan_tf.studies.replications.pacgan import stacked_dcgan as sm
from gan_tf.studies.replications.pacgan import stacked_mnist as smt
from gan_tf.studies.replications.pacgan.protocol import adam_update


@pytest.fixture(scope="module")
def classifier():
    from gan_tf.evaluation.classifier import load_classifier
    return load_classifier()


def _small(mnist, pack=1, seed=0, **kw):
    return sm.StackedGAN(mnist.test_images[:500], pack=pack, seed=seed,
                         num_training=640, **kw)


# --- the measures -------------------------------------------------------------------

def test_every_triple_once_is_1000_modes_at_kl_zero_and_one_triple_is_log_1000():
    every = np.array([[a, b, c] for a in range(10) for b in range(10) for c in range(10)])
    m = triple_modes(np.repeat(every, 3, 0))
    assert m["modes"] == 1000 and abs(m["kl"]) < 1e-12
    one = triple_modes(np.tile([[7, 0, 3]], (500, 1)))
    assert one["modes"] == 1 and one["kl"] == pytest.approx(math.log(1000))
    # By hand: 3 of (1,2,3), 1 of (3,2,1) -> p = (3/4, 1/4); the triple's order counts.
    m = triple_modes([[1, 2, 3]] * 3 + [[3, 2, 1]])
    assert m["modes"] == 2
    assert m["kl"] == pytest.approx(0.75 * math.log(750) + 0.25 * math.log(250))


def test_the_classifier_reads_each_channel_of_real_stacked_digits(mnist, classifier):
    rng = np.random.default_rng(0)
    ids = rng.integers(0, 10_000, size=(2000, 3))
    x = np.transpose(mnist.test_images[ids].reshape(-1, 3, 28, 28), (0, 2, 3, 1)) / 255.0
    read = sm.read_triples(classifier, x.astype(np.float32))
    truth = mnist.test_labels[ids]
    assert (read == truth).all(1).mean() > 0.96        # ~99% a digit, cubed
    # A channel-order mistake would read (b, c, a): check the columns one by one.
    assert all((read[:, k] == truth[:, k]).mean() > 0.98 for k in range(3))
    r = smt.real_reading(mnist.test_images, mnist.test_labels, classifier, n=2000)
    assert r["true"]["modes"] > 850 and r["modes"] >= r["true"]["modes"] - 20
    assert r["triples_read_right"] > 0.96 and r["n"] == 2000


# --- the data -----------------------------------------------------------------------

def test_each_packed_slot_redraws_whole_stacked_images():
    rng = np.random.default_rng(3)
    ids = sm.stacked_indices(rng, 70_000, n=5000, pack=2)
    assert ids.shape == (5000, 2, 3)
    rng = np.random.default_rng(3)
    triples = rng.integers(0, 70_000, size=(5000, 3))
    rows = {tuple(t) for t in triples}
    assert all(tuple(ids[i, j]) in rows for i in range(5000) for j in range(2))
    # The two slots are independent re-draws, not the same image twice.
    assert (ids[:, 0] != ids[:, 1]).any(1).mean() > 0.99


def test_a_real_batch_puts_slot_j_digit_k_in_channel_3j_plus_k(mnist):
    model = _small(mnist, pack=2)
    x = model.real_batch(tf.constant(3)).numpy()
    ids = model.ids.numpy()[3 * sm.BATCH:4 * sm.BATCH]
    assert x.shape == (sm.BATCH, 28, 28, 6)
    for b in (0, 17, 63):
        for j in range(2):
            for k in range(3):
                want = mnist.test_images[:500][ids[b, j, k]].reshape(28, 28) / 255.0
                np.testing.assert_allclose(x[b, :, :, 3 * j + k], want, atol=1e-6)


# --- the networks -------------------------------------------------------------------

def test_g_normalises_each_slot_by_its_own_batch(mnist):
    model = _small(mnist, pack=2)
    z = tf.random.stateless_uniform([2, 16, sm.Z_DIM], [1, 2], -1, 1)
    both, stats = model.generate(model.G, z)
    for s in range(2):
        alone, alone_stats = model.generate(model.G, z[s:s + 1])
        np.testing.assert_allclose(both[s].numpy(), alone[0].numpy(), atol=1e-5)
        for (m2, v2), (m1, v1) in zip(stats, alone_stats):
            np.testing.assert_allclose(m2[s].numpy(), m1[0].numpy(), atol=1e-5)
            np.testing.assert_allclose(v2[s].numpy(), v1[0].numpy(), atol=1e-5)
    # One batch of both slots together would differ: the slots' statistics differ.
    joint = model.generate(model.G, tf.reshape(z, [1, 32, sm.Z_DIM]))[0]
    assert np.abs(joint.numpy().reshape(2, 16, 28, 28, 3) - both.numpy()).max() > 1e-3
    assert both.shape == (2, 16, 28, 28, 3)
    assert model.discriminate(model.D, model.packed(both)).shape == (16,)


def test_the_moving_statistics_move_10_percent_toward_each_slot_in_turn(mnist):
    model = _small(mnist, pack=2)
    before = [v.numpy() for v in model.g_moving]
    z = tf.random.stateless_uniform([2, 16, sm.Z_DIM], [4, 5], -1, 1)
    _, stats = model.generate(model.G, z)
    model._move_bn(stats)
    for i, (mean, var) in enumerate(stats):
        m, v = before[i], before[4 + i]
        for s in range(2):
            m = 0.9 * m + 0.1 * mean[s].numpy()
            v = 0.9 * v + 0.1 * var[s].numpy()
        np.testing.assert_allclose(model.g_moving[i].numpy(), m, rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(model.g_moving[4 + i].numpy(), v, rtol=1e-5, atol=1e-6)


def test_one_iteration_is_a_d_step_then_two_g_steps_on_the_same_z(mnist):
    model = _small(mnist, pack=2)
    real = model.real_batch(tf.constant(0))
    z = tf.random.stateless_uniform([2, sm.BATCH, sm.Z_DIM], [7, 8], -1, 1)
    G = [tf.convert_to_tensor(p) for p in model.G]
    D = [tf.convert_to_tensor(p) for p in model.D]
    zeros = lambda ps: [tf.zeros_like(p) for p in ps]   # noqa: E731

    def adam(params, loss_fn, m, v, t):
        with tf.GradientTape() as tape:
            tape.watch(params)
            loss = loss_fn(params)
        return adam_update(params, tape.gradient(loss, params), m, v, tf.constant(t),
                           lr=sm.LR, beta1=sm.BETA1, eps=sm.ADAM_EPS)

    def d_loss(Dp):
        fake = model.packed(model.generate(G, z)[0])
        return model.d_loss(model.discriminate(Dp, real), model.discriminate(Dp, fake))

    D1, _, _ = adam(D, d_loss, zeros(D), zeros(D), 1.0)
    g_loss = lambda Gp: model.g_loss(model.discriminate(   # noqa: E731
        D1, model.packed(model.generate(Gp, z)[0])))
    G1, m, v = adam(G, g_loss, zeros(G), zeros(G), 1.0)
    G2, _, _ = adam(G1, g_loss, m, v, 2.0)
    model.train_step(real, z)
    for got, want in zip(model.D, D1):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    for got, want in zip(model.G, G2):
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-4, atol=1e-6)
    assert model.adam["D"][2].numpy() == 1 and model.adam["G"][2].numpy() == 2


def test_bfloat16_computes_the_same_losses_to_its_precision(mnist):
    f32, bf16 = _small(mnist, seed=2), _small(mnist, seed=2, precision="mixed_bfloat16")
    real = f32.real_batch(tf.constant(1))
    z = tf.random.stateless_uniform([1, sm.BATCH, sm.Z_DIM], [1, 1], -1, 1)
    losses = []
    for m in (f32, bf16):
        fake = m.packed(m.generate(m.G, z)[0])
        losses.append(m.d_loss(m.discriminate(m.D, real), m.discriminate(m.D, fake)).numpy())
    assert losses[0] == pytest.approx(losses[1], rel=0.02)
    with pytest.raises(ValueError, match="float32, mixed_bfloat16"):
        _small(mnist, precision="float16")


# --- the study ----------------------------------------------------------------------

def test_the_study_keeps_finished_trials_and_refuses_other_settings(mnist, classifier,
                                                                    tmp_path):
    kw = dict(trials=1, iters=2, eval_every=1, data=mnist, classifier=classifier,
              num_training=640, num_test=300, log=lambda *_: None)
    out = smt.run(tmp_path, ("dcgan",), **kw)
    r = out["runs"]["dcgan"]
    assert [e["iteration"] for e in r["trials"][0]["curve"]] == [1, 2]
    assert 1 <= r["trials"][0]["final"]["modes"] <= 300
    assert out["real"]["n"] == 300 and (tmp_path / "samples-dcgan.npy").exists()
    saved = (tmp_path / "results.json").read_text()
    smt.run(tmp_path, ("dcgan",), **kw)                           # kept, not retrained
    assert (tmp_path / "results.json").read_text() == saved
    with pytest.raises(UserError, match="trained with"):
        smt.run(tmp_path, ("dcgan",), **{**kw, "iters": 3})
    text = smt.table(json.loads(saved))
    assert "| dcgan | 2 of 100,000 iterations, 1 trial, float32" in text
    assert "78.9 ± 6.46" in text and "300 images" in text
    smt.pictures(tmp_path, json.loads(saved), mnist.test_images)
    assert (tmp_path / "samples.png").exists() and (tmp_path / "curves.png").exists()
    (tmp_path / "results.json").write_text('{"runs": {"dcgan": {"trials": 3}}}')
    with pytest.raises(UserError, match="damaged"):
        smt.run(tmp_path, ("dcgan",), **kw)


def test_a_second_process_and_bad_flags_are_refused(tmp_path, mnist):
    from gan_tf.runs.files import FolderLock
    lock = FolderLock(tmp_path)
    lock.acquire()
    try:
        with pytest.raises(UserError, match="in use"):
            smt.run(tmp_path, ("dcgan",), trials=1, iters=2, eval_every=1, data=mnist,
                    classifier=object(), log=lambda *_: None)
    finally:
        lock.release()
    for bad in (dict(iters=0, eval_every=1, trials=1), dict(iters=5, eval_every=6, trials=1),
                dict(iters=5, eval_every=1, trials=0)):
        with pytest.raises(UserError, match="eval-every"):
            smt.check_settings(precision="float32", **bad)
    with pytest.raises(UserError, match="unknown pacdcgan9"):
        smt.parse_runs("dcgan,pacdcgan9")


def test_flops_are_counted_from_the_layer_shapes():
    # D's four convolutions at pack 1: 14^2*25*3*64 + 7^2*25*64*128 + 4^2*25*128*256
    # + 2^2*25*256*512, plus the 2048 -> 1 linear.
    d = 14 * 14 * 25 * 3 * 64 + 7 * 7 * 25 * 64 * 128 + 16 * 25 * 128 * 256 \
        + 4 * 25 * 256 * 512 + 2048
    g = 100 * 2048 + 4 * 25 * 512 * 256 + 16 * 25 * 256 * 128 + 49 * 25 * 128 * 64 \
        + 196 * 25 * 64 * 3
    assert sm.flops_per_iteration(1) == 2.0 * 64 * ((g + 6 * d) + 2 * (3 * g + 3 * d))
    assert sm.flops_per_iteration(2) > sm.flops_per_iteration(1)
