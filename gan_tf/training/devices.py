"""Which device a run trains on, said rather than assumed.

TensorFlow falls back to the CPU without a word when its CUDA libraries cannot be
loaded (the "Skipping registering GPU devices" line is an INFO message, hidden by
TF_CPP_MIN_LOG_LEVEL=2, which the Makefile sets). So the "Starting" line names the
device, and a run asked to train on a GPU (`make ... GPU=1`, which exports
GAN_TF_REQUIRE_GPU=1) refuses to start where TensorFlow sees none.
"""

from __future__ import annotations

import os

import tensorflow as tf

from gan_tf.core.errors import UserError

# Set by the Makefile under GPU=1.
REQUIRE_GPU = "GAN_TF_REQUIRE_GPU"
# The command that shows why TensorFlow registered no GPU (its own log, unhidden).
WHY_NO_GPU = ("TF_CPP_MIN_LOG_LEVEL=0 .venv/bin/python -c \"import tensorflow as tf; "
              "print(tf.config.list_physical_devices('GPU'))\"")


def gpus() -> list:
    """The GPUs TensorFlow sees."""
    return tf.config.list_physical_devices("GPU")


def check_required(environ=os.environ) -> None:
    """Refuse, in one line, a run that must train on a GPU where TensorFlow sees none."""
    if environ.get(REQUIRE_GPU, "") not in ("", "0") and not gpus():
        raise UserError(f"GPU=1 but TensorFlow sees no GPU (it would train on the CPU); "
                        f"to see why, run: {WHY_NO_GPU}")


def default_xla(changes: dict) -> dict:
    """The train command's changes with --xla on where a GPU is visible, unless the
    user chose (--xla, --no-xla): off XLA every op of the loop is a launch of its
    own and a GPU runs slower than this 2-core CPU (../shared/gpu/README.md measured
    434 against 12,200 it/s); experiments that turn XLA off do so for CPUs, whose
    own convolution kernels beat XLA's."""
    if "xla" not in changes and gpus():
        return {**changes, "xla": True}
    return changes


def set_precision(cfg) -> None:
    """float32 means float32: TensorFlow lets NVIDIA GPUs from Ampere on compute
    float32 matmuls and convolutions in TensorFloat-32 (10-bit mantissas) unless told
    not to; a run does so only with cfg.tf32, which its config.json states."""
    tf.config.experimental.enable_tensor_float_32_execution(cfg.tf32)


def describe(strategy=None) -> str:
    """The device the run's loop runs on, for the Starting line: 'GPU 0 (NVIDIA H100
    80GB HBM3)' or 'CPU (its model name ...)'; under a strategy, its devices."""
    if strategy is not None:
        return ", ".join(strategy.extended.worker_devices)
    found = gpus()
    if found:
        details = tf.config.experimental.get_device_details(found[0])
        return f"GPU 0 ({details.get('device_name', 'unnamed')})"
    from gan_tf.training.threads import cpu_description
    return f"CPU ({cpu_description()})"
