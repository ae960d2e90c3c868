"""Losses against values computed by hand from the formulas."""

import math

import numpy as np
import pytest
import tensorflow as tf

from gan_tf.core.config import Config
from gan_tf.families import mlp as losses   # the tutorial's losses

REAL = [0.0, 2.0]    # D's logits on two real images
FAKE = [-1.0, 4.0]   # and on two fakes: a mean unlike REAL's, so a D loss with
                     # the two swapped has another value


def sig(x):
    return 1.0 / (1.0 + math.exp(-x))


def t(v):
    return tf.constant(v, tf.float32)


def test_log_losses_match_the_tutorials_formula():
    want_d = -((math.log(sig(0)) + math.log(1 - sig(-1)))
               + (math.log(sig(2)) + math.log(1 - sig(4)))) / 2
    want_g = -(math.log(sig(-1)) + math.log(sig(4))) / 2
    assert want_d == pytest.approx(2.575743, abs=1e-6)  # worked out on paper too
    assert float(losses.log_d_loss(t(REAL), t(FAKE), eps=0)) == pytest.approx(want_d, rel=1e-6)
    assert float(losses.log_g_loss(t(FAKE), eps=0)) == pytest.approx(want_g, rel=1e-6)
    # Clipping at 1e-7 changes nothing for moderate logits.
    assert float(losses.log_d_loss(t(REAL), t(FAKE))) == pytest.approx(want_d, rel=1e-6)


def test_xent_losses_match_hand_values():
    # sce(l, 1) = log(1 + e^-l); sce(l, 0) = log(1 + e^l)
    want_d = (math.log1p(math.exp(-0.0)) + math.log1p(math.exp(-2.0))) / 2 \
        + (math.log1p(math.exp(-1.0)) + math.log1p(math.exp(4.0))) / 2
    want_g = (math.log1p(math.exp(1.0)) + math.log1p(math.exp(-4.0))) / 2
    assert float(losses.xent_d_loss(t(REAL), t(FAKE))) == pytest.approx(want_d, rel=1e-6)
    assert float(losses.xent_g_loss(t(FAKE))) == pytest.approx(want_g, rel=1e-6)


def test_literal_log_loss_overflows_where_the_clipped_one_does_not():
    # D certain a fake is real (logit 20): 1 - sigmoid(20) rounds to 0 in float32.
    literal = float(losses.log_d_loss(t([5.0]), t([20.0]), eps=0))
    clipped = float(losses.log_d_loss(t([5.0]), t([20.0]), eps=1e-7))
    assert math.isinf(literal)
    one_minus = float(np.float32(1) - np.float32(1 - 1e-7))  # 1 - (1-eps) in float32
    assert clipped == pytest.approx(-math.log(sig(5)) - math.log(one_minus), rel=1e-5)
    # The logit form has no such overflow.
    assert float(losses.xent_d_loss(t([5.0]), t([20.0]))) == pytest.approx(
        math.log1p(math.exp(-5)) + 20 + math.log1p(math.exp(-20)), rel=1e-6)


def test_clipping_matches_keras_binary_crossentropy():
    import keras
    logits = t([-30.0, -3.0, 0.5, 4.0, 30.0])
    ours = losses.log_g_loss(logits, eps=1e-7)
    keras_bce = keras.losses.binary_crossentropy(tf.ones((5, 1)), tf.sigmoid(logits)[:, None])
    assert float(ours) == pytest.approx(float(tf.reduce_mean(keras_bce)), rel=1e-5)


def test_get_losses_dispatches_on_the_config():
    d, g = losses.get_losses(Config.of(loss="xent"))
    assert float(d(t(REAL), t(FAKE))) == float(losses.xent_d_loss(t(REAL), t(FAKE)))
    d, g = losses.get_losses(Config.of(loss="log", log_eps=0.0))
    assert math.isinf(float(g(t([-200.0]))))


def test_minimax_g_losses_match_hand_values():
    want = (math.log(1 - sig(-1)) + math.log(1 - sig(4))) / 2     # mean log(1 - D(G(z)))
    assert float(losses.log_g_loss_minimax(t(FAKE), eps=0)) == pytest.approx(want, rel=1e-6)
    assert float(losses.xent_g_loss_minimax(t(FAKE))) == pytest.approx(want, rel=1e-6)
    d, g = losses.get_losses(Config.of(loss="xent", g_loss="minimax"))
    assert float(g(t(FAKE))) == pytest.approx(want, rel=1e-6)


def test_minimax_gradient_saturates_where_nonsaturating_does_not():
    """At D(G(z)) ~ 0 (logit -8), d/dlogit of log(1 - D) is -D ~ -3e-4, while that
    of -log D is -(1 - D) ~ -1: the lecture's reason for the non-saturating loss."""
    logit = tf.Variable([-8.0])
    for fn, want in ((losses.xent_g_loss_minimax, -sig(-8)), (losses.xent_g_loss,
                                                              -(1 - sig(-8)))):
        with tf.GradientTape() as tape:
            value = fn(logit)
        assert float(tape.gradient(value, logit)[0]) == pytest.approx(want, rel=1e-5)
