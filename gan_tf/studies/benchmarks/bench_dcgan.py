"""How fast the DCGAN trains on this CPU, side by side (`python -m gan_tf.bench --dcgan`,
`make bench-dcgan`).

One process per measurement, the methods interleaved within each repeat (these
machines are noisy: compare ratios measured in the same run, not absolute times):
  tf_float32     the project's compiled DCGAN loop (Driver.chunk) as mnist-dcgan
                 trains (its networks with dcgan_fc 1024, its moving average of G),
                 batch 128, in float32
  tf_bfloat16    the same loop with precision mixed_bfloat16
  torch_float32  the same DCGAN and iteration in PyTorch eager on the CPU
  torch_bfloat16 the same with torch.autocast('cpu', torch.bfloat16)
  tf_tutorial    TensorFlow's DCGAN tutorial as written (its networks, train_step and
                 tf.data input, batch 256): what a TF user starts from
  tf_tutorial_project  the tutorial's recipe in the project's loop (bfloat16)
  matmul_float32, matmul_bfloat16  a 2048x2048 matmul: the machine's peaks
plus the peak RSS of a bfloat16 mnist-dcgan training process. The tutorial runs
are compared in images per second (its batch is twice as large). Each row also says
what an epoch costs at that speed and, for the four DCGAN loops, its share of the
large matmul's GFLOP/s in its own precision; the head names the CPU and whether it
has bfloat16 units, which decide every bfloat16 ratio.
"""

from __future__ import annotations

import dataclasses
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_tf.core.experiments import load_experiment
from gan_tf.data.datasets import load_mnist
from gan_tf.runs.files import locked
from gan_tf.studies.benchmarks import baselines
# bench.py as a module (this one has a bench() of its own), its functions looked up
# at each call
from gan_tf.studies.benchmarks import bench as mlp_bench

# The training modules (TensorFlow) are imported in the functions that use them: the
# PyTorch measurements (dcgan:torch_*) run in processes that import this module.

# Issue 35's targets: ratios of medians measured in the same run, and each gan-tf
# loop's share of the machine's own large-matmul peak in its precision.
TARGETS = {"bf16_over_f32": 1.8, "bf16_over_torch_bf16": 1.2, "f32_over_torch_f32": 1.3}
PEAK_SHARE_TARGETS = {"tf_bfloat16": 0.55, "tf_float32": 0.60}
TRAIN_IMAGES = 55_000      # MNIST's training split less the 5,000 validation images
METHODS = ("tf_float32", "tf_bfloat16", "torch_float32", "torch_bfloat16", "tf_tutorial",
           "tf_tutorial_project")
BATCH = {"tf_tutorial": 256, "tf_tutorial_project": 256}


def dcgan_cfg(precision: str):
    """mnist-dcgan's training config at `precision` (its quality curve is measured
    between chunks, outside the loop timed here)."""
    return dataclasses.replace(load_experiment("mnist-dcgan"), precision=precision,
                               eval_every=0)


def _tutorial_cfg(precision: str = "float32"):
    return dataclasses.replace(load_experiment("mnist-dcgan-tf-tutorial"),
                               precision=precision)


def time_trainer(cfg, images, iters: int) -> float:
    """it/s of the project's compiled loop alone (the first, compiling chunk excluded),
    in chunks of log_every as the training loop runs them."""
    from gan_tf.training import threads  # lazy: see the note at the top
    from gan_tf.training.build import build_trainer
    threads.configure(cfg)
    trainer = build_trainer(cfg, images)
    trainer.chunk(2)
    done, t0 = 0, time.perf_counter()
    while done < iters:
        n = min(cfg.log_every, iters - done)
        trainer.chunk(n)
        done += n
    return iters / (time.perf_counter() - t0)


def measure_one(method: str, iters: int, data_dir) -> float:
    """One measurement (in its own process): it/s, or GFLOP/s for the matmuls."""
    if method.startswith("matmul_"):
        return baselines.time_matmul(dtype=method.split("_", 1)[1])
    images = load_mnist(data_dir).train_images
    if method in ("tf_float32", "tf_bfloat16"):
        return time_trainer(dcgan_cfg("mixed_bfloat16" if method == "tf_bfloat16"
                                       else "float32"), images, iters)
    if method in ("torch_float32", "torch_bfloat16"):
        return baselines.time_torch_dcgan(images, iters, method == "torch_bfloat16",
                                          fc=dcgan_cfg("float32").params.dcgan_fc)
    if method == "tf_tutorial":
        return baselines.time_tf_tutorial_dcgan(_tutorial_cfg(), images, iters)
    if method == "tf_tutorial_project":
        return time_trainer(_tutorial_cfg("mixed_bfloat16"), images, iters)
    raise ValueError(method)


def peak_rss(data_dir, iters: int) -> float:
    """GiB: the peak RSS of `python -m gan_tf.train --experiment mnist-dcgan` (bfloat16,
    its moving average and quality curve included) over `iters` iterations."""
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "gan_tf.train", "--experiment", "mnist-dcgan",
               "--iters", str(iters), "--eval-every", str(iters), "--log-every",
               str(iters), "--snapshot-every", str(iters), "--no-tensorboard",
               "--run-dir", f"{tmp}/run"] + (["--data-dir", str(data_dir)] if data_dir else [])
        proc = subprocess.Popen(cmd, env=mlp_bench.child_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        peak = 0
        while proc.poll() is None:
            peak = max(peak, mlp_bench.peak_rss_kib(proc.pid))
            time.sleep(0.05)
        if proc.returncode != 0:
            raise RuntimeError(f"training subprocess failed: {' '.join(cmd)}")
    return round(peak / 2 ** 20, 3)


def run(repeats: int, iters: int, data_dir=None, log=print) -> dict:
    methods = [m for m in METHODS
               if baselines.torch_available() or not m.startswith("torch")]
    raw = {m: [] for m in methods + ["matmul_float32", "matmul_bfloat16"]}
    for r in range(repeats):   # interleaved: drift hits every method alike
        for m in raw:
            raw[m].append(mlp_bench.measure(f"dcgan:{m}", "log",
                                            1 if m.startswith("matmul") else iters, data_dir))
        log(f"repeat {r + 1}/{repeats}: " + ", ".join(f"{k} {v[-1]:.1f}" for k, v in raw.items()))
    from gan_tf.training.threads import cpu_description  # lazy: see the note at the top
    res = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                       "cpu": cpu_description()},
           "iters": iters, "torch": baselines.torch_available(),
           "flops_per_iteration": baselines.dcgan_iteration_flops(
               fc=dcgan_cfg("float32").params.dcgan_fc),
           **{k: mlp_bench.spread_summary(v) for k, v in raw.items()}}
    med = {k: res[k]["median"] for k in raw}
    res["ratios"] = {"bf16_over_f32": med["tf_bfloat16"] / med["tf_float32"],
                     "tutorial_project_over_tutorial": med["tf_tutorial_project"]
                     / med["tf_tutorial"]}
    if res["torch"]:
        res["ratios"].update(
            f32_over_torch_f32=med["tf_float32"] / med["torch_float32"],
            bf16_over_torch_bf16=med["tf_bfloat16"] / med["torch_bfloat16"],
            torch_bf16_over_torch_f32=med["torch_bfloat16"] / med["torch_float32"])
    flops = res["flops_per_iteration"]["iteration"]
    res["peak_share"] = {m: med[m] * flops / 1e9 / med["matmul_" + ("bfloat16" if "bfloat16" in m
                                                                    else "float32")]
                         for m in ("tf_float32", "tf_bfloat16", "torch_float32",
                                   "torch_bfloat16") if m in med}
    res["epoch_s"] = {m: epoch_seconds(med[m], BATCH.get(m, 128)) for m in METHODS
                      if m in med}
    log("measuring the peak memory of a bfloat16 mnist-dcgan training process")
    res["peak_rss_gib"] = peak_rss(data_dir, 86)
    res["targets"] = {f"{k} >= {v}x": res["ratios"][k] >= v for k, v in TARGETS.items()
                      if k in res["ratios"]}
    res["targets"].update({f"{m} >= {v:.0%} of its precision's peak": res["peak_share"][m] >= v
                           for m, v in PEAK_SHARE_TARGETS.items()})
    return res


def epoch_seconds(it_per_s: float, batch: int) -> float:
    """Seconds for one pass over the training images at `it_per_s` iterations of
    `batch` (the last, partial batch counted as a whole one, as the loop draws it)."""
    return -(-TRAIN_IMAGES // batch) / it_per_s


def format_report(res: dict) -> str:
    f = res["flops_per_iteration"]
    lines = [f"mnist-dcgan's iteration: {f['iteration'] / 1e9:.1f} GFLOP (convolutions and "
             f"dense layers, counted by hand; D step {f['d_step'] / 1e9:.1f}, G step "
             f"{f['g_step'] / 1e9:.1f})",
             f"host: {res['machine'].get('cpu', '?')}, {res['machine']['cpus']} cores",
             f"large matmul: float32 {res['matmul_float32']['median']:.0f} GFLOP/s, bfloat16 "
             f"{res['matmul_bfloat16']['median']:.0f} GFLOP/s "
             f"({res['matmul_bfloat16']['median'] / res['matmul_float32']['median']:.2f}x)", "",
             f"{'method':<52}{'it/s':>7}{'spread':>14}{'images/s':>10}{'s/epoch':>9}"
             f"{'of peak':>9}"]
    names = {"tf_float32": "gan-tf loop, float32", "tf_bfloat16": "gan-tf loop, mixed_bfloat16",
             "torch_float32": "PyTorch eager, float32",
             "torch_bfloat16": "PyTorch eager, bfloat16 autocast",
             "tf_tutorial": "TF's DCGAN tutorial as written (batch 256, float32)",
             "tf_tutorial_project": "its recipe in gan-tf's loop (batch 256, bfloat16)"}
    for key, name in names.items():
        if key in res:
            s = res[key]
            share = res["peak_share"].get(key)
            lines.append(f"{name:<52}{s['median']:>7.2f}{s['min']:>7.2f}-{s['max']:<6.2f}"
                         f"{s['median'] * BATCH.get(key, 128):>10.0f}"
                         f"{res['epoch_s'][key]:>9.0f}"
                         f"{'' if share is None else f'{share:.0%}':>9}")
    if not res["torch"]:
        lines.append("(PyTorch rows skipped: pip install torch==2.13.0 for the CPU build)")
    lines += ["", "ratios: " + ", ".join(f"{k} {v:.2f}x" for k, v in res["ratios"].items()),
              f"peak RSS of a bfloat16 mnist-dcgan training process: "
              f"{res['peak_rss_gib']:.2f} GiB", "",
              "of peak: the loop's FLOPs per second over the large matmul's in its own "
              "precision", "", "targets (issue 35):"]
    lines += [f"  [{'PASS' if ok else 'MISS'}] {name}" for name, ok in res["targets"].items()]
    return "\n".join(lines)


def bench(repeats: int, iters: int, data_dir=None, out=None, docs=None,
          worker: str | None = None) -> int:
    """The DCGAN benchmark: bench-dcgan.json into `out`, the report on stdout and, with
    `docs`, into its section; `worker` (METHODS, or a matmul) is the internal mode of
    one measurement in a subprocess (`python -m gan_tf.bench --worker dcgan:NAME`,
    which bench.measure runs): it prints one number."""
    if worker:
        print(measure_one(worker, iters, data_dir))
        return 0
    load_mnist(data_dir)   # fail here, in one line, not in a worker
    # as bench.bench: one at a time
    with locked(Path(out), "benchmark folder", flag="--out"):
        res = run(repeats, iters, data_dir,
                  log=lambda line: print(line, file=sys.stderr, flush=True))
        return mlp_bench.publish_report(Path(out), docs, "bench-dcgan", res,
                                        format_report(res))
