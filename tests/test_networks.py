"""Shapes, ranges and the tutorial's xavier_init statistics."""

import math

import numpy as np
import pytest

from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.models import networks


def test_shapes_and_output_ranges():
    cfg = Config()
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    z = np.random.default_rng(0).uniform(-1, 1, (16, 100)).astype(np.float32)
    x = G(z).numpy()
    assert x.shape == (16, 784) and x.min() >= 0.0 and x.max() <= 1.0
    logits = D(x).numpy()
    assert logits.shape == (16, 1)
    # D returns logits, not probabilities: an unbounded output, no sigmoid layer.
    assert D.layers[-1].activation.__name__ == "linear"
    assert networks.count_params(D) == 784 * 128 + 128 + 128 + 1
    assert networks.count_params(G) == 100 * 128 + 128 + 128 * 784 + 784


@pytest.mark.parametrize("build, fan_ins", [(families.build_discriminator, (784, 128)),
                                            (families.build_generator, (100, 128))])
def test_xavier_init_is_the_tutorials_untruncated_normal(build, fan_ins):
    model = build(Config())
    dense = [layer for layer in model.layers if layer.weights]
    assert len(dense) == len(fan_ins)
    for layer, fan_in in zip(dense, fan_ins):
        w = layer.kernel.numpy()
        want = 1 / math.sqrt(fan_in / 2)
        # The sample std of n normal draws has relative standard error ~1/sqrt(2n).
        assert w.std() == pytest.approx(want, rel=4 / math.sqrt(2 * w.size))
        assert abs(w.mean()) < 4 * want / math.sqrt(w.size)
        if w.size >= 10_000:
            # Untruncated: a truncated normal (Keras' GlorotNormal/HeNormal) never
            # exceeds 2 stddev; among 10,000+ normal draws some pass 3 stddev with
            # probability 1 - 0.9973^10000 > 1 - 1e-11.
            assert np.abs(w).max() > 3 * want
        assert not layer.bias.numpy().any()


@pytest.mark.parametrize("changes", [{}, {"d_hidden": (256, 128), "g_hidden": (256, 512)},
                                     {"conditional": True}, {"g_output": "tanh"}])
def test_the_tutorials_networks_written_out_are_the_general_mlps(changes):
    """families/mlp.dense_net, the tutorial's D and G written out, builds what
    models/networks.mlp builds for the same options: the same layers, names and
    initial weights (so a run's checkpoints are the same either way)."""
    from gan_tf.families import mlp
    cfg = override(Config(), changes)
    for net, args in (("discriminator", (networks.IMAGE_DIM, "x", cfg.params.d_hidden, 1,
                                         None)),
                      ("generator", (cfg.z_dim, "z", cfg.params.g_hidden, networks.IMAGE_DIM,
                                     cfg.g_output))):
        written = mlp.dense_net(net, cfg, *args, networks.layer_seeds(cfg, net))
        general = networks.mlp(net, cfg, *args, networks.layer_seeds(cfg, net))
        assert [layer.name for layer in written.layers] == [layer.name for layer in
                                                            general.layers]
        assert [w.path for w in written.weights] == [w.path for w in general.weights]
        for a, b in zip(written.get_weights(), general.get_weights(), strict=True):
            np.testing.assert_array_equal(a, b)
        rng = np.random.default_rng(0)
        x = [rng.uniform(-1, 1, (4, args[0])).astype(np.float32)]
        if cfg.conditional:
            x.append(np.eye(10, dtype=np.float32)[:4])
        np.testing.assert_array_equal(written(x if cfg.conditional else x[0]),
                                      general(x if cfg.conditional else x[0]))
    # and the family's networks are the written-out ones
    D = families.get(cfg).build_discriminator(cfg)
    assert D.get_layer("out").kernel_initializer.__class__ is networks.TutorialXavier


def test_glorot_option_is_different_and_seeds_are_reproducible():
    def first(cfg):
        return families.build_discriminator(cfg).get_layer("hidden").kernel.numpy()
    a, b, c = first(Config()), first(Config()), first(Config.of(seed=1))
    g = first(Config.of(init="glorot_normal"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Keras' GlorotNormal: truncated at 2 sigma, rescaled so the std is sqrt(2/(in+out)).
    assert g.std() == pytest.approx(math.sqrt(2 / (784 + 128)), rel=0.05)
    assert np.abs(g).max() <= 2 * math.sqrt(2 / (784 + 128)) / 0.87962566 + 1e-6


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_conditional_models_take_and_use_the_one_hot_label(arch):
    cfg = override(Config(), {"family": arch, "conditional": True,
                               **({"conv_width": 8} if arch == "dcgan" else {})})
    G, D = families.build_generator(cfg), families.build_discriminator(cfg)
    assert [tuple(i.shape[1:]) for i in G.inputs] == [(100,), (10,)]
    assert [tuple(i.shape[1:]) for i in D.inputs] == [(784,), (10,)]
    if arch == "mlp":   # the label is concatenated to the tutorial's input layers
        assert networks.count_params(D) == 794 * 128 + 128 + 128 + 1
        assert networks.count_params(G) == 110 * 128 + 128 + 128 * 784 + 784
    z = np.random.default_rng(0).uniform(-1, 1, (4, 100)).astype(np.float32)
    x3, x7 = networks.unit_images(G, z, [3] * 4), networks.unit_images(G, z, [7] * 4)
    assert np.abs(x3 - x7).max() > 1e-3
    d3 = D([x3, networks.one_hot([3] * 4)]).numpy()
    d7 = D([x3, networks.one_hot([7] * 4)]).numpy()
    assert np.abs(d3 - d7).max() > 1e-4
    with pytest.raises(ValueError, match="needs labels"):
        networks.unit_images(G, z)


def _fast_layer_pairs():
    import keras
    from gan_tf.models import fast_ops
    conv = dict(kernel_size=4, strides=2, padding="same")
    return {   # name: (Keras' layer, the fast one, an input shape)
        "dense": (lambda: keras.layers.Dense(64, use_bias=False, name="fc"),
                  lambda: fast_ops.WideDense(64, use_bias=False, name="fc"), [16, 392]),
        "conv": (lambda: keras.layers.Conv2D(32, use_bias=True, name="conv2", **conv),
                 lambda: fast_ops.FastConv2D(32, use_bias=True, name="conv2", **conv),
                 [8, 14, 14, 16]),
        "deconv": (lambda: keras.layers.Conv2DTranspose(16, use_bias=False, name="deconv1",
                                                        **conv),
                   lambda: fast_ops.FastConv2DTranspose(16, use_bias=False, name="deconv1",
                                                        **conv), [8, 7, 7, 32]),
    }


def _outputs_and_gradients(layer, x):
    """The layer's output, its gradients for x and the kernel, and the second
    derivative a gradient penalty takes (of the input gradient's squared norm), as
    float32 arrays."""
    import tensorflow as tf
    with tf.GradientTape() as outer:
        outer.watch(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.nn.softplus(tf.cast(y, tf.float32)))
        dx, dw = tape.gradient(loss, [x, layer.kernel])
        penalty = tf.reduce_sum(tf.cast(dx, tf.float32) ** 2)
    return [tf.cast(t, tf.float32).numpy() for t in (y, dx, dw, outer.gradient(penalty, x))]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("kind", ["dense", "conv", "deconv"])
def test_each_fast_layer_is_keras_layer_with_faster_gradients(kind, policy):
    """WideDense, FastConv2D, FastConv2DTranspose (models/fast_ops.py): Keras' layer's
    weights and names; its output, both its gradients and its second derivative are
    Keras' layer's in float32 up to the order of the additions, and in bfloat16 within
    bfloat16's rounding of the float32 values. (The reference in bfloat16 is the
    float32 layer on the same bfloat16-rounded numbers: TensorFlow's own bfloat16
    convolution gradients are ten times further from it on this CPU, 2-3% against
    0.3%.)"""
    import keras
    import tensorflow as tf
    make_keras, make_fast, shape = _fast_layer_pairs()[kind]
    x = tf.random.stateless_normal(shape, seed=[1, 2])
    ref = make_keras()
    ref.build(x.shape)
    keras.mixed_precision.set_global_policy(policy)
    try:
        fast = make_fast()
        fast.build(x.shape)
        assert [v.path for v in fast.weights] == [v.path for v in ref.weights]
        for vr, vf in zip(ref.weights, fast.weights):
            vf.assign(tf.random.stateless_normal(vr.shape, seed=[3, len(vr.path)]))
            if policy != "float32":      # the numbers the bfloat16 layer computes with
                vf.assign(tf.cast(tf.cast(vf, tf.bfloat16), tf.float32))
            vr.assign(vf)
        x_fast = tf.cast(x, tf.bfloat16) if policy != "float32" else x
        got = _outputs_and_gradients(fast, x_fast)
        assert fast(x_fast).dtype == (tf.float32 if policy == "float32" else tf.bfloat16)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    want = _outputs_and_gradients(ref, tf.cast(x_fast, tf.float32))
    tol = 1e-5 if policy == "float32" else 2e-2
    for name, w, g in zip(["output", "input gradient", "weight gradient", "second derivative"],
                          want, got):
        assert w.shape == g.shape and np.abs(w).max() > 0, name
        assert np.abs(w - g).max() <= tol * np.abs(w).max(), name


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("shape", [[16, 7, 7, 8], [16, 24]])
def test_the_fused_batch_norm_is_keras_batch_norm(shape, policy):
    """FusedBatchNormalization (models/fast_ops.py) in training: Keras' layer's weights
    and names, its output and the gradients for the input, gamma and beta, and the
    moving mean and variance after two steps (Keras' biased variance, not the
    kernel's unbiased one: n = 16 or 784 values a channel, a 6% or 0.1% difference a
    wrong factor would leave). In bfloat16 against Keras' layer on the same
    bfloat16 input (which it computes in float32). At inference both use the moving
    statistics, by Keras' own code."""
    import keras
    import tensorflow as tf
    from gan_tf.models.fast_ops import FusedBatchNormalization
    x = tf.random.stateless_normal(shape, seed=[1, 2]) * 3.0 + 0.5
    keras.mixed_precision.set_global_policy(policy)
    try:
        ref = keras.layers.BatchNormalization(name="bn")
        fused = FusedBatchNormalization(name="bn")
        for layer in (ref, fused):
            layer.build(x.shape)
            layer.gamma.assign(tf.random.stateless_uniform(shape[-1:], [3, 4], 0.5, 1.5))
            layer.beta.assign(tf.random.stateless_normal(shape[-1:], [5, 6]))
        assert [v.path for v in fused.weights] == [v.path for v in ref.weights]
        x_in = tf.cast(x, tf.bfloat16) if policy != "float32" else x
        got, want = [], []
        for layer, out in ((fused, got), (ref, want)):
            for step in range(2):
                xs = x_in * (1.0 + step)           # another batch: the stats move
                with tf.GradientTape() as tape:
                    tape.watch(xs)
                    y = layer(xs, training=True)
                    loss = tf.reduce_sum(tf.sin(tf.cast(y, tf.float32)))
                grads = tape.gradient(loss, [xs, layer.gamma, layer.beta])
            out += [y, *grads, layer.moving_mean, layer.moving_variance,
                    layer(x_in, training=False)]
        assert got[0].dtype == (tf.float32 if policy == "float32" else tf.bfloat16)
        graph = tf.function(lambda x: fused(x, training=True)).get_concrete_function(
            tf.TensorSpec(shape, x_in.dtype)).graph
        assert "FusedBatchNormV3" in {op.type for op in graph.get_operations()}
    finally:
        keras.mixed_precision.set_global_policy("float32")
    tol = 1e-5 if policy == "float32" else 2e-2
    for name, w, g in zip(["output", "input gradient", "gamma gradient", "beta gradient",
                           "moving mean", "moving variance", "inference output"], want, got):
        w, g = (np.asarray(tf.cast(t, tf.float32)) for t in (w, g))
        assert w.shape == g.shape and np.abs(w).max() > 0, name
        assert np.abs(w - g).max() <= tol * np.abs(w).max(), name


def test_a_fused_batch_norm_it_cannot_compute_is_keras_batch_norm():
    """A batch of one (no variance to correct) and a rank-3 input run Keras' ops."""
    import tensorflow as tf
    from gan_tf.models.fast_ops import FusedBatchNormalization
    for shape in ([1, 5], [4, 3, 5]):
        layer = FusedBatchNormalization()
        layer.build(shape)
        graph = tf.function(lambda x: layer(x, training=True)).get_concrete_function(
            tf.TensorSpec(shape)).graph
        assert "FusedBatchNormV3" not in {op.type for op in graph.get_operations()}


def test_a_fast_conv_of_another_shape_is_keras_conv():
    """A shape the fast forms do not cover (a 3x3 kernel, an odd image) runs Keras' own
    op: same values and TensorFlow's own gradient ops."""
    import tensorflow as tf
    from gan_tf.models import fast_ops
    for layer, shape in [(fast_ops.FastConv2D(8, 3, strides=2, padding="same"), [2, 14, 14, 4]),
                         (fast_ops.FastConv2D(8, 4, strides=2, padding="same"), [2, 15, 15, 4])]:
        x = tf.random.stateless_normal(shape, seed=[1, 2])
        graph = tf.function(lambda x: tf.gradients(tf.reduce_sum(layer(x)), x)) \
            .get_concrete_function(tf.TensorSpec(shape)).graph
        types = {op.type for op in graph.get_operations()}
        assert "Conv2DBackpropInput" in types and "DepthToSpace" not in types


def test_mnist_dcgan_uses_the_fast_layers_where_they_pay():
    """D's fc and conv2 and G's deconv1 (measured faster, docs/speed.md); not the
    one-channel conv1 and deconv2 (measured slower); every batch norm fused."""
    import keras
    from gan_tf.core.experiments import load_experiment
    from gan_tf.models import fast_ops
    from gan_tf.families import build_discriminator, build_generator
    cfg = load_experiment("mnist-dcgan")
    D, G = build_discriminator(cfg), build_generator(cfg)
    assert isinstance(D.get_layer("fc"), fast_ops.WideDense)
    assert isinstance(D.get_layer("conv2"), fast_ops.FastConv2D)
    assert isinstance(G.get_layer("deconv1"), fast_ops.FastConv2DTranspose)
    assert type(D.get_layer("conv1")) is keras.layers.Conv2D
    assert type(G.get_layer("deconv2")) is keras.layers.Conv2DTranspose
    for net, name in ((D, "conv2_bn"), (D, "fc_bn"), (G, "fc_bn"), (G, "project_bn"),
                      (G, "deconv1_bn")):
        assert isinstance(net.get_layer(name), fast_ops.FusedBatchNormalization), name


def test_bfloat16_units_are_read_from_the_cpu_flags(tmp_path, monkeypatch):
    import dataclasses
    from gan_tf.training import threads
    amd = tmp_path / "amd"
    amd.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx avx2 fma\n")
    intel = tmp_path / "intel"
    intel.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16 amx_tile amx_bf16\n")
    assert threads.cpu_bfloat16_units(str(amd)) is False
    assert threads.cpu_bfloat16_units(str(intel)) is True
    assert threads.cpu_bfloat16_units(str(tmp_path / "none")) is None
    cfg = dataclasses.replace(Config(), precision="mixed_bfloat16")
    monkeypatch.setattr(threads, "cpu_bfloat16_units", lambda: False)
    assert "--precision float32" in threads.slow_precision_note(cfg)
    assert threads.slow_precision_note(Config()) is None          # float32: nothing
    monkeypatch.setattr(threads, "cpu_bfloat16_units", lambda: True)
    assert threads.slow_precision_note(cfg) is None


def _gradient_graph_and_values(layer, x):
    """The layer's output and both gradients, computed in a tf.function; and the
    names of the ops that function traced."""
    import tensorflow as tf

    @tf.function
    def run(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            loss = tf.reduce_sum(tf.nn.softplus(layer(x)))
        return [layer(x)] + tape.gradient(loss, [x, layer.kernel])

    values = [t.numpy() for t in run(x)]
    ops = [op.name for op in run.get_concrete_function(x).graph.get_operations()]
    return values, ops


@pytest.mark.parametrize("kind", ["dense", "conv", "deconv"])
def test_each_fast_layer_computes_by_its_device_and_both_forms_agree(kind):
    """On a CPU the CPU-tuned form (its gradients' ops named fast_grad/...), elsewhere
    TensorFlow's own computation; both forced here on this CPU, on the same layer and
    weights: the same output and gradients up to the order of the additions."""
    import tensorflow as tf
    from gan_tf.models import fast_ops
    _, make_fast, shape = _fast_layer_pairs()[kind]
    x = tf.random.stateless_normal(shape, seed=[1, 2])
    layer = make_fast()
    layer.build(x.shape)
    for v in layer.weights:
        v.assign(tf.random.stateless_normal(v.shape, seed=[3, len(v.path)]))
    names = [v.path for v in layer.weights]
    results = {}
    for which in (fast_ops.CPU_TUNED, fast_ops.TENSORFLOW, None):
        with fast_ops.computation(which):
            results[which] = _gradient_graph_and_values(layer, x)
    assert [v.path for v in layer.weights] == names
    (tuned, tuned_ops), (own, own_ops) = results[fast_ops.CPU_TUNED], results[fast_ops.TENSORFLOW]
    assert any("fast_grad" in op for op in tuned_ops)
    assert not any("fast_grad" in op for op in own_ops)
    for name, a, b in zip(["output", "input gradient", "weight gradient"], tuned, own):
        assert a.shape == b.shape and np.abs(b).max() > 0, name
        assert np.abs(a - b).max() <= 1e-5 * np.abs(b).max(), name
    # by the device: this CPU's is the CPU-tuned form
    by_device, by_device_ops = results[None]
    assert any("fast_grad" in op for op in by_device_ops)


def test_the_fast_layers_choose_by_where_their_kernel_lives():
    from types import SimpleNamespace

    from gan_tf.models import fast_ops

    def on(device):
        return SimpleNamespace(kernel=SimpleNamespace(value=SimpleNamespace(device=device)))

    assert fast_ops.cpu_tuned(on("/job:localhost/replica:0/task:0/device:CPU:0"))
    assert not fast_ops.cpu_tuned(on("/job:localhost/replica:0/task:0/device:GPU:0"))
    with fast_ops.computation(fast_ops.CPU_TUNED):
        assert fast_ops.cpu_tuned(on("/job:localhost/replica:0/task:0/device:GPU:0"))
    with fast_ops.computation(fast_ops.TENSORFLOW):
        assert not fast_ops.cpu_tuned(on("/job:localhost/replica:0/task:0/device:CPU:0"))
    with pytest.raises(ValueError, match="computation must be"):
        with fast_ops.computation("fast"):
            pass
