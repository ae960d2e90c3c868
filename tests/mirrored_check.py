"""Run as a script, in a fresh process: TensorFlow's CPU can be split into logical
devices only before it starts. Trains each case on one device (the default,
XLA-compiled loop) and mirrored over 2 logical CPUs, and prints one JSON line of
how far apart they ended. One case per process: a second MirroredStrategy in the
same process reuses the first one's collective instance keys and TensorFlow then
aborts on a shape mismatch. Used by tests/test_distribute.py:

    python tests/mirrored_check.py DATA_DIR {vanilla,dcgan,odd-batch}"""

import dataclasses
import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import tensorflow as tf

cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)

from gan_tf import families
from gan_tf.core.config import Config, override  # noqa: E402
from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError  # noqa: E402
from gan_tf.data.datasets import load_mnist  # noqa: E402
from gan_tf.models import networks
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib  # noqa: E402  (after the split)

MIRRORED = {"strategy": "mirrored", "devices": "/cpu:0,/cpu:1"}
CASES = {
    # The tutorial's GAN, Adam, 30 iterations.
    "vanilla": Config.of(iters=30, snapshot_every=30, log_every=10, tensorboard=False),
    # The DCGAN: batch norm statistics must be the global batch's. SGD with a small
    # step, because Adam divides tiny gradients by their own size and so turns
    # rounding-level differences into full-size steps.
    "dcgan": override(load_experiment("mnist-dcgan-10-epochs"), {
        "conv_width": 16, "optimizer": "sgd", "lr": 0.002, "iters": 3,
        "snapshot_every": 3, "log_every": 1, "tensorboard": False}),
}


def main(data_dir: str, case: str) -> None:
    mnist = load_mnist(data_dir)
    report = {"devices": [d.name for d in tf.config.list_logical_devices("CPU")]}
    with tempfile.TemporaryDirectory() as tmp:
        if case == "odd-batch":
            try:
                train_lib.train(dataclasses.replace(CASES["vanilla"], batch_size=127,
                                                    **MIRRORED),
                                Path(tmp) / "odd", data=mnist, log=lambda line: None)
                report["error"] = None
            except UserError as e:
                report["error"] = str(e)
                report["wrote"] = (Path(tmp) / "odd").exists()
        else:
            name, cfg = case, CASES[case]
            out = {}
            for kind, changes in (("single", {}), ("mirrored", MIRRORED)):
                run = Path(tmp) / f"{name}-{kind}"
                train_lib.train(dataclasses.replace(cfg, **changes), run, data=mnist,
                                log=lambda line: None)
                ck = RunFolder(run).read_checkpoint()
                out[kind] = (ck, RunFolder(run).read_stats())
            (a, stats_a), (b, stats_b) = out["single"], out["mirrored"]
            init = {f"{m}/{v.path}": v.numpy() for m, model in (
                ("G", families.build_generator(cfg)), ("D", families.build_discriminator(cfg)))
                for v in model.weights}
            report[name] = {
                "max_weight_diff": max(float(np.abs(a[k] - b[k]).max()) for k in init),
                "max_weight_change": max(float(np.abs(a[k] - v).max())
                                         for k, v in init.items()),
                "loss_rel_diff": max(abs(ra[k] - rb[k]) / abs(ra[k]) for ra, rb in
                                     zip(stats_a, stats_b) for k in ("d_loss", "g_loss")),
                "grad_norm_rel_diff": max(abs(ra["g_grad_norm"] - rb["g_grad_norm"])
                                          / abs(ra["g_grad_norm"])
                                          for ra, rb in zip(stats_a, stats_b)),
                "records": [len(stats_a), len(stats_b)],
            }
    print(json.dumps(report))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
