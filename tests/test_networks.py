"""Shapes, ranges and the tutorial's xavier_init statistics."""

import math

import numpy as np
import pytest

from gan_tf.core.config import Config
from gan_tf.models import networks


def test_shapes_and_output_ranges():
    cfg = Config()
    G, D = networks.build_generator(cfg), networks.build_discriminator(cfg)
    z = np.random.default_rng(0).uniform(-1, 1, (16, 100)).astype(np.float32)
    x = G(z).numpy()
    assert x.shape == (16, 784) and x.min() >= 0.0 and x.max() <= 1.0
    logits = D(x).numpy()
    assert logits.shape == (16, 1)
    # D returns logits, not probabilities: an unbounded output, no sigmoid layer.
    assert D.layers[-1].activation.__name__ == "linear"
    assert networks.count_params(D) == 784 * 128 + 128 + 128 + 1
    assert networks.count_params(G) == 100 * 128 + 128 + 128 * 784 + 784


@pytest.mark.parametrize("build, fan_ins", [(networks.build_discriminator, (784, 128)),
                                            (networks.build_generator, (100, 128))])
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


def test_glorot_option_is_different_and_seeds_are_reproducible():
    def first(cfg):
        return networks.build_discriminator(cfg).get_layer("hidden").kernel.numpy()
    a, b, c = first(Config()), first(Config()), first(Config(seed=1))
    g = first(Config(init="glorot_normal"))
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Keras' GlorotNormal: truncated at 2 sigma, rescaled so the std is sqrt(2/(in+out)).
    assert g.std() == pytest.approx(math.sqrt(2 / (784 + 128)), rel=0.05)
    assert np.abs(g).max() <= 2 * math.sqrt(2 / (784 + 128)) / 0.87962566 + 1e-6


@pytest.mark.parametrize("arch", ["mlp", "dcgan"])
def test_conditional_models_take_and_use_the_one_hot_label(arch):
    cfg = Config(conditional=True, arch=arch, conv_width=8)
    G, D = networks.build_generator(cfg), networks.build_discriminator(cfg)
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


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_the_wide_dense_layer_is_dense_with_a_faster_input_gradient(policy):
    """WideDense (D's fc in mnist-dcgan): Dense's forward op and weights, and its
    gradients equal Dense's up to the order of the additions."""
    import keras
    import tensorflow as tf
    from gan_tf.models.networks import WideDense
    keras.mixed_precision.set_global_policy(policy)
    try:
        a = keras.layers.Dense(64, use_bias=False, name="fc")
        b = WideDense(64, use_bias=False, name="fc")
        x = tf.random.stateless_normal([16, 392], seed=[1, 2])
        a.build(x.shape), b.build(x.shape)
        b.kernel.assign(a.kernel)
        assert [v.path for v in b.weights] == [v.path for v in a.weights] == ["fc/kernel"]
        with tf.GradientTape(persistent=True) as tape:
            tape.watch(x)
            ya, yb = a(x), b(x)
            la, lb = (tf.reduce_sum(tf.cast(y, tf.float32) ** 2) for y in (ya, yb))
        assert yb.dtype == ya.dtype and bool(tf.reduce_all(ya == yb))
        tol = 1e-5 if policy == "float32" else 1e-2
        for ga, gb in zip(tape.gradient(la, [x, a.kernel]), tape.gradient(lb, [x, b.kernel])):
            ga, gb = (tf.cast(g, tf.float32).numpy() for g in (ga, gb))
            assert np.abs(ga - gb).max() <= tol * np.abs(ga).max()
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_mnist_dcgan_s_discriminator_uses_the_wide_dense_layer():
    from gan_tf.core.config import load_experiment
    from gan_tf.models.networks import WideDense, build_discriminator
    D = build_discriminator(load_experiment("mnist-dcgan"))
    assert isinstance(D.get_layer("fc"), WideDense)


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
