"""How fast is training, side by side (`python -m gan_tf.bench`, `make bench`).

For the vanilla GAN (batch 128), both loss variants, in one process and
interleaved (these machines are noisy: compare ratios, not absolute times):
  (a) the project's loop as users run it: train() with snapshots, checkpoints, logs
  (b) the TF1-style loop: a tf.function per step fed NumPy batches (feed_dict)
  (c) the same GAN in PyTorch eager on the CPU (skipped if torch is absent)
  (d) a large matmul in float32 and in bfloat16, the machine's practical GFLOP/s
      ceilings (each loop's share is of its own precision's)
plus time to first iteration and peak memory of a training subprocess. Prints a
table with median and spread of each, the ratios and the targets, and writes
bench.json into the output folder.
"""

from __future__ import annotations

import dataclasses
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gan_tf.core.config import MAX_SEEDS, Config
from gan_tf.core.errors import UserError
from gan_tf.data.datasets import load_mnist
from gan_tf.evaluation.results import update_section
from gan_tf.runs.files import atomic_write_text, locked
from gan_tf.runs.folder import RunFolder
from gan_tf.runs.outputs import BENCH, OUTPUTS
from gan_tf.studies.benchmarks import baselines

# The training modules (TensorFlow) are imported in the functions that use them: the
# PyTorch measurement (--worker c) runs in a process that imports this module.


def child_env() -> dict:
    """The environment of a benchmark subprocess: this checkout importable."""
    return {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}


EPOCH_ITERS = 430    # ceil(55,000 training images / batch 128)
BF16_TARGET = 1.5   # issue 21: the tutorial's MLP GAN in bfloat16 against float32
TARGETS = {"a_over_b": 2.5, "a_over_c": 2.5, "matmul_fraction": 0.60,
           "peak_rss_gib": 2.0, "first_iteration_s": 15.0}


def time_project_loop(cfg: Config, mnist, iters: int) -> float:
    """it/s of train() itself, snapshots included; the first (compiling) chunk is
    excluded by train()'s own clock."""
    from gan_tf.training.run import train  # lazy: see the note at the top
    with tempfile.TemporaryDirectory() as tmp:
        cfg = dataclasses.replace(cfg, iters=iters)
        return train(cfg, Path(tmp) / "run", data=mnist, log=lambda line: None)["it_per_s"]


def time_loop_only(cfg: Config, mnist, iters: int) -> float:
    """it/s of the compiled loop alone (Driver.chunk), without train()'s snapshots,
    checkpoints and logs: (a) minus this is what the bookkeeping costs."""
    from gan_tf.training.build import build_trainer  # lazy: see the note at the top
    trainer = build_trainer(cfg, mnist.train_images)
    trainer.chunk(cfg.log_every)                      # compile
    calls = max(1, iters // cfg.log_every)
    t0 = time.perf_counter()
    for _ in range(calls):
        trainer.chunk(cfg.log_every)
    return calls * cfg.log_every / (time.perf_counter() - t0)


def first_iteration_and_memory(data_dir, iters: int) -> dict:
    """A real `python -m gan_tf.train` subprocess: seconds from launch to its first
    stats record (imports, data load, compile, 100 iterations), and its peak RSS."""
    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        cmd = [sys.executable, "-m", "gan_tf.train", "--iters", str(iters), "--run-dir",
               str(run), "--log-every", "100", "--no-tensorboard"]
        if data_dir:
            cmd += ["--data-dir", str(data_dir)]
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=child_env(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        first, peak_kib = None, 0
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            peak_kib = max(peak_kib, peak_rss_kib(proc.pid))
            if first is None and RunFolder(run).read_stats():
                first = time.perf_counter() - t0
            time.sleep(0.02)
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            raise RuntimeError(f"training subprocess failed: {' '.join(cmd)}")
        if first is None:
            first = time.perf_counter() - t0
    # Without /proc, wait4's figure; it can include this parent's size at the fork.
    rss = (peak_kib or usage.ru_maxrss) / 2 ** 20      # KiB
    return {"first_iteration_s": round(first, 2), "peak_rss_gib": round(rss, 3),
            "iters": iters}


def peak_rss_kib(pid: int) -> int:
    """The process's own peak RSS (VmHWM) so far, 0 where /proc is unreadable. Not
    wait4's ru_maxrss: Linux carries the forking parent's RSS across exec into it, so
    a child of a large process (a test run holding many models) reads as large."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def measure(method: str, loss: str, iters: int, data_dir=None, extra=()) -> float:
    """One measurement in a fresh subprocess, so no library's idle threads (TF's
    spinning pools, torch's OpenMP) steal cores from another's measurement."""
    return float(run_worker(method, iters, data_dir, ["--loss", loss, *extra]))


def run_worker(method: str, iters: int, data_dir=None, extra=()) -> str:
    """The last line `python -m gan_tf.bench --worker METHOD` prints, in a fresh
    subprocess (measure's, and the profile's, which prints JSON)."""
    cmd = [sys.executable, "-m", "gan_tf.bench", "--worker", method, "--iters", str(iters),
           *extra] + (["--data-dir", str(data_dir)] if data_dir else [])
    out = subprocess.run(cmd, env=child_env(), capture_output=True, text=True)
    if out.returncode != 0:
        raise RuntimeError(f"benchmark worker failed: {' '.join(cmd)}\n{out.stderr[-2000:]}")
    return out.stdout.strip().splitlines()[-1]


def _worker(method: str, loss: str, iters: int, data_dir, seeds: int = 8) -> float:
    if method.startswith("seed_loops_"):
        return time_seed_loops(seeds, load_mnist(data_dir), iters,
                               stacked=method.endswith("stacked"))
    if method == "matmul":
        return baselines.time_matmul()
    if method == "matmul_bfloat16":
        return baselines.time_matmul(dtype="bfloat16")
    if method == "gemm_shapes":
        return baselines.time_iteration_gemms(Config.of(loss=loss), iters)
    mnist = load_mnist(data_dir)
    cfg = Config.of(loss=loss)
    if method == "a":
        return time_project_loop(cfg, mnist, iters)
    if method == "loop_only":
        return time_loop_only(cfg, mnist, iters)
    if method == "loop_no_xla":
        return time_loop_only(dataclasses.replace(cfg, xla=False), mnist, iters)
    if method == "loop_bf16":
        return time_loop_only(dataclasses.replace(cfg, precision="mixed_bfloat16"), mnist,
                              iters)
    if method == "loop_bf16_no_xla":
        return time_loop_only(dataclasses.replace(cfg, precision="mixed_bfloat16",
                                                  xla=False), mnist, iters)
    if method == "b":
        return baselines.time_tf1_style(cfg, mnist.train_images, iters)
    if method == "c":
        return baselines.time_torch(cfg, mnist.train_images, iters)
    raise ValueError(method)


# --- seed sweeps: N seeds as one stack against N runs one after another

def time_seed_loops(n_seeds: int, mnist, iters: int, stacked: bool) -> float:
    """Seed-iterations/s of the compiled loops alone (compilation excluded): N single
    Trainers one after another, or one SeedStack of N seeds."""
    from gan_tf.training.build import build_trainer  # lazy: see the note at the top
    from gan_tf.training.stack import SeedStack
    cfg = Config()
    trainers = ([SeedStack(cfg, list(range(n_seeds)), mnist.train_images)] if stacked
                else [build_trainer(dataclasses.replace(cfg, seed=s), mnist.train_images)
                      for s in range(n_seeds)])
    elapsed = 0.0
    for t in trainers:
        t.chunk(10)                                       # compile
        t0 = time.perf_counter()
        t.chunk(iters)
        elapsed += time.perf_counter() - t0
    return n_seeds * iters / elapsed


def time_seed_runs(n_seeds: int, iters: int, stacked: bool, data_dir=None) -> float:
    """Seed-iterations/s of whole `python -m gan_tf.train` processes, as a user runs
    them (start-up, compiling, frames, checkpoints, GIF, plot, generator): N commands
    with --seed s one after another, or one command with --seeds N."""
    common = ["--iters", str(iters)] + (["--data-dir", str(data_dir)] if data_dir else [])
    with tempfile.TemporaryDirectory() as tmp:
        cmds = ([["--seeds", str(n_seeds), "--run-dir", f"{tmp}/sweep"]] if stacked
                else [["--seed", str(s), "--run-dir", f"{tmp}/seed-{s}"]
                      for s in range(n_seeds)])
        t0 = time.perf_counter()
        for args in cmds:
            subprocess.run([sys.executable, "-m", "gan_tf.train", *args, *common],
                           env=child_env(), check=True, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        return n_seeds * iters / (time.perf_counter() - t0)


def run_sweep_bench(n_seeds=8, repeats=2, loop_iters=1000, run_iters=3000, data_dir=None,
                    log=print) -> dict:
    """Interleaved repeats of the four measurements; their medians and the ratios."""
    raw = {k: [] for k in ("loops_sequential", "loops_stacked", "runs_sequential",
                           "runs_stacked")}
    matmul = []
    for r in range(repeats):
        matmul.append(measure("matmul", "log", 1, data_dir))
        for key in raw:
            what, how = key.split("_")
            if what == "loops":
                v = measure(f"seed_loops_{how}", "log", loop_iters, data_dir,
                            extra=["--seeds", str(n_seeds)])
            else:
                v = time_seed_runs(n_seeds, run_iters, how == "stacked", data_dir)
            raw[key].append(v)
            log(f"repeat {r + 1}/{repeats}: {key} {v:.0f} seed-iterations/s")
    res = {"seeds": n_seeds, "loop_iters": loop_iters, "run_iters": run_iters,
           **{k: spread_summary(v) for k, v in raw.items()}}
    res["loops_ratio"] = res["loops_stacked"]["median"] / res["loops_sequential"]["median"]
    res["runs_ratio"] = res["runs_stacked"]["median"] / res["runs_sequential"]["median"]
    # The roofline: what share of the machine's matmul speed each loop already uses.
    # A stack can only gain what the single loop leaves idle.
    flops = baselines.iteration_flops(Config())["iteration"]
    res["matmul_gflops"] = spread_summary(matmul)
    for key in ("loops_sequential", "loops_stacked"):
        res[f"{key}_matmul_fraction"] = (res[key]["median"] * flops / 1e9
                                         / res["matmul_gflops"]["median"])
    return res


def format_sweep_report(res: dict, peak_gflops: float | None = None) -> str:
    n = res["seeds"]
    lines = [f"{n} seeds of mnist-basic, seed-iterations/s (median, spread):"]
    for key, text in (("loops_sequential", f"compiled loops, {n} runs one after another"),
                      ("loops_stacked", f"compiled loop, {n} seeds as one stack"),
                      ("runs_sequential", f"{n} `gan_tf.train --seed s` commands, "
                                          f"{res['run_iters']} iterations each"),
                      ("runs_stacked", f"one `gan_tf.train --seeds {n}` command")):
        s = res[key]
        lines.append(f"  {text:<58}{s['median']:>8.1f}  {s['min']:.1f}-{s['max']:.1f}")
    if "matmul_gflops" in res:
        lines.append(f"  large matmul {res['matmul_gflops']['median']:.1f} GFLOP/s; the "
                     f"loops use {res['loops_sequential_matmul_fraction']:.0%} (one after "
                     f"another) and {res['loops_stacked_matmul_fraction']:.0%} (stacked) of "
                     f"it: a stack gains only what one run leaves idle")
    lines += [f"  ratio, compiled loops: {res['loops_ratio']:.2f}x; whole commands: "
              f"{res['runs_ratio']:.2f}x",
              f"  [{'PASS' if res['runs_ratio'] >= SWEEP_TARGET else 'MISS'}] whole commands: "
              f"stack >= {SWEEP_TARGET}x one after another",
              f"  [{'PASS' if res['loops_ratio'] >= SWEEP_TARGET else 'MISS'}] compiled loops: "
              f"stack >= {SWEEP_TARGET}x one after another"]
    return "\n".join(lines)


SWEEP_TARGET = 2.0


def spread_summary(values):
    return {"median": statistics.median(values), "min": min(values), "max": max(values),
            "runs": [round(v, 2) for v in values]}


def run_bench(repeats=3, iters_a=5000, iters_b=1000, iters_c=1000, memory_iters=20000,
              data_dir=None, log=print) -> dict:
    use_torch = baselines.torch_available()
    flops = baselines.iteration_flops(Config())
    from gan_tf.training.threads import cpu_description  # lazy: see the note at the top
    results = {"machine": {"cpus": os.cpu_count(), "platform": platform.platform(),
                           "cpu": cpu_description()},
               "flops_per_iteration": flops, "torch": use_torch, "variants": {},
               "method": "each measurement in its own subprocess, methods interleaved "
                         "within each repeat; it/s excludes start-up and compilation"}
    methods = {"a": iters_a, "loop_only": iters_a, "loop_no_xla": iters_b,
               "loop_bf16": iters_a, "loop_bf16_no_xla": iters_b, "b": iters_b,
               **({"c": iters_c} if use_torch else {})}
    raw = {loss: {m: [] for m in methods} for loss in ("log", "xent")}
    matmul, matmul_bf16, gemms = [], [], []
    for r in range(repeats):     # interleaved, so drift hits every method alike
        matmul.append(measure("matmul", "log", 1, data_dir))
        matmul_bf16.append(measure("matmul_bfloat16", "log", 1, data_dir))
        gemms.append(measure("gemm_shapes", "log", iters_a, data_dir))
        for loss in raw:
            for m, n in methods.items():
                raw[loss][m].append(measure(m, loss, n, data_dir))
            log(f"repeat {r + 1}/{repeats} {loss}: " + ", ".join(
                f"{k} {v[-1]:.0f} it/s" for k, v in raw[loss].items()))
    results["matmul_gflops"] = spread_summary(matmul)
    results["matmul_bfloat16_gflops"] = spread_summary(matmul_bf16)
    results["iteration_gemms_only_gflops"] = spread_summary(gemms)
    peak = results["matmul_gflops"]["median"]
    names = {"a": "a_project_loop", "loop_only": "compiled_loop_only",
             "loop_no_xla": "compiled_loop_without_xla", "loop_bf16": "compiled_loop_bf16",
             "loop_bf16_no_xla": "compiled_loop_bf16_without_xla", "b": "b_tf1_style",
             "c": "c_torch_eager"}
    for loss, m in raw.items():
        v = {names[k]: spread_summary(vals) for k, vals in m.items()}
        a = v["a_project_loop"]["median"]
        v["a_over_b"] = a / v["b_tf1_style"]["median"]
        bf16 = max(v["compiled_loop_bf16"]["median"],
                   v["compiled_loop_bf16_without_xla"]["median"])
        v["bf16_over_f32"] = bf16 / v["compiled_loop_only"]["median"]
        v["bf16_peak_fraction"] = (bf16 * flops["iteration"] / 1e9
                                   / results["matmul_bfloat16_gflops"]["median"])
        v["epoch_s"] = {k: EPOCH_ITERS / s["median"] for k, s in v.items()
                        if isinstance(s, dict)}
        if use_torch:
            v["a_over_c"] = a / v["c_torch_eager"]["median"]
        v["a_gflops"] = a * flops["iteration"] / 1e9
        v["matmul_fraction"] = v["a_gflops"] / peak
        v["gemm_shapes_fraction"] = v["a_gflops"] / results["iteration_gemms_only_gflops"][
            "median"]
        results["variants"][loss] = v
    log("measuring time to first iteration and peak memory of a training process")
    results["process"] = first_iteration_and_memory(data_dir, memory_iters)
    results["targets"] = check_targets(results)
    return results


def check_targets(res: dict) -> dict:
    out = {}
    for loss, v in res["variants"].items():
        out[f"{loss}: a >= {TARGETS['a_over_b']}x b"] = v["a_over_b"] >= TARGETS["a_over_b"]
        if "a_over_c" in v:
            out[f"{loss}: a >= {TARGETS['a_over_c']}x c"] = v["a_over_c"] >= TARGETS["a_over_c"]
        out[f"{loss}: a >= {TARGETS['matmul_fraction']:.0%} of matmul GFLOP/s"] = \
            v["matmul_fraction"] >= TARGETS["matmul_fraction"]
        if "bf16_over_f32" in v:
            out[f"{loss}: bfloat16 loop >= {BF16_TARGET}x float32"] = \
                v["bf16_over_f32"] >= BF16_TARGET
    p = res["process"]
    out[f"peak RSS < {TARGETS['peak_rss_gib']} GiB"] = p["peak_rss_gib"] < TARGETS["peak_rss_gib"]
    out[f"first iteration < {TARGETS['first_iteration_s']} s"] = \
        p["first_iteration_s"] < TARGETS["first_iteration_s"]
    return out


def format_report(res: dict) -> str:
    f = res["flops_per_iteration"]
    lines = [f"FLOPs per iteration (matmuls, counted by hand): {f['iteration'] / 1e6:.1f} M "
             f"(D step {f['d_step'] / 1e6:.1f} M, G step {f['g_step'] / 1e6:.1f} M)",
             f"host: {res['machine'].get('cpu', '?')}, {res['machine']['cpus']} cores",
             f"large matmul: {res['matmul_gflops']['median']:.1f} GFLOP/s "
             f"(spread {res['matmul_gflops']['min']:.1f}-{res['matmul_gflops']['max']:.1f})"
             + (f"; bfloat16 {res['matmul_bfloat16_gflops']['median']:.1f} GFLOP/s"
                if "matmul_bfloat16_gflops" in res else ""),
             f"the iteration's own matmul shapes alone, in the same XLA loop: "
             f"{res['iteration_gemms_only_gflops']['median']:.1f} GFLOP/s",
             "", f"{'loss':<6}{'method':<34}{'it/s median':>12}{'spread':>16}{'s/epoch':>9}"]
    names = {"a_project_loop": "(a) project loop, snapshots incl.",
             "compiled_loop_only": "    its compiled loop alone",
             "compiled_loop_without_xla": "    that loop without XLA",
             "compiled_loop_bf16": "    its loop in mixed_bfloat16",
             "compiled_loop_bf16_without_xla": "    that, without XLA",
             "b_tf1_style": "(b) TF1-style per-step feed",
             "c_torch_eager": "(c) PyTorch eager CPU"}
    for loss, v in res["variants"].items():
        for key, name in names.items():
            if key in v:
                s = v[key]
                lines.append(f"{loss:<6}{name:<34}{s['median']:>12.1f}"
                             f"{s['min']:>8.1f}-{s['max']:<7.1f}"
                             f"{v['epoch_s'][key] if 'epoch_s' in v else float('nan'):>9.2f}")
        extra = f", a/c {v['a_over_c']:.2f}x" if "a_over_c" in v else ", (c) skipped: no torch"
        share = (f", {v['bf16_peak_fraction']:.0%} of the bfloat16 matmul"
                 if "bf16_peak_fraction" in v else "")
        lines.append(f"{'':<6}bfloat16's best loop / float32's: {v['bf16_over_f32']:.2f}x "
                     f"(target {BF16_TARGET}x){share}")
        lines.append(f"{'':<6}ratios: a/b {v['a_over_b']:.2f}x{extra}; (a) achieves "
                     f"{v['a_gflops']:.1f} GFLOP/s = {v['matmul_fraction']:.0%} of the large "
                     f"matmul, {v['gemm_shapes_fraction']:.0%} of its own shapes' matmuls")
    p = res["process"]
    lines += ["", f"training process ({p['iters']} iterations): first iteration after "
              f"{p['first_iteration_s']:.1f} s, peak RSS {p['peak_rss_gib']:.2f} GiB", "",
              "targets:"]
    lines += [f"  [{'PASS' if ok else 'MISS'}] {name}" for name, ok in res["targets"].items()]
    return "\n".join(lines)


def bench(repeats: int = 3, iters: int = 5000, baseline_iters: int = 1000, data_dir=None,
          out=f"{OUTPUTS}/{BENCH}", docs=None, seeds: int | None = None,
          worker: str | None = None, loss: str = "log") -> int:
    """The benchmark (or, with `seeds`, the sweep benchmark): NAME.json into `out`,
    the report on stdout and, with `docs`, into its docs section. `worker` is the
    internal mode of one measurement in a subprocess: it prints one number."""
    if worker:
        print(_worker(worker, loss, iters, data_dir, seeds or 8))
        return 0
    if min(repeats, iters, baseline_iters) <= 0:
        raise UserError("--repeats, --iters and --baseline-iters must be positive")
    if seeds is not None and not 2 <= seeds <= MAX_SEEDS:
        raise UserError(f"--seeds must be 2 to {MAX_SEEDS}")
    load_mnist(data_dir)   # fail here, in one line, not in a worker
    log = lambda line: print(line, file=sys.stderr, flush=True)   # noqa: E731
    # The output folder's lock for the whole measurement: a second benchmark into it
    # is refused (it would also share the cores and skew both timings).
    with locked(Path(out), "benchmark folder", flag="--out"):
        if seeds is not None:
            # iters sets the whole commands' length; the loops run a third of it per seed.
            res = run_sweep_bench(seeds, repeats, max(100, iters // 3), iters, data_dir,
                                  log=log)
            return publish_report(out, docs, "bench-sweep", res, format_sweep_report(res))
        if not baselines.torch_available():
            print("PyTorch is not installed: (c) is skipped (pip install torch==2.13.0 for "
                  "the CPU build)", file=sys.stderr)
        res = run_bench(repeats, iters, baseline_iters, baseline_iters, data_dir=data_dir,
                        log=log)
        return publish_report(out, docs, "bench", res, format_report(res))


def publish_report(out, docs, name: str, res: dict, report: str) -> int:
    """NAME.json into `out`, the report on stdout and, with `docs`, into its section."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / f"{name}.json", json.dumps(res, indent=2) + "\n")
    print(report)
    print(f"wrote {out / f'{name}.json'}")
    if docs:
        update_section(docs, name, f"```\n$ make {name}\n{report}\n```")
    return 0
