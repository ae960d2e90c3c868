"""tf.distribute: a mirrored run equals the single-device run; two worker processes
on localhost train, write one set of outputs, stop together and resume."""

import json
import signal
import socket
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ENV, REPO
from gan_tf.core.config import Config
from gan_tf.core.errors import UserError
from gan_tf.runs.folder import RunFolder
from gan_tf.training import distribute
from gan_tf.training import run as train_lib


@pytest.mark.slow
@pytest.mark.parametrize("case", ["vanilla", "dcgan"])
def test_mirrored_over_two_devices_equals_one_device(case, mnist_dir):
    """Same seed, same global batch 128: 64 per replica on 2 logical CPUs. The tutorial's
    GAN after 30 Adam iterations; the DCGAN after 3 SGD iterations, its batch norm
    statistics taken over the global batch (see tests/mirrored_check.py)."""
    out = subprocess.run([sys.executable, str(REPO / "tests" / "mirrored_check.py"),
                          str(mnist_dir), case], env=ENV, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert report["devices"] == ["/device:CPU:0", "/device:CPU:1"]
    r = report[case]
    assert r["records"][0] == r["records"][1] > 0
    # Measured: 2.2e-6 (vanilla) and 1e-7 (DCGAN), while the weights moved by 0.03-0.09.
    assert r["max_weight_diff"] < 2e-5 and r["max_weight_change"] > 1e-2
    # The logged losses and G's gradient norm are the global batch's, as on one device.
    assert r["loss_rel_diff"] < 1e-4
    # G's gradient norm: on one device the DCGAN's batch norm is the fused kernel
    # (models/fast_ops.py), on two Keras' synchronized moments. Where TensorFlow runs
    # the fused kernel through oneDNN (x86 with AVX512_BF16 or AMX) its rounding moves
    # the norm by up to 4e-4 (measured; the losses by under 1e-6, the weights by under
    # 1e-6); without oneDNN by 1e-7.
    assert r["grad_norm_rel_diff"] < (1e-3 if case == "dcgan" else 1e-4)


@pytest.mark.slow
def test_a_batch_that_does_not_split_over_the_replicas_is_refused(mnist_dir):
    out = subprocess.run([sys.executable, str(REPO / "tests" / "mirrored_check.py"),
                          str(mnist_dir), "odd-batch"], env=ENV, capture_output=True,
                         text=True, timeout=300)
    report = json.loads(out.stdout.strip().splitlines()[-1])
    assert "batch_size 127 does not split evenly over 2 replicas" in report["error"]
    assert report["wrote"] is False


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("localhost", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def _workers(run_dir, tmp, ports, *args):
    """Start one `python -m gan_tf.train --strategy multiworker` per port."""
    cluster = {"worker": [f"localhost:{p}" for p in ports]}
    procs = []
    for i in range(len(ports)):
        env = {**ENV, "TMPDIR": str(tmp),
               "TF_CONFIG": json.dumps({"cluster": cluster,
                                        "task": {"type": "worker", "index": i}})}
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "gan_tf.train", "--strategy", "multiworker", "--no-xla",
             "--snapshot-every", "20", "--log-every", "10", "--run-dir", str(run_dir),
             *args], cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            text=True))
    return procs


def _finish(procs, timeout=240):
    outs = [p.communicate(timeout=timeout)[0] for p in procs]
    return [p.returncode for p in procs], outs


@pytest.mark.slow
def test_two_workers_train_write_once_and_resume(mnist, tmp_path):
    run, tmp = tmp_path / "run", tmp_path / "tmp"
    tmp.mkdir()
    codes, outs = _finish(_workers(run, tmp, _free_ports(2), "--iters", "40"))
    assert codes == [0, 0], outs
    assert "multiworker strategy over 2 replicas" in outs[0]
    assert "worker 1: training; the chief writes the outputs" in outs[1]
    assert [p.name for p in RunFolder(run).frame_paths()] == ["000.png", "001.png", "002.png"]
    assert [r["iter"] for r in RunFolder(run).read_stats()] == [10, 20, 30, 40]
    assert Config.from_json((run / "config.json").read_text()).strategy == "multiworker"
    assert list(tmp.iterdir()) == []        # the worker's throwaway folder is gone

    # Started again without --resume: every worker refuses, none waits for the others.
    codes, outs = _finish(_workers(run, tmp, _free_ports(2), "--iters", "60"), timeout=60)
    assert codes == [2, 2] and all("already holds a run" in o for o in outs), outs

    codes, outs = _finish(_workers(run, tmp, _free_ports(2), "--iters", "60", "--resume"))
    assert codes == [0, 0], outs
    assert [r["iter"] for r in RunFolder(run).read_stats()] == [10, 20, 30, 40, 50, 60]
    assert len(RunFolder(run).frame_paths()) == 4 and (run / "generator.keras").is_file()

    # The same algorithm as one device: an uninterrupted single-process run of 60.
    single = tmp_path / "single"
    train_lib.train(Config.of(iters=60, snapshot_every=20, log_every=10), single, data=mnist,
                    log=lambda line: None)
    a = RunFolder(run).read_checkpoint()
    b = RunFolder(single).read_checkpoint()
    assert int(a["iteration"]) == int(b["iteration"]) == 60
    worst = max(float(np.abs(a[k] - b[k]).max()) for k in a if k.startswith(("G/", "D/")))
    assert worst < 2e-5


@pytest.mark.slow
def test_a_signal_to_the_chief_stops_every_worker_with_a_checkpoint(tmp_path):
    run, tmp = tmp_path / "run", tmp_path / "tmp"
    tmp.mkdir()
    procs = _workers(run, tmp, _free_ports(2), "--iters", "100000")
    deadline = time.time() + 120
    while not RunFolder(run).read_stats() and time.time() < deadline:
        time.sleep(0.5)
    procs[0].send_signal(signal.SIGTERM)          # the chief only
    codes, outs = _finish(procs, timeout=120)
    assert codes == [128 + signal.SIGTERM] * 2, outs
    stopped = int(RunFolder(run).read_checkpoint()["iteration"])
    assert 0 < stopped < 100_000 and stopped % 10 == 0
    assert f"Stopped by signal {int(signal.SIGTERM)} at iteration {stopped}" in outs[0]


def test_who_writes_follows_tf_config(monkeypatch):
    cfg = Config.of(strategy="multiworker")
    cases = [({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 0}},
              True),
             ({"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 1}},
              False),
             ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]},
               "task": {"type": "worker", "index": 0}}, False),
             ({"cluster": {"chief": ["c:0"], "worker": ["a:1"]},
               "task": {"type": "chief", "index": 0}}, True)]
    for conf, chief in cases:
        monkeypatch.setenv("TF_CONFIG", json.dumps(conf))
        assert distribute.is_chief(cfg) is chief, conf
    assert distribute.is_chief(Config()) is True


def test_strategy_input_errors_name_the_fix(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    with pytest.raises(UserError, match="needs the TF_CONFIG environment variable"):
        distribute.make_strategy(Config.of(strategy="multiworker"))
    monkeypatch.setenv("TF_CONFIG", "{not json")
    with pytest.raises(UserError, match="TF_CONFIG is not valid JSON"):
        distribute.make_strategy(Config.of(strategy="multiworker"))
    with pytest.raises(UserError, match=r"no such device\(s\) /gpu:7; this machine has .*cpu:0"):
        distribute.make_strategy(Config.of(strategy="mirrored", devices="/gpu:7"))
    with pytest.raises(UserError, match="--devices applies to --strategy mirrored only"):
        distribute.make_strategy(Config.of(devices="/cpu:0"))
    with pytest.raises(UserError, match="unknown strategy 'tpu'"):
        Config.of(strategy="tpu")
