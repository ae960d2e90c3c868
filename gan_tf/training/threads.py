"""TensorFlow's inter-op pool, set so that a convolutional run is reproducible on a CPU.

The MLP GANs' XLA-compiled loop is bit-identical run to run as it is. The DCGANs run
off XLA, on TensorFlow's own (oneDNN) kernels; with TensorFlow's default pools, ops
that can run side by side (the graph's independent branches: batch-norm statistics,
gradient sums) finish in an order that varies, and two identical 10-iteration
mnist-dcgan runs differed in 51 of 55 checkpoint arrays (from iteration 1 to 4 on;
neither enable_op_determinism nor TF_ENABLE_ONEDNN_OPTS=0 changed that). One
inter-op thread (ops one after another; each op still uses every core, intra-op)
makes them bit-identical, at a cost measured side by side in docs/run-folder.md.

The pools can only be set before TensorFlow runs its first op: the train command
does so (training.run.train calls `configure` before any TensorFlow work); a
process that ran TensorFlow before (a notebook, a test) keeps its pools, and
`configure` then says whether they already are the deterministic ones.
"""

from __future__ import annotations

import platform

import tensorflow as tf

from gan_tf.families import get


def needs_one_inter_op_thread(cfg) -> bool:
    """Runs of cfg are reproducible only with one inter-op thread: the convolutional
    families (the DCGANs), on a CPU. Where TensorFlow sees a GPU the ops run there,
    and one inter-op thread would only serialise their dispatch from the host."""
    return get(cfg).convolutional and not tf.config.list_physical_devices("GPU")


def configure(cfg) -> bool:
    """Set the pools cfg's run needs, if TensorFlow lets; whether runs of cfg are now
    bit-reproducible in this process."""
    if not needs_one_inter_op_thread(cfg):
        return True
    try:
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:   # TensorFlow is initialised: the pools are what they are
        pass
    return tf.config.threading.get_inter_op_parallelism_threads() == 1


def cpu_bfloat16_units(cpuinfo: str = "/proc/cpuinfo") -> bool | None:
    """Whether this CPU computes in bfloat16 natively (AVX512_BF16 or AMX), from the
    kernel's flags; None where it cannot tell (not Linux, no flags line)."""
    try:
        with open(cpuinfo) as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return None


def cpu_description(cpuinfo: str = "/proc/cpuinfo") -> str:
    """The CPU's model name and whether it has bfloat16 units, for a benchmark's head:
    every speed figure is this host's, and bfloat16's ratios turn on those units."""
    name = platform.processor() or platform.machine()
    try:
        with open(cpuinfo) as f:
            name = next((line.split(":", 1)[1].strip() for line in f
                         if line.startswith("model name")), name)
    except OSError:
        pass
    units = {True: "with bfloat16 units", False: "no bfloat16 units",
             None: "bfloat16 units unknown"}[cpu_bfloat16_units(cpuinfo)]
    return f"{name} ({units})"


def slow_precision_note(cfg) -> str | None:
    """A line for a run in mixed_bfloat16 on a CPU without bfloat16 units (no GPU),
    where TensorFlow converts every bfloat16 op to float32 and back: measured on an
    AVX2-only host (docs/speed.md), mnist-dcgan's loop ran 0.32 it/s in
    mixed_bfloat16 against 1.48 in float32."""
    if cfg.precision != "mixed_bfloat16" or cpu_bfloat16_units() is not False:
        return None
    if tf.config.list_physical_devices("GPU"):
        return None
    return ("note: this CPU has no bfloat16 units (neither avx512_bf16 nor amx_bf16 in "
            "/proc/cpuinfo), where mixed_bfloat16 runs several times slower than float32 "
            "(docs/speed.md); add --precision float32 to train faster here")
