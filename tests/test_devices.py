"""What a run needs to train on a GPU as it trains on this CPU (issue 48): no state of
the compiled loop in host memory, the device named, nothing silent."""

import json
import sys
from pathlib import Path

import numpy as np
import pytest
import tensorflow as tf

from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.training.build import build_trainer

sys.path.insert(0, str(Path(__file__).parent))
from family_contract import SMALL  # noqa: E402  (each family at its smallest)

# TensorFlow keeps a tf.Variable of these dtypes in host memory whatever the device
# ("tf.Variable of type int32 are always placed on a host, and can not be placed on a
# GPU": XLA's Known issues); an XLA cluster on a GPU then fails with "Trying to access
# resource ... located in device CPU:0 from device GPU:0".
HOST_DTYPES = {tf.int32}


def host_variables(fn) -> list[str]:
    """The variables of a traced tf.function's first program that a GPU would keep in
    host memory, as 'name: dtype'."""
    concrete = fn.get_concrete_function() if fn.input_signature is not None \
        else fn._list_all_concrete_functions()[0]
    return [f"{v.name}: {v.dtype.name}" for v in concrete.variables
            if v.dtype in HOST_DTYPES]


@pytest.mark.parametrize("family", sorted(families.FAMILIES))
def test_no_family_keeps_loop_state_in_host_memory(family, mnist):
    """One compiled chunk of every family's step: each variable it reads or writes
    must be of a dtype a GPU holds (the epoch orders' cache, CycleGAN's pool counts)."""
    cfg = override(Config(), {"family": family, "batch_size": 16, "iters": 4,
                              **SMALL.get(family, {})})
    driver = build_trainer(cfg, mnist.train_images[:512], mnist.train_labels[:512])
    driver.chunk(1)
    assert driver._chunk is not None
    assert host_variables(driver._chunk) == []


def test_a_seed_stack_keeps_no_loop_state_in_host_memory(mnist):
    """The stack of seeds caches one epoch order per seed: int64 too."""
    from gan_tf.training.loop import Driver
    from gan_tf.training.stack import SeedSteps
    cfg = override(Config(), {"batch_size": 16, "d_hidden": (8,), "g_hidden": (8,)})
    driver = Driver(SeedSteps(cfg, [0, 1], mnist.train_images[:512]), cfg)
    driver.chunk(1)
    assert host_variables(driver._chunk) == []


def test_the_walk_finds_an_int32_variable():
    """The check itself: a compiled function that updates an int32 variable is named."""
    count = tf.Variable(0, dtype=tf.int32, name="count")
    wide = tf.Variable(0, dtype=tf.int64, name="wide")

    @tf.function(input_signature=[])
    def f():
        count.assign_add(1)
        wide.assign_add(1)
        return count.read_value()

    f()
    assert host_variables(f) == ["count:0: int32"]


def test_a_cyclegan_checkpoint_with_int32_pool_counts_restores_cast(mnist, tmp_path):
    """Runs saved before the counts were int64 hold them as int32 (tests/saved_runs/
    cyclegan): restore casts them, and the value is kept."""
    from gan_tf.training.run import checkpoint_arrays, restore
    cfg = override(Config(), {"family": "cyclegan", "batch_size": 8, "iters": 4,
                              **SMALL["cyclegan"]})
    driver = build_trainer(cfg, mnist.train_images[:256])
    arrays = checkpoint_arrays(driver, 10)
    arrays = {k: (np.int32(7) if k.endswith("/filled") else v) for k, v in arrays.items()}
    assert restore(driver, arrays, tmp_path) == 10
    state = driver.state()
    assert state["pool_a/filled"].dtype == tf.int64
    assert int(state["pool_a/filled"].numpy()) == 7


# --- the device said, never assumed

def test_a_run_that_must_use_a_gpu_refuses_without_one_in_one_line(mnist_dir, tmp_path,
                                                                  monkeypatch, capsys):
    """GPU=1 (the Makefile exports GAN_TF_REQUIRE_GPU=1) where TensorFlow sees no GPU:
    one line that says how to see why, and nothing trained."""
    from conftest import cli, one_line_error
    from gan_tf.training import devices
    if devices.gpus():
        pytest.skip("this process sees a GPU: the refusal cannot happen here")
    monkeypatch.setenv(devices.REQUIRE_GPU, "1")
    assert cli(tmp_path / "run", mnist_dir) != 0
    one_line_error(capsys, "GPU=1", "sees no GPU", "TF_CPP_MIN_LOG_LEVEL=0")
    assert not (tmp_path / "run" / "checkpoint.npz").exists()
    devices.check_required({})                                  # not asked: no refusal
    devices.check_required({devices.REQUIRE_GPU: "0"})


def test_the_starting_line_names_the_device(mnist, tmp_path):
    from conftest import TINY
    from gan_tf.training import devices
    from gan_tf.training.run import train
    lines = []
    train(override(TINY, {"iters": 10, "snapshot_every": 10}), tmp_path / "run", data=mnist,
          log=lines.append)
    start = next(line for line in lines if line.startswith("Starting"))
    assert f"of 10 on {devices.describe()}: " in start
    assert ("on GPU 0 (" if devices.gpus() else "on CPU (") in start


def test_subprocesses_keep_the_pythonpath_they_were_given():
    """tests' ENV puts this checkout first and keeps what PYTHONPATH held (a GPU
    bundle's site folder, say)."""
    import os

    from conftest import REPO, subprocess_env
    env = subprocess_env({"PYTHONPATH": "/opt/elsewhere", "HOME": "/h"})
    assert env["PYTHONPATH"].split(os.pathsep) == [str(REPO), "/opt/elsewhere"]
    assert env["HOME"] == "/h" and subprocess_env({})["PYTHONPATH"] == str(REPO)


def test_every_command_of_the_distributed_page_is_a_config_the_project_accepts():
    """docs/distributed.md's `python -m gan_tf.train` lines, parsed as the command
    parses them, must make configs (it once showed mnist-dcgan under a strategy,
    which the config refuses)."""
    import re
    import shlex

    from conftest import REPO
    from gan_tf.core.experiments import from_experiment
    from gan_tf.train import build_parser
    text = (REPO / "docs" / "distributed.md").read_text()
    commands = re.findall(r"python -m gan_tf\.train (.+)", text)
    assert len(commands) >= 3
    for line in commands:
        args = vars(build_parser().parse_args(shlex.split(line)))
        experiment = args.pop("experiment", None)
        for name in ("run_dir", "data_dir", "seeds", "sequential", "resume", "overwrite"):
            args.pop(name, None)
        assert from_experiment(experiment, args).strategy != "default", line


# --- float32 means float32

def test_tf32_is_off_unless_asked_and_the_config_says_which(mnist, tmp_path):
    """TensorFlow enables TensorFloat-32 by default (float32 matmuls with 10-bit
    mantissas on Ampere and later GPUs): a run turns it off, unless --tf32, and its
    config.json records the choice."""
    import json

    from conftest import TINY
    from gan_tf.training.run import train
    enabled = tf.config.experimental.tensor_float_32_execution_enabled
    before = enabled()
    try:
        tf.config.experimental.enable_tensor_float_32_execution(True)   # TF's default
        small = override(TINY, {"iters": 10, "snapshot_every": 10})
        train(small, tmp_path / "off", data=mnist, log=lambda line: None)
        assert enabled() is False
        assert json.loads((tmp_path / "off" / "config.json").read_text())["tf32"] is False
        train(override(small, {"tf32": True}), tmp_path / "on", data=mnist,
              log=lambda line: None)
        assert enabled() is True
        assert json.loads((tmp_path / "on" / "config.json").read_text())["tf32"] is True
    finally:
        tf.config.experimental.enable_tensor_float_32_execution(before)


def test_a_config_saved_before_tf32_loads_with_it_off():
    saved = json.loads(Config().to_json())
    del saved["tf32"]
    assert Config.from_dict(saved).tf32 is False


# --- XLA where a GPU is, and the CPU's one inter-op thread only on CPUs

def test_xla_defaults_on_where_a_gpu_is_visible_unless_the_user_chose(monkeypatch):
    from gan_tf.training import devices
    monkeypatch.setattr(devices, "gpus", lambda: ["GPU:0"])
    assert devices.default_xla({"iters": 5}) == {"iters": 5, "xla": True}
    assert devices.default_xla({"xla": False}) == {"xla": False}
    monkeypatch.setattr(devices, "gpus", lambda: [])
    assert devices.default_xla({"iters": 5}) == {"iters": 5}


def test_one_inter_op_thread_only_for_convolutional_runs_on_a_cpu(monkeypatch):
    from gan_tf.training import threads
    dcgan, mlp = Config.of(family="dcgan"), Config()
    assert threads.needs_one_inter_op_thread(dcgan)
    assert not threads.needs_one_inter_op_thread(mlp)
    monkeypatch.setattr(tf.config, "list_physical_devices",
                        lambda kind=None: ["GPU:0"] if kind == "GPU" else [])
    assert not threads.needs_one_inter_op_thread(dcgan)


def test_a_run_may_change_xla_when_it_resumes(mnist_dir, tmp_path):
    """A CPU run off XLA may go on compiled (on a GPU, where only XLA's loop is fast):
    the same step, rounded differently. The saved config says what it runs with now."""
    from conftest import cli
    run = tmp_path / "run"
    assert cli(run, mnist_dir, "--iters", "20", "--no-xla") == 0
    assert json.loads((run / "config.json").read_text())["xla"] is False
    assert cli(run, mnist_dir, "--iters", "40", "--xla", "--resume") == 0
    saved = json.loads((run / "config.json").read_text())
    assert saved["xla"] is True and saved["iters"] == 40
