"""The compiled loop: data order, random streams, and XLA vs plain graph agreement."""

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.models import networks
from gan_tf.families.mlp import get_losses
from gan_tf.data import streams
from gan_tf.models.optimizers import make_optimizer
from gan_tf.training.build import build_trainer


def make_trainer(cfg, images):
    return build_trainer(cfg, images)


def reference(cfg, images):
    """Independent G, D and TF1-style steps for cfg, and host-side batches in the
    loop's epoch orders: the plain reference the compiled loop must match."""
    from gan_tf.studies.benchmarks.baselines import HostBatches, Tf1StyleSteps
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    steps = Tf1StyleSteps(G, D, make_optimizer(cfg), make_optimizer(cfg),
                          get_losses(cfg))
    batches = HostBatches(images, cfg.batch_size,
                          lambda e: streams.epoch_permutation(cfg.seed, e, len(images)).numpy())
    return G, D, steps, batches


def assert_same_weights(fast, G, D):
    for a, b in zip(fast.G.weights + fast.D.weights, G.weights + D.weights):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-3, atol=1e-5)


def test_batches_follow_tf1_next_batch_epoch_by_epoch():
    """Image i holds the value i: the batches, laid end to end, must be a sequence of
    whole permutations of the 10 images, each epoch's order different."""
    n, b = 10, 4
    images = np.repeat(np.arange(n, dtype=np.uint8)[:, None], 784, axis=1)
    trainer = make_trainer(Config.of(batch_size=b, xla=False), images)
    seen = []
    for t in range(15):  # 60 samples = 6 epochs
        x = trainer.batch(tf.constant(t, tf.int64))[0].numpy()
        seen.extend(np.rint(x[:, 0] * 255).astype(int))
    epochs = [seen[i:i + n] for i in range(0, len(seen), n)]
    assert all(sorted(e) == list(range(n)) for e in epochs)
    assert len({tuple(e) for e in epochs}) == len(epochs)
    assert epochs[0] != list(range(n))  # the first epoch is shuffled too


def test_z_is_uniform_on_minus_one_one_and_streams_differ():
    z = streams.sample_z(0, streams.STREAM_Z_D, 5, 1000, 100).numpy()
    assert z.min() >= -1 and z.max() < 1
    assert z.mean() == pytest.approx(0, abs=0.01) and z.var() == pytest.approx(1 / 3, rel=0.02)
    again = streams.sample_z(0, streams.STREAM_Z_D, 5, 1000, 100).numpy()
    other = streams.sample_z(0, streams.STREAM_Z_G, 5, 1000, 100).numpy()
    assert np.array_equal(z, again) and not np.allclose(z, other)


@pytest.mark.slow
@pytest.mark.parametrize("loss", ["log", "xent"])
def test_xla_and_plain_graph_compute_the_same_training(mnist, loss):
    images = mnist.train_images[:2000]
    results = []
    for xla in (True, False):
        trainer = make_trainer(Config.of(loss=loss, xla=xla), images)
        out = trainer.chunk(20)
        results.append((out, [w.numpy() for w in trainer.G.weights + trainer.D.weights]))
    (a, wa), (b, wb) = results
    for k in a["sums"]:
        assert a["sums"][k] == pytest.approx(b["sums"][k], rel=1e-4)
    for x, y in zip(wa, wb):
        np.testing.assert_allclose(x, y, rtol=1e-3, atol=1e-5)


@pytest.mark.slow
@pytest.mark.parametrize("xla", [True, False])
def test_one_chunk_equals_many_small_ones(mnist, xla):
    """Chunking is bookkeeping, not math: 1 x 30 iterations == 3 x 10 == 7 + 1 + 22,
    bit for bit (one program serves every chunk length; none peels an iteration),
    and so are a logging window's sums carried through its chunks (stats.jsonl's
    records: summing each chunk from zero and adding the chunks' sums differed in
    the last bits)."""
    images = mnist.train_images[:2000]
    a = make_trainer(Config.of(xla=xla), images)
    out = a.chunk(30)
    for sizes in ((10, 10, 10), (7, 1, 22)):
        b = make_trainer(Config.of(xla=xla), images)
        outs, sums = [], None
        for n in sizes:
            outs.append(b.chunk(n, sums))
            sums = outs[-1]["sums"]
        assert int(a.iteration.numpy()) == int(b.iteration.numpy()) == 30
        for x, y in zip(a.G.weights + a.D.weights, b.G.weights + b.D.weights):
            np.testing.assert_array_equal(x.numpy(), y.numpy())
        assert outs[0]["first"] == out["first"]
        for k in out["sums"]:
            assert np.array_equal(sums[k], out["sums"][k]), k
    assert len(a._chunk._list_all_concrete_functions()) == 1    # traced once


@pytest.mark.parametrize("loss", ["log", "xent"])
@pytest.mark.parametrize("xla", [True, False])
def test_fast_loop_matches_the_plain_reference_steps(mnist, loss, xla):
    """The compiled many-iteration loop against the TF1-style loop (one tf.function per
    step, NumPy batches from a host-side next_batch) fed the same random numbers:
    same losses, same weights, across three epoch boundaries of a small data set."""
    images = mnist.train_images[:1000]
    cfg = Config.of(loss=loss, xla=xla)
    fast = make_trainer(cfg, images)
    out = fast.chunk(25)
    G, D, ref, batches = reference(cfg, images)
    losses = []
    for t in range(25):
        losses.append(ref.iteration(
            batches.get(t),
            streams.sample_z(cfg.seed, streams.STREAM_Z_D, t, cfg.batch_size, cfg.z_dim),
            streams.sample_z(cfg.seed, streams.STREAM_Z_G, t, cfg.batch_size, cfg.z_dim)))
    assert out["first"]["d_loss"] == pytest.approx(losses[0][0], rel=1e-5)
    assert out["first"]["g_loss"] == pytest.approx(losses[0][1], rel=1e-5)
    assert out["sums"]["d_loss"] == pytest.approx(sum(l[0] for l in losses), rel=1e-4)
    assert out["sums"]["g_loss"] == pytest.approx(sum(l[1] for l in losses), rel=1e-4)
    assert_same_weights(fast, G, D)


def test_iteration_flop_count_by_hand():
    from gan_tf.studies.benchmarks.baselines import iteration_flops
    f = iteration_flops(Config())
    g_fwd = 2 * 128 * (100 * 128 + 128 * 784)           # 28.97 M
    d_fwd_2b = 2 * 256 * (784 * 128 + 128 * 1)          # D on real + fake
    assert f["d_step"] == g_fwd + 2 * d_fwd_2b + 2 * 256 * 128
    assert f["g_step"] == 2 * g_fwd + d_fwd_2b + 2 * 128 * 128 * 784
    assert f["iteration"] == pytest.approx(267.0e6, rel=1e-3)


@pytest.mark.slow
@pytest.mark.parametrize("changes", [{"d_steps": 2}, {"d_steps": 3}, {"g_loss": "minimax"},
                                     {"g_loss": "minimax", "loss": "xent"},
                                     {"optimizer": "sgd", "momentum": 0.9, "lr": 0.05}])
def test_algorithm_options_match_the_reference_steps(mnist, changes):
    """Algorithm 1's k D steps, the minimax G loss and SGD with momentum, in the
    compiled loop, against the TF1-style steps fed the same batches and z."""
    images = mnist.train_images[:1000]
    cfg = override(Config(), changes)
    k = cfg.params.d_steps
    fast = make_trainer(cfg, images)
    out = fast.chunk(12)
    G, D, ref, batches = reference(cfg, images)
    g_sum = 0.0
    for t in range(12):
        bs = [t * k + j for j in range(k)]
        _, g = ref.iteration_k(
            [batches.get(b) for b in bs],
            [streams.sample_z(cfg.seed, streams.STREAM_Z_D, b, cfg.batch_size, cfg.z_dim) for b in bs],
            streams.sample_z(cfg.seed, streams.STREAM_Z_G, t, cfg.batch_size, cfg.z_dim))
        g_sum += g
    assert out["sums"]["g_loss"] == pytest.approx(g_sum, rel=1e-4)
    assert_same_weights(fast, G, D)
    if cfg.params.optimizer == "sgd":
        assert type(fast.g_opt).__name__ == "SGD" and fast.g_opt.momentum == 0.9


def test_mnist_deep_shapes_ranges_and_same_z(mnist):
    """The second tutorial's GAN: its layer sizes, data and samples in [-1, 1], and
    the same z for both steps (checked against the reference steps)."""
    from gan_tf.core.experiments import load_experiment
    cfg = load_experiment("mnist-deep")
    images = mnist.train_images[:1000]
    fast = make_trainer(cfg, images)
    assert [l.units for l in fast.D.layers if l.weights] == [256, 128, 1]
    assert [l.units for l in fast.G.layers if l.weights] == [256, 512, 784]
    x = fast.batch(tf.constant(0, tf.int64))[0].numpy()
    assert x.min() == -1.0 and x.max() == 1.0
    out = fast.chunk(5)
    z = streams.sample_z(cfg.seed, streams.STREAM_Z_D, 0, 16, cfg.z_dim)
    g = fast.G(z).numpy()
    assert g.shape == (16, 784) and g.min() >= -1 and g.max() <= 1 and g.min() < 0
    G, D, ref, batches = reference(cfg, images)
    g_sum = 0.0
    for t in range(5):
        z = streams.sample_z(cfg.seed, streams.STREAM_Z_D, t, cfg.batch_size, cfg.z_dim)
        g_sum += ref.iteration(batches.get(t) * 2 - 1, z, z)[1]
    assert out["sums"]["g_loss"] == pytest.approx(g_sum, rel=1e-4)
    assert_same_weights(fast, G, D)


def test_the_fused_adam_is_tf1_s_adam_in_one_kernel_per_variable():
    """training/optimizers.FusedAdam, every Adam run's optimizer: five steps equal
    TF1's Adam written out in NumPy (float64) to float32 rounding, and each float32
    variable's update is one ResourceApplyAdam (not Keras' dozen element-wise ops)."""
    from gan_tf.models.optimizers import FusedAdam
    cfg = Config.of(lr=2e-4, beta1=0.5)
    opt = make_optimizer(cfg)
    assert isinstance(opt, FusedAdam)
    rng = np.random.default_rng(0)
    w0 = rng.normal(size=(64, 32))
    var = tf.Variable(w0.astype(np.float32))
    opt.build([var])
    w, m, v = w0.copy(), np.zeros_like(w0), np.zeros_like(w0)
    b1, b2, eps = cfg.params.beta1, cfg.params.beta2, cfg.params.adam_eps
    for t in range(1, 6):
        g = rng.normal(size=w0.shape).astype(np.float32)
        opt.apply([tf.constant(g)], [var])
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g * g
        w = w - cfg.params.lr * np.sqrt(1 - b2 ** t) / (1 - b1 ** t) * m / (np.sqrt(v) + eps)
    assert np.abs(w - w0).max() > 5e-4                    # it moved, by five steps of lr
    np.testing.assert_allclose(var.numpy(), w, rtol=0, atol=1e-6)
    grad = tf.zeros_like(var)
    ops = {op.type for op in tf.function(lambda: opt.apply([grad], [var]))
           .get_concrete_function().graph.get_operations()}
    assert "ResourceApplyAdam" in ops and "AssignSubVariableOp" not in ops, ops
