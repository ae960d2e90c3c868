"""Shapes, ranges and the tutorial's xavier_init statistics."""

import math

import numpy as np
import pytest

from gan_tf import networks
from gan_tf.config import Config


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
    for layer, fan_in in zip(model.layers, fan_ins):
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
    a = networks.build_discriminator(Config()).layers[0].kernel.numpy()
    b = networks.build_discriminator(Config()).layers[0].kernel.numpy()
    c = networks.build_discriminator(Config(seed=1)).layers[0].kernel.numpy()
    g = networks.build_discriminator(Config(init="glorot_normal")).layers[0].kernel.numpy()
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    # Keras' GlorotNormal: truncated at 2 sigma, rescaled so the std is sqrt(2/(in+out)).
    assert g.std() == pytest.approx(math.sqrt(2 / (784 + 128)), rel=0.05)
    assert np.abs(g).max() <= 2 * math.sqrt(2 / (784 + 128)) / 0.87962566 + 1e-6
