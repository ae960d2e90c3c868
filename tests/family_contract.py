"""The contract every model family keeps, run for one family in a fresh process
(`python tests/family_contract.py FAMILY MNIST_DIR OUT_DIR [PARAMS_JSON]`, the JSON
object's parameters changed from the family's smallest): a convolutional
family's runs are bit-reproducible only with the thread pools set before TensorFlow
starts (gan_tf/training/threads.py), which a pytest process has long done.

It builds the family's networks, trains 4 iterations as one run (compiled steps,
frames, checkpoint, generator.keras), and 2 then --resume to 4 as another, and prints
one JSON line: what tests/test_families.py checks.
"""

import json
import sys
from pathlib import Path

import numpy as np

from gan_tf import families
from gan_tf.core.config import Config, override
from gan_tf.families.adversarial import AdversarialFamily
from gan_tf.data.datasets import load_mnist
from gan_tf.runs.folder import RunFolder
from gan_tf.training import run as train_lib

# Each family at its smallest: seconds, not minutes.
SMALL = {"mlp": {"d_hidden": (16,), "g_hidden": (16,)},
         "lsgan": {"d_hidden": (16,), "g_hidden": (16,)},
         "pacgan": {"d_hidden": (16,), "g_hidden": (16,), "pack": 2},
         "maxout": {"d_hidden": (8, 8), "g_hidden": (16,), "maxout_pieces": 2,
                    "d_keep": (0.8, 0.5, 0.5)},
         "dcgan": {"conv_width": 4, "g_output": "tanh", "xla": False},
         "dcgan_tutorial": {"g_output": "tanh", "xla": False},
         "vae": {"d_hidden": (16,), "g_hidden": (16,)},
         # The gradient penalty (its eps stream resumed) on the compiled MLP; the clipped
         # critic, batch norm's scale and shift clipped too, on the convolutional one.
         "wgan": {"d_hidden": (16,), "g_hidden": (16,), "clip": 0.0, "gp_weight": 10.0,
                  "d_steps": 2, "beta1": 0.0, "beta2": 0.9},
         "wgan_dcgan": {"conv_width": 4, "g_output": "tanh", "xla": False, "d_steps": 2,
                        "optimizer": "rmsprop"},
         "acgan": {"d_hidden": (16,), "g_hidden": (16,), "loss": "xent"},
         "infogan": {"d_hidden": (16,), "g_hidden": (16,), "z_dim": 8, "loss": "xent"},
         # MSE-only for the first 2 iterations: the switch to the adversarial steps
         # falls on the resume.
         "srgan": {"width": 4, "blocks": 1, "d_width": 4, "pretrain_iters": 2,
                   "init": "glorot_normal", "loss": "xent", "xla": False},
         # The history pools full after iteration 1 (2 x 16 images > 20), so their
         # swaps and the learning rate's fall both cross the resume.
         # The labelled images (10 a digit) streamed beside the unlabelled ones, the
         # average of D and the data-dependent init all cross the resume.
         "semi_supervised": {"d_hidden": (16, 16), "g_hidden": (16,), "z_dim": 8,
                             "average_rate": 0.1},
         "cyclegan": {"width": 2, "blocks": 1, "d_width": 2, "init": "dcgan_normal",
                      "xla": False, "pool_size": 20,
                      "decay_start": 1, "decay_iters": 3}}


def main(family: str, data_dir: str, out: str, changes: str = "{}") -> dict:
    cfg = override(Config(), {"family": family, "iters": 4, "snapshot_every": 2,
                              "log_every": 1, "batch_size": 16, "tensorboard": False,
                              **SMALL.get(family, {}), **json.loads(changes)})
    data = load_mnist(data_dir)
    fam = families.get(cfg)
    report = {"family": cfg.family, "config_round_trip": Config.from_json(cfg.to_json()) == cfg}
    a, b = Path(out) / "a", Path(out) / "b"
    quiet = dict(data=data, log=lambda line: None)
    report["status"] = train_lib.train(cfg, a, **quiet)["status"]
    train_lib.train(override(cfg, {"iters": 2}), b, **quiet)
    train_lib.train(train_lib.resume_config(b, {"iters": 4}), b, resume=True, **quiet)
    ck_a, ck_b = RunFolder(a).read_checkpoint(), RunFolder(b).read_checkpoint()
    report["checkpoint_arrays"] = len(ck_a)
    report["resume_differs"] = sorted(k for k in set(ck_a) | set(ck_b)
                                      if k not in ck_a or k not in ck_b
                                      or not np.array_equal(ck_a[k], ck_b[k]))
    report["frames"] = len(sorted((a / "frames").glob("*.png")))
    report["gif"] = (a / "training.gif").exists()
    G = RunFolder(a).load_generator()
    # z, or the 7x7 or 28x28 image a super-resolution or translation G takes
    z = np.random.default_rng(0).uniform(-1, 1, (8, fam.generator_input_dim(cfg))
                                         ).astype(np.float32)
    inputs = [z, np.eye(10, dtype=np.float32)[np.arange(8)]] if cfg.conditional else z
    x = np.asarray(G(inputs, training=False))
    report["generator_shape"] = list(x.shape)
    report["generator_finite"] = bool(np.isfinite(x).all())
    if isinstance(fam, AdversarialFamily):
        D = fam.build_discriminator(cfg)
        y = inputs[1] if cfg.conditional else None
        report["d_shape"] = list(np.asarray(fam.d_logits(D, x, y)).shape)
    print(json.dumps(report))
    return report


if __name__ == "__main__":
    main(*sys.argv[1:5])
