"""Salimans et al. 2016's techniques as options of the shared adversarial step
(models/improved.py, families/adversarial.py): each against values computed by hand,
their state through a stop and resume, the defaults leaving a run as it was, and
their refusals."""

import dataclasses
import json
import math
import subprocess
import sys

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import ENV, QUIET, REPO, cli, one_line_error
from gan_tf.core.config import Config, override
from gan_tf.core.errors import UserError
from gan_tf.core.experiments import load_experiment
from gan_tf.families.mlp import is_tutorial_step
from gan_tf.models import improved
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib
from gan_tf.training.build import build_trainer


def small(name="mnist-basic", **changes):
    base = {"iters": 4, "snapshot_every": 2, "log_every": 2, "tensorboard": False}
    if "dcgan" in name:
        base["conv_width"] = 8
    return override(load_experiment(name), {**base, **changes})


# --- feature matching

def test_feature_matching_is_the_mean_square_of_the_batch_means_difference():
    real = np.array([[1.0, 2.0, 0.0], [3.0, 0.0, 0.0]], np.float32)    # means 2, 1, 0
    fake = np.array([[0.0, 1.0, 1.0], [0.0, 1.0, 3.0]], np.float32)    # means 0, 1, 2
    # ((0 - 2)^2 + (1 - 1)^2 + (2 - 0)^2) / 3 = 8 / 3
    assert float(improved.feature_matching_loss(real, fake)) == pytest.approx(8 / 3)


def test_feature_matching_reads_d_last_hidden_layer_in_the_step(mnist):
    trainer = build_trainer(small(g_loss="feature_matching", xla=False),
                            mnist.train_images[:1000])
    hidden = trainer.D.get_layer("hidden")
    assert trainer.D_features.output is hidden.output       # D's own layer, shared
    # G's loss at iteration 0 by hand: the features of batch 0 and of G(z_G(0)),
    # through the D that the iteration's D step leaves.
    x, _ = trainer.batch(0)
    z = trainer.z_batch(2, 0)      # STREAM_Z_G
    d0 = [w.copy() for w in trainer.D.get_weights()]
    g0 = [w.copy() for w in trainer.G.get_weights()]
    values = trainer.chunk(1)["first"]
    d1 = trainer.D.get_weights()
    trainer.G.set_weights(g0)
    relu = lambda v: np.maximum(v, 0)  # noqa: E731
    real = relu(x.numpy() @ d1[0] + d1[1])
    fake = relu(trainer.G(z).numpy() @ d1[0] + d1[1])
    want = np.mean((fake.mean(0) - real.mean(0)) ** 2)
    assert values["g_loss"] == pytest.approx(want, rel=1e-4)
    assert not np.array_equal(d0[0], d1[0])


# --- minibatch discrimination

def test_minibatch_features_against_a_case_by_hand():
    # Three rows, one kernel of 2 dims (W the identity): L1 distances 0-1: 1, 0-2: 2,
    # 1-2: 3; a row is never its own neighbour.
    h = tf.constant([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    e = math.exp
    got = improved.minibatch_features(h, tf.eye(2), tf.constant([0.5]), 2).numpy()
    np.testing.assert_allclose(got[:, 0], [e(-1) + e(-2) + 0.5, e(-1) + e(-3) + 0.5,
                                           e(-2) + e(-3) + 0.5], rtol=1e-6)
    # Two kernels of 1 dim: the first reads x (0, 1, 0), the second y (0, 0, 2).
    got = improved.minibatch_features(h, tf.eye(2), tf.zeros(2), 1).numpy()
    np.testing.assert_allclose(got, [[e(-1) + 1, 1 + e(-2)], [e(-1) + e(-1), 1 + e(-2)],
                                     [1 + e(-1), e(-2) + e(-2)]], rtol=1e-6)


def test_minibatch_features_pass_their_gradient_to_every_row_of_the_batch():
    # G is trained through these features (docs/gan-family.md: why minibatch
    # discrimination fails on the tutorial's GAN), so their gradient with respect to
    # every row, its own and the other rows' (o(x_j) depends on x_i), and to the kernel
    # must be the true one: analytic against central differences, in float64.
    rng = np.random.default_rng(3)
    h = tf.constant(rng.normal(size=(5, 4)), tf.float64)
    w = tf.constant(rng.normal(size=(4, 6)), tf.float64)
    b = tf.constant(rng.normal(size=(3,)), tf.float64)
    for args, f in (([h], lambda v: improved.minibatch_features(v, w, b, 2)),
                    ([w], lambda v: improved.minibatch_features(h, v, b, 2))):
        analytic, numeric = tf.test.compute_gradient(f, args, delta=1e-6)
        assert np.abs(analytic[0]).max() > 0.1
        np.testing.assert_allclose(analytic[0], numeric[0], atol=1e-6)


def test_the_minibatch_layer_normalises_its_kernel_and_keeps_its_input():
    layer = improved.MinibatchDiscrimination(kernels=2, dims=1, seed=0)
    layer.build((None, 2))
    layer.theta.assign([[3.0, 0.0], [4.0, -2.0]])    # columns of norm 5 and 2
    layer.log_scale.assign([0.0, math.log(2.0)])
    np.testing.assert_allclose(layer.kernel().numpy(), [[0.6, 0.0], [0.8, -2.0]], rtol=1e-6)
    np.testing.assert_allclose(layer.b.numpy(), [-1.0, -1.0])    # nn.py's b init
    h = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]], np.float32)
    out = layer(h).numpy()
    np.testing.assert_array_equal(out[:, :2], h)
    w = layer.kernel().numpy()
    M = h @ w
    want = [[sum(math.exp(-abs(M[i, k] - M[j, k])) for j in range(3) if j != i) - 1.0
             for k in range(2)] for i in range(3)]
    np.testing.assert_allclose(out[:, 2:], want, rtol=1e-5)
    # serializable under the package name, and the same layer again
    again = keras.layers.deserialize(keras.layers.serialize(layer))
    assert isinstance(again, improved.MinibatchDiscrimination) and again.kernels == 2


def test_the_minibatch_init_spreads_the_kernels_and_centres_the_features():
    layer = improved.MinibatchDiscrimination(kernels=4, dims=3, seed=1)
    h = tf.constant(np.random.default_rng(0).normal(size=(16, 6)), tf.float32)
    layer(h)
    layer.initialise(h)
    f = layer(h).numpy()[:, 6:]
    np.testing.assert_allclose(f.mean(0), 0, atol=1e-5)
    l1 = improved.minibatch_distances(h, layer.kernel(), 3).numpy()
    np.testing.assert_allclose(0.5 * l1.min(1).mean(0), 1.0, rtol=1e-4)


def test_the_minibatch_layer_sits_between_d_last_hidden_layer_and_its_output(mnist):
    for name in ("mnist-basic", "mnist-dcgan-10-epochs"):
        trainer = build_trainer(small(name, minibatch_kernels=6, minibatch_dims=3),
                                mnist.train_images[:1000])
        layer = trainer.D.get_layer("minibatch")
        width = layer.input.shape[-1]
        assert trainer.D.get_layer("out").kernel.shape == (width + 6, 1)
        assert trainer.D.get_layer("minibatch").kernel().shape == (width, 18)


# --- historical averaging

def test_historical_penalty_by_hand():
    v = [tf.constant([1.0, 2.0]), tf.constant([[3.0]])]
    m = [tf.constant([0.0, 1.0]), tf.constant([[1.0]])]
    # 0.5 ((1 - 0)^2 + (2 - 1)^2 + (3 - 1)^2) = 3
    assert float(improved.historical_penalty(0.5, v, m)) == pytest.approx(3.0)


def test_historical_averaging_keeps_the_running_mean_and_adds_its_penalty(mnist):
    w = 0.5
    cfg = small(historical_averaging=w, xla=False)
    trainer = build_trainer(cfg, mnist.train_images[:1000])
    plain = build_trainer(small(xla=False), mnist.train_images[:1000])
    seen = {"G": [trainer.G.get_weights()], "D": [trainer.D.get_weights()]}
    losses = []
    for _ in range(3):
        losses.append(trainer.chunk(1)["first"])
        seen["G"].append(trainer.G.get_weights())
        seen["D"].append(trainer.D.get_weights())
    for key, means, count in (("G", trainer.g_history, trainer.g_count),
                              ("D", trainer.d_history, trainer.d_count)):
        assert float(count.numpy()) == 4.0
        for i, m in enumerate(means):
            want = np.mean([weights[i] for weights in seen[key]], axis=0)
            np.testing.assert_allclose(m.numpy(), want, rtol=1e-5, atol=1e-7)
    # Iteration 0 has no penalty (the mean is theta itself): it equals the plain run.
    first = plain.chunk(1)["first"]
    assert losses[0]["d_loss"] == first["d_loss"] and losses[0]["g_loss"] == first["g_loss"]
    # Iteration 1's D loss: the plain loss of the same nets plus w ||theta_1 - mean||^2,
    # the mean of theta_0 and theta_1.
    plain.G.set_weights(seen["G"][1])
    plain.D.set_weights(seen["D"][1])
    x, _ = plain.batch(1)
    fake = plain.G(plain.z_batch(1, 1), training=True)      # STREAM_Z_D, minibatch 1
    d_plain = float(plain.d_loss_fn(plain.D(x, training=True), plain.D(fake, training=True)))
    penalty = w * sum(np.sum((b - (a + b) / 2) ** 2)
                      for a, b in zip(seen["D"][0], seen["D"][1]))
    assert losses[1]["d_loss"] == pytest.approx(d_plain + penalty, rel=1e-5)
    assert penalty > 1e-3


# --- virtual batch norm

def vbn_numpy(x, reference, gamma, beta, eps=1e-5):
    """Each row of x against the reference rows (imagenet/model.py's VBN), channels last;
    a row's own mean is over its positions."""
    n = len(reference)
    axes = tuple(range(reference.ndim - 1))
    own = tuple(range(1, x.ndim - 1))
    mean_r, sq_r = reference.mean(axes), np.square(reference).mean(axes)
    mine = x.mean(own, keepdims=True) if own else x
    mine_sq = np.square(x).mean(own, keepdims=True) if own else np.square(x)
    mean = mine / (n + 1) + mean_r * n / (n + 1)
    sq = mine_sq / (n + 1) + sq_r * n / (n + 1)
    return (x - mean) / np.sqrt(eps + sq - mean ** 2) * gamma + beta


@pytest.mark.parametrize("shape", [(3,), (2, 2, 3)])
def test_virtual_batch_norm_against_numpy(shape):
    rng = np.random.default_rng(4)
    ref, live = rng.normal(size=(4,) + shape), rng.normal(size=(2,) + shape) * 3 + 1
    layer = improved.VirtualBatchNorm(reference=4, seed=0)
    out = layer(tf.constant(np.concatenate([ref, live]), tf.float32), training=True).numpy()
    gamma, beta = layer.gamma.numpy(), layer.beta.numpy()
    assert np.abs(gamma - 1).max() < 0.1 and not np.all(gamma == 1)   # N(1, 0.02)
    np.testing.assert_allclose(out[4:], vbn_numpy(live, ref, gamma, beta), rtol=1e-4,
                               atol=1e-5)
    # the reference rows by their own statistics
    axes = tuple(range(ref.ndim - 1))
    want_ref = (ref - ref.mean(axes)) / np.sqrt(1e-5 + ref.var(axes)) * gamma + beta
    np.testing.assert_allclose(out[:4], want_ref, rtol=1e-4, atol=1e-5)
    # inference: the reference statistics kept, each example with them
    np.testing.assert_allclose(layer(tf.constant(live, tf.float32)).numpy(),
                               out[4:], rtol=1e-5, atol=1e-6)


def test_g_vbn_replaces_the_dcgan_g_batch_norms(mnist):
    trainer = build_trainer(small("mnist-dcgan-10-epochs", g_vbn=True),
                            mnist.train_images[:1000])
    kinds = [type(layer).__name__ for layer in trainer.G.layers]
    assert kinds.count("VirtualBatchNorm") == 2 and "FusedBatchNormalization" not in kinds
    assert trainer.vbn_z.shape == (trainer.cfg.batch_size, trainer.cfg.z_dim)


# --- resume, defaults, refusals

def test_a_run_with_them_resumes_bit_identically(mnist, tmp_path):
    cfg = small(g_loss="feature_matching", minibatch_kernels=8, historical_averaging=0.01)
    train_lib.train(cfg, tmp_path / "a", data=mnist, **QUIET)
    train_lib.train(dataclasses.replace(cfg, iters=2), tmp_path / "b", data=mnist, **QUIET)
    train_lib.train(train_lib.resume_config(tmp_path / "b", {"iters": 4}), tmp_path / "b",
                    data=mnist, resume=True, **QUIET)
    a, b = RunFolder(tmp_path / "a"), RunFolder(tmp_path / "b")
    ca, cb = a.read_checkpoint(), b.read_checkpoint()
    assert sorted(ca) == sorted(cb)
    assert any(k.startswith("history/D/") for k in ca) and "history/G/count" in ca
    assert [k for k in ca if not np.array_equal(ca[k], cb[k])] == []


def test_a_dcgan_with_all_four_keeps_the_family_contract(mnist_dir, tmp_path):
    """In a fresh process (a convolutional run is bit-reproducible only there): build,
    a run, generator.keras (its virtual batch norms) loaded back, and a run stopped at
    2 and resumed to 4 bit-identical to one run of 4."""
    changes = {"g_vbn": True, "minibatch_kernels": 4, "historical_averaging": 0.01,
               "g_loss": "feature_matching"}
    out = subprocess.run([sys.executable, str(REPO / "tests" / "family_contract.py"), "dcgan",
                          str(mnist_dir), str(tmp_path), json.dumps(changes)], env=ENV,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["config_round_trip"] and r["status"] == "complete"
    assert r["resume_differs"] == [] and r["checkpoint_arrays"] > 4
    assert r["generator_shape"] == [8, 784] and r["generator_finite"] and r["d_shape"] == [8, 1]


def test_the_defaults_leave_a_saved_config_and_the_tutorial_step_as_they_were():
    p = Config().params
    assert (p.g_loss, p.minibatch_kernels, p.minibatch_dims, p.historical_averaging) == \
        ("nonsaturating", 0, 5, 0.0)
    assert is_tutorial_step(Config())
    assert not is_tutorial_step(override(Config(), {"historical_averaging": 0.1}))
    # a config saved before these parameters existed loads with them off
    saved = json.loads((REPO / "tests/saved_configs/shared-1046afc.json").read_text())
    for name in ("mnist-basic", "mnist-dcgan"):
        cfg = Config.from_dict(saved["experiments"][name])
        p = cfg.params
        assert (p.minibatch_kernels, p.minibatch_dims, p.historical_averaging) == (0, 5, 0.0)
        assert getattr(p, "g_vbn", False) is False and p.g_loss == "nonsaturating"


@pytest.mark.parametrize("changes, words", [
    ({"minibatch_kernels": -1}, "minibatch_kernels must be from 0 to 1,000 (0: none), got -1"),
    ({"minibatch_dims": 0}, "minibatch_dims must be from 1 to 100"),
    ({"historical_averaging": float("nan")}, "historical_averaging must be finite"),
    ({"historical_averaging": -0.5}, "historical_averaging must be in [0, 1000]"),
    ({"g_loss": "feature_matching", "update": "simultaneous"}, "drop update 'simultaneous'"),
    ({"arch": "maxout", "g_loss": "feature_matching"}, "does not expose: use family mlp"),
    ({"g_vbn": True}, "g_vbn is a parameter of family dcgan, not of 'mlp'"),
    ({"arch": "dcgan", "g_vbn": True, "conditional": True}, "add --no-conditional"),
    ({"minibatch_kernels": 10, "strategy": "mirrored"}, "minibatch_kernels 10 run on one"),
])
def test_bad_values_are_refused_by_name(changes, words):
    with pytest.raises(UserError) as e:
        override(Config(), changes)
    assert words in str(e.value)


def test_the_train_command_refuses_a_bad_kernel_count_in_one_line(tmp_path, mnist_dir,
                                                                    capsys):
    assert cli(tmp_path / "run", mnist_dir, "--minibatch-kernels", "-3") == 2
    one_line_error(capsys, "minibatch_kernels must be from 0 to 1,000")
    assert not (tmp_path / "run").exists()
