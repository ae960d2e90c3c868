import dataclasses

import pytest

from gan_tf.core.config import Config, override

from gan_tf.core.experiments import experiment_names, load_experiment
from gan_tf.core.errors import UserError


def test_defaults_are_the_tutorials():
    c = Config()
    assert (c.params.loss, c.z_dim, c.batch_size, c.iters) == ("log", 100, 128, 100_000)
    assert (c.params.d_hidden, c.params.g_hidden, c.g_output, c.params.same_z) == ((128,), (128,), "sigmoid", False)
    assert (c.params.lr, c.params.beta1, c.params.beta2, c.params.adam_eps) == (1e-3, 0.9, 0.999, 1e-8)
    assert (c.snapshot_every, c.params.init, c.params.log_eps) == (1000, "xavier_tutorial", 1e-7)


def test_config_is_frozen_and_round_trips_through_json():
    c = Config.of(loss="xent", iters=7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        c.iters = 3
    assert Config.from_json(c.to_json()) == c


@pytest.mark.parametrize("changes, words", [
    ({"iters": 0}, "iters must be a positive"),
    ({"batch_size": -1}, "batch_size must be a positive"),
    ({"snapshot_every": 0}, "snapshot_every must be a positive"),
    ({"loss": "hinge"}, "unknown loss 'hinge'"),
    ({"init": "he"}, "unknown init"),
    ({"log_every": 300}, "must divide snapshot_every"),
    ({"log_eps": 0.7}, "log_eps must be in"),
    ({"lr": float("nan")}, "lr must be finite"),
    ({"momentum": float("nan")}, "momentum must be finite"),
    ({"gif_fps": 0.001}, r"gif_fps must be in \[0.1, 50\]"),
    ({"seed": -1}, "seed must be in"),
    ({"iters": 10**12}, "iters must be a positive integer up to"),
])
def test_bad_values_are_named(changes, words):
    with pytest.raises(UserError, match=words):
        override(Config(), changes)


def test_unknown_and_mistyped_keys_are_errors():
    with pytest.raises(UserError, match="unknown config key 'batchsize'.*'batch_size'"):
        override(Config(), {"batchsize": 64})
    with pytest.raises(UserError, match="'iters' must be int, got str"):
        override(Config(), {"iters": "100"})
    with pytest.raises(UserError, match="must be bool"):
        override(Config(), {"xla": 1})
    assert override(Config(), {"lr": 1}).params.lr == 1.0  # an int where a float is meant is fine


def test_experiments_change_only_the_loss():
    assert {"mnist-basic", "mnist-xent", "mnist-deep"} <= set(experiment_names())
    assert load_experiment("mnist-basic") == Config()
    assert load_experiment("mnist_xent") == Config.of(loss="xent")
    with pytest.raises(UserError, match="unknown experiment 'nope'"):
        load_experiment("nope")


def test_layer_sizes_round_trip_and_parse():
    from gan_tf.train import build_parser
    c = override(Config(), {"d_hidden": [256, 128]})      # JSON gives lists
    assert c.params.d_hidden == (256, 128) and Config.from_json(c.to_json()) == c
    args = vars(build_parser().parse_args(["--g-hidden", "256,512"]))
    assert args["g_hidden"] == (256, 512)
    with pytest.raises(UserError, match="d_hidden must be 1 to 8 layer sizes"):
        override(Config(), {"d_hidden": (256, 0)})
    with pytest.raises(UserError, match="unknown g_output 'relu'"):
        override(Config(), {"g_output": "relu"})
