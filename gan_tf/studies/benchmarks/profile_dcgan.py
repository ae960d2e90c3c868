"""Where mnist-dcgan's iteration spends its time, op by op (`python -m gan_tf.bench
--profile`, `make profile-dcgan`).

For each precision, in its own process (as the bench: one measurement per process):
the project's compiled loop (Driver.chunk, mnist-dcgan's networks and moving
average, batch 128) runs a warm-up chunk, then `iters` iterations under TensorFlow's
profiler (tf.profiler.experimental). The trace's XPlane is read back here with the
protobuf TensorFlow ships (no TensorBoard plugin needed): every op the executor ran,
its type and its duration. Ops are summed per iteration

  by kind   convolutions, transposed convolutions and dense layers, each split into
            forward, weight gradient and input gradient (the op's name says which
            layer and whether it is in the gradient tape; its type which pass),
            batch norm, the optimizer, casts, the data gather, and the rest;
  by layer  for each layer with FLOPs, the achieved GFLOP/s of each pass: its
            FLOPs (baselines.dcgan_iteration_flops' counts: a layer's forward, weight
            gradient and input gradient cost the same) over its measured time.

Beside it, the loop's it/s with and without XLA (jit_compile) in both precisions,
and the machine's large-matmul peaks, so a share of the peak can be read off. The
profiler's own overhead is the gap between its traced time per iteration and the
untraced loop's (both printed).
"""

from __future__ import annotations

import collections
import dataclasses
import glob
import json
import re
import sys
import tempfile
import time
from pathlib import Path

import tensorflow as tf
from tensorflow.tsl.profiler.protobuf import xplane_pb2

from gan_tf.data.datasets import load_mnist
from gan_tf.runs.files import locked
# bench.py as a module (this one has a bench() of its own), its functions looked up
# at each call
from gan_tf.studies.benchmarks import bench as mlp_bench
from gan_tf.studies.benchmarks.bench_dcgan import dcgan_cfg, time_trainer
from gan_tf.training import threads
from gan_tf.training.build import build_trainer
from gan_tf.training.threads import cpu_description

# Op name: "while/body/_1/[gradient_tape/]while/{discriminator|generator}_N/LAYER_1/...".
_LAYER = re.compile(r"(gradient_tape/)?(?:while/)?(discriminator|generator)(?:_\d+)?/"
                    r"([a-z0-9_]+?)(?:_\d+)?/")
CONV_TYPES = {"Conv2D", "_FusedConv2D", "Conv2DBackpropInput", "Conv2DBackpropFilter",
              "MatMul", "_FusedMatMul", "BatchMatMulV2"}
# Data movement a fast layer (models/fast_ops.py) adds around its convolution.
LAYOUT_TYPES = {"Transpose", "Pad", "DepthToSpace", "SpaceToDepth", "ReverseV2",
                "StridedSlice", "Reshape"}


def layer_flops(width: int = 64, batch: int = 128, z_dim: int = 100, fc: int = 1024) -> dict:
    """FLOPs of one pass (forward, or either gradient) of each layer over a batch, as
    baselines.dcgan_iteration_flops counts them."""
    w, c = width, 7 * 7 * 2 * width
    per = {("discriminator", "conv1"): 14 * 14 * w * 16, ("discriminator", "conv2"): c * 16 * w,
           ("discriminator", "fc"): c * fc, ("generator", "fc"): z_dim * fc,
           ("generator", "project"): fc * c, ("generator", "deconv1"): c * 16 * w,
           ("generator", "deconv2"): 14 * 14 * w * 16}
    return {k: 2 * v * batch for k, v in per.items()}


# The FLOP-heavy layers: each pass of these gets its own row.
LAYERS = set(layer_flops())
_NET = {"discriminator": "D", "generator": "G"}


def base_type(op_type: str) -> str:
    """The op type before oneDNN's graph rewrite. Where TensorFlow runs with oneDNN
    (by default on x86 CPUs with AVX512_VNNI, AVX512_BF16 or AMX) the trace names its
    kernels _MklMatMul, _MklNativeConv2D, _MklNativePadWithConv2D (the pad fused into
    the convolution), _MklNativeConv2DBackpropFilterWithBias (the bias gradient fused
    in), _MklNativeFusedConv2D...; each is the same op as TensorFlow's own."""
    t = re.sub(r"^_Mkl(Native)?", "", op_type)
    if t == op_type:
        return t
    t = {"PadWithConv2D": "Conv2D", "PadWithFusedConv2D": "_FusedConv2D",
         "Conv2DBackpropFilterWithBias": "Conv2DBackpropFilter"}.get(t, t)
    return "_" + t if t in ("FusedConv2D", "FusedMatMul") else t


def classify(name: str, op_type: str) -> tuple[str, str, str]:
    """(network, layer, pass) of an op: pass is 'forward', 'weight gradient', 'input
    gradient' for a conv or matmul of a layer, else the op's group ('batch norm',
    'optimizer', ...)."""
    name = name.split(":")[0]                # the trace appends ":TYPE"
    op_type = base_type(op_type)
    m = _LAYER.search(name)
    fast = re.search(r"/fast_grad/(input|weight)_gradient/", name)   # models/fast_ops.py
    in_tape = bool(m and m.group(1)) or bool(fast)
    net, layer = (m.group(2), m.group(3)) if m else ("", "")
    if any("adam" in part for part in name.split("/")):     # adam_1/, fused_adam/, ...
        return net, "", "optimizer"
    if op_type == "Cast":
        return net, layer, "casts"
    if op_type in ("GatherV2", "ResourceGather", "StatelessRandomUniformV2",
                   "StatelessRandomGetKeyCounter", "RandomUniform", "StatelessRandomNormalV2"):
        return "", "", "data gather and z"
    if layer.endswith("_bn") or "batch_normalization" in layer:
        return net, layer, "batch norm"
    if fast and m:      # every op of a fast gradient (conv, transposes, pads) is its pass
        return net, layer, f"{fast.group(1)} gradient"
    if op_type in CONV_TYPES and m:
        transposed = "conv_transpose" in name or "deconv" in layer
        if not in_tape:
            return net, layer, "forward"
        if op_type == "Conv2DBackpropFilter":
            return net, layer, "weight gradient"
        if op_type == "Conv2DBackpropInput":
            return net, layer, "input gradient"
        if op_type in ("Conv2D", "_FusedConv2D"):     # a transposed conv's input gradient
            return net, layer, "input gradient" if transposed else "forward"
        # A dense layer's two gradients: TensorFlow names the input gradient
        # .../MatMul (dy @ w^T) and the weight gradient .../MatMul_1 (x^T @ dy).
        return net, layer, "weight gradient" if name.endswith("MatMul_1") else "input gradient"
    if op_type in LAYOUT_TYPES and m and not in_tape and (net, layer) in LAYERS:
        return net, layer, "forward"     # a fast transposed conv's rearrangements
    return net, layer, "elementwise (activations, losses, EMA)"


def op_times(logdir: str) -> list[tuple[str, str, int]]:
    """(op name, op type, picoseconds) of every op the executor ran in the trace."""
    files = sorted(glob.glob(f"{logdir}/**/*.xplane.pb", recursive=True))
    if not files:
        raise RuntimeError(f"the profiler wrote no trace under {logdir}")
    space = xplane_pb2.XSpace()
    with open(files[-1], "rb") as f:
        space.ParseFromString(f.read())
    out = []
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_Compute"):   # the executor's threads
                continue
            for e in line.events:
                md = plane.event_metadata[e.metadata_id]
                if md.display_name:                        # an op (display_name: its type)
                    out.append((md.name, md.display_name, e.duration_ps))
    return out


def profile_one(precision: str, iters: int, data_dir=None) -> dict:
    """The profile of `iters` iterations of mnist-dcgan's loop at `precision` (run in
    its own process: bench.measure's worker)."""

    cfg = dcgan_cfg(precision)
    threads.configure(cfg)
    trainer = build_trainer(cfg, load_mnist(data_dir).train_images)
    trainer.chunk(2)                       # compiles
    t0 = time.perf_counter()
    trainer.chunk(iters)                   # untraced, for the profiler's overhead
    untraced = (time.perf_counter() - t0) / iters
    with tempfile.TemporaryDirectory() as logdir:
        tf.profiler.experimental.start(logdir)
        t0 = time.perf_counter()
        trainer.chunk(iters)
        traced = (time.perf_counter() - t0) / iters
        tf.profiler.experimental.stop()
        ops = op_times(logdir)
    flops = layer_flops(cfg.params.conv_width, cfg.batch_size, cfg.z_dim, cfg.params.dcgan_fc)
    kinds, by_type = collections.Counter(), collections.Counter()
    layer_pass = collections.defaultdict(lambda: [0, 0])   # ps, calls
    for name, op_type, ps in ops:
        net, layer, what = classify(name, op_type)
        kinds[what if (net, layer) not in LAYERS or what not in (
            "forward", "weight gradient", "input gradient")
              else f"{_NET[net]} {layer} {what}"] += ps
        by_type[op_type] += ps
        if (net, layer) in flops and what in ("forward", "weight gradient", "input gradient"):
            if base_type(op_type) in CONV_TYPES:     # one call: its conv or matmul
                layer_pass[(net, layer, what)][1] += 1
            layer_pass[(net, layer, what)][0] += ps
    ms = lambda ps: ps / 1e9 / iters       # noqa: E731  (per iteration)
    rows = []
    for (net, layer, what), (ps, calls) in sorted(layer_pass.items()):
        per_call = ps / max(calls, 1) / 1e12
        rows.append({"network": net, "layer": layer, "pass": what,
                     "calls": calls / iters, "ms": ms(ps),
                     "gflops": flops[(net, layer)] / per_call / 1e9 if per_call else None})
    return {"precision": precision, "iters": iters, "untraced_ms": 1e3 * untraced,
            "traced_ms": 1e3 * traced, "ops_ms": ms(sum(kinds.values())),
            "kinds": {k: ms(v) for k, v in kinds.most_common()},
            "types": {k: ms(v) for k, v in by_type.most_common()}, "layers": rows}


def loop_speed(precision: str, xla: bool, iters: int, data_dir=None) -> float:
    """it/s of mnist-dcgan's compiled loop at `precision`, with or without XLA."""
    cfg = dataclasses.replace(dcgan_cfg(precision), xla=xla)
    return time_trainer(cfg, load_mnist(data_dir).train_images, iters)


PRECISIONS = ("float32", "mixed_bfloat16")


def worker(method: str, iters: int, data_dir=None) -> str:
    """One measurement of `python -m gan_tf.bench --profile`, in its own process:
    'profile:PRECISION' (JSON) or 'loop:PRECISION:xla|no_xla' (it/s)."""
    kind, precision, *rest = method.split(":")
    if kind == "profile":
        return json.dumps(profile_one(precision, iters, data_dir))
    return str(loop_speed(precision, rest == ["xla"], iters, data_dir))


def run(iters: int, data_dir=None, log=print) -> dict:
    """Each precision's profile, then the loop with and without XLA and the matmul
    peaks, each in its own process (the bench's rule)."""
    res = {"iters": iters, "cpu": cpu_description(), "profiles": {}, "loops": {}, "peaks": {}}
    for p in PRECISIONS:
        log(f"profiling {iters} iterations of mnist-dcgan in {p}")
        res["profiles"][p] = json.loads(mlp_bench.run_worker(f"profile:profile:{p}", iters,
                                                             data_dir))
    for p in PRECISIONS:
        for xla in ("no_xla", "xla"):
            # XLA's CPU convolutions are slow: a few iterations tell.
            n = max(3, iters // 4) if xla == "xla" else iters
            log(f"timing {n} iterations of the loop in {p}, {xla.replace('_', ' ')}")
            res["loops"][f"{p} {xla}"] = float(mlp_bench.run_worker(
                f"profile:loop:{p}:{xla}", n, data_dir))
    for dtype in ("float32", "bfloat16"):
        res["peaks"][dtype] = float(mlp_bench.run_worker(f"dcgan:matmul_{dtype}", 1, data_dir))
    return res


def format_report(res: dict) -> str:
    f32, bf16 = (res["profiles"][p] for p in PRECISIONS)
    peaks, loops = res["peaks"], res["loops"]
    lines = [f"mnist-dcgan's iteration (batch 128, dcgan_fc 1024, its moving average of G), "
             f"profiled over {res['iters']} iterations per precision on "
             f"{res.get('cpu', '?')}",
             f"large matmul: float32 {peaks['float32']:.0f} GFLOP/s, bfloat16 "
             f"{peaks['bfloat16']:.0f} GFLOP/s ({peaks['bfloat16'] / peaks['float32']:.2f}x)",
             "loop it/s (untraced, own process): " + ", ".join(
                 f"{k.replace('_', ' ')} {v:.2f}" for k, v in loops.items()),
             f"ms per iteration: float32 {f32['untraced_ms']:.0f} untraced, "
             f"{f32['traced_ms']:.0f} traced, ops {f32['ops_ms']:.0f}; mixed_bfloat16 "
             f"{bf16['untraced_ms']:.0f}, {bf16['traced_ms']:.0f}, {bf16['ops_ms']:.0f}", "",
             f"{'where an iteration goes':<42}{'float32 ms':>11}{'share':>7}"
             f"{'bf16 ms':>9}{'share':>7}"]
    kinds = list(dict.fromkeys(list(f32["kinds"]) + list(bf16["kinds"])))
    for k in sorted(kinds, key=lambda k: -f32["kinds"].get(k, 0)):
        a, b = f32["kinds"].get(k, 0.0), bf16["kinds"].get(k, 0.0)
        lines.append(f"{k:<42}{a:>11.1f}{a / f32['ops_ms']:>7.0%}{b:>9.1f}"
                     f"{b / bf16['ops_ms']:>7.0%}")
    lines += ["", f"{'layer pass (calls per iteration)':<42}{'float32 ms':>11}{'GFLOP/s':>9}"
                  f"{'bf16 ms':>9}{'GFLOP/s':>9}"]
    bf_rows = {(r["network"], r["layer"], r["pass"]): r for r in bf16["layers"]}
    for r in f32["layers"]:
        o = bf_rows.get((r["network"], r["layer"], r["pass"]), {})
        name = f"{r['network'][0].upper()} {r['layer']} {r['pass']} ({r['calls']:.0f})"
        lines.append(f"{name:<42}{r['ms']:>11.1f}{r['gflops'] or 0:>9.0f}"
                     f"{o.get('ms', 0):>9.1f}{o.get('gflops') or 0:>9.0f}")
    lines += ["", "top op types, float32: " + ", ".join(
        f"{k} {v:.0f} ms" for k, v in list(f32["types"].items())[:8]),
              "top op types, bfloat16: " + ", ".join(
        f"{k} {v:.0f} ms" for k, v in list(bf16["types"].items())[:8])]
    return "\n".join(lines)


def bench(iters: int, data_dir=None, out=None, docs=None) -> int:
    """The profile report on stdout, profile-dcgan.json into `out` and, with `docs`,
    into its section of docs/speed.md; the output folder locked throughout."""
    load_mnist(data_dir)   # fail here, in one line, not in a worker
    with locked(Path(out), "benchmark folder", flag="--out"):
        res = run(iters, data_dir, log=lambda line: print(line, file=sys.stderr, flush=True))
        return mlp_bench.publish_report(Path(out), docs, "profile-dcgan", res,
                                        format_report(res))
