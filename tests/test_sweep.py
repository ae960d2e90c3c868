"""Seed sweeps (issue 15): N seeds as one stack are N single runs; a sweep's folders,
resume, signals and refusals behave as a single run's."""

import dataclasses
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ENV, QUIET, one_line_error
from gan_tf.core.config import Config, override
from gan_tf.core.experiments import load_experiment
from gan_tf.core.errors import UserError
from gan_tf.runs.folder import RunFolder
from gan_tf.runs.sweeps import read_sweep
from gan_tf.train import main
from gan_tf.training import stack, sweep
from gan_tf.training.build import build_trainer

SMALL = ["--iters", "60", "--snapshot-every", "20", "--log-every", "10", "--no-tensorboard"]


def states(trainer_or_models):
    return {k: v.numpy() for k, v in trainer_or_models.state().items()}


def worst(a: dict, b: dict) -> float:
    assert a.keys() == b.keys()
    return max(float(np.max(np.abs(a[k] - b[k]))) for k in a)


def single(cfg, seed, mnist, iters):
    t = build_trainer(dataclasses.replace(cfg, seed=seed), mnist.train_images,
                           mnist.train_labels)
    t.chunk(iters)
    return states(t)


# --- the stack is the single runs

@pytest.mark.slow
def test_each_seed_of_a_stack_of_mnist_basic_is_its_single_run(mnist):
    """Every weight and optimizer slot of seeds 0, 1, 2 trained as one stack, against
    the three single runs: within 1e-5 after 10 iterations for all three. By
    iteration 100 the rounding differences (XLA sums some reductions in another order
    over the stacked arrays) have grown by each seed's own sensitivity, as they do
    between XLA and TF's graph in a single run (see gan_tf/training/stack.py), and by
    how much depends on the host's XLA code: seed 1 8e-4 and seeds 0 and 2 under 1e-5
    on an AVX2 host, seed 2 1.5e-4 on an AVX512_BF16 one. So at 100 every seed is
    held to 2e-3, far below what a seed trained on another seed's data or z would
    differ by (the seeds' weights differ by 0.1 and more)."""
    cfg = load_experiment("mnist-basic")
    s = stack.SeedStack(cfg, [0, 1, 2], mnist.train_images)
    s.chunk(10)
    s.unstack()
    for i, seed in enumerate([0, 1, 2]):
        assert worst(states(s.models[i]), single(cfg, seed, mnist, 10)) < 1e-5, seed
    s.chunk(90)
    s.unstack()
    for i, seed in enumerate([0, 1, 2]):
        assert worst(states(s.models[i]), single(cfg, seed, mnist, 100)) < 2e-3, seed
    assert worst(states(s.models[0]), states(s.models[2])) > 0.1


@pytest.mark.slow
def test_a_stack_of_one_seed_is_bit_identical_to_its_single_run(mnist):
    cfg = Config.of(seed=1)
    s = stack.SeedStack(cfg, [1], mnist.train_images)
    s.chunk(30)
    s.chunk(20)
    s.unstack()
    assert worst(states(s.models[0]), single(cfg, 1, mnist, 50)) == 0.0


@pytest.mark.slow
@pytest.mark.parametrize("name, changes", [
    ("mnist-deep", {}),                        # tanh output, same z, two hidden layers
    ("mnist-lsgan", {}),                       # a family's own losses (least squares)
    ("mnist-cgan", {}),                        # conditional: labels into G and D
    ("mnist-xent", {"d_steps": 2, "g_loss": "minimax", "optimizer": "sgd",
                    "momentum": 0.9, "lr": 0.01}),
])
def test_every_mlp_option_stacks_seed_for_seed(mnist, name, changes):
    """5 iterations: a wrong z, batch, label, loss or step would be 1e-3 off by then.
    Not more: in the deeper MLP a ReLU input that rounding puts on the other side of
    0 for one sample changes a gradient discretely (seed 3: D's hidden2 momentum
    1.4e-4 off at iteration 10, in the single run computed two ways as well)."""
    cfg = override(load_experiment(name), changes)
    s = stack.SeedStack(cfg, [3, 5], mnist.train_images, mnist.train_labels)
    s.chunk(5)
    s.unstack()
    for i, seed in enumerate([3, 5]):
        assert worst(states(s.models[i]), single(cfg, seed, mnist, 5)) < 1e-5, seed


def test_a_stack_reports_one_value_per_seed(mnist):
    s = stack.SeedStack(Config(), [0, 1, 2, 3], mnist.train_images)
    out = s.chunk(5)
    assert out["sums"]["d_loss"].shape == (4,) and out["first_bad_iteration"].shape == (4,)
    assert len(set(out["first"]["d_loss"].tolist())) == 4   # different seeds, different D
    assert (out["first_bad_iteration"] == -1).all()


def test_what_cannot_stack_is_named():
    assert "dcgan" in stack.stackable(Config.of(family="dcgan"))
    assert "vae" in stack.stackable(Config.of(family="vae"))
    assert stack.stackable(load_experiment("mnist-cgan")) is None
    with pytest.raises(UserError, match="distinct seeds"):
        stack.SeedStack(Config(), [1, 1], np.zeros((200, 784), np.uint8))


# --- the sweep: folders, resume, signals

def sweep_cli(path, mnist_dir, *args):
    return main([*SMALL, "--data-dir", str(mnist_dir), "--run-dir", str(path), *args])


@pytest.fixture(scope="module")
def finished_sweep(mnist_dir, tmp_path_factory):
    """Seeds 3 and 4 of the tutorial GAN, 60 iterations, uninterrupted."""
    path = tmp_path_factory.mktemp("sweep") / "sw"
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3") == 0
    return path


def checkpoints(path):
    return [RunFolder(path / f"seed-{s}").read_checkpoint() for s in (3, 4)]


def same_arrays(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(np.array_equal(a[k], b[k]) for k in a)


def stats_without_time(path):
    return [{k: v for k, v in r.items() if k != "elapsed_s"}
            for r in RunFolder(path).read_stats()]


def test_a_sweep_writes_one_complete_run_folder_per_seed(finished_sweep):
    info = json.loads((finished_sweep / "sweep.json").read_text())
    assert info["seeds"] == [3, 4] and info["mode"] == "stack"
    assert info["status"] == "complete" and info["iteration"] == 60
    for seed in (3, 4):
        run = RunFolder(finished_sweep / f"seed-{seed}")
        assert run.read_config().seed == seed
        assert run.finished_iteration() == 60
        assert [p.name for p in run.frame_paths()] == ["000.png", "001.png", "002.png",
                                                       "003.png"]
        assert [r["iter"] for r in run.read_stats()] == [10, 20, 30, 40, 50, 60]
        assert (run / "training.gif").is_file() and (run / "generator.keras").is_file()
    # Different seeds trained different GANs.
    a, b = checkpoints(finished_sweep)
    assert not np.array_equal(a["G/out/kernel"], b["G/out/kernel"])


@pytest.mark.slow
def test_a_sweep_stopped_and_resumed_ends_bit_identical(finished_sweep, mnist_dir,
                                                        tmp_path):
    path = tmp_path / "sw"
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3", "--iters", "20") == 0
    assert json.loads((path / "sweep.json").read_text())["iteration"] == 20
    assert sweep_cli(path, mnist_dir, "--resume") == 0       # on to SMALL's --iters 60
    for ours, theirs in zip(checkpoints(path), checkpoints(finished_sweep)):
        assert same_arrays(ours, theirs)
    # The logged window means agree to rounding: a window's sum is taken in float32
    # within a chunk, and chunks fall differently around a stop.
    for seed in (3, 4):
        ours, theirs = (stats_without_time(p / f"seed-{seed}") for p in (path, finished_sweep))
        assert [r.keys() for r in ours] == [r.keys() for r in theirs]
        for a, b in zip(ours, theirs):
            assert all(np.isclose(a[k], b[k], rtol=1e-6, atol=0) for k in a), (a, b)


def test_a_stack_stopped_inside_a_logging_window_leaves_each_seeds_log(
        finished_sweep, mnist_dir, tmp_path, monkeypatch):
    """Issue 50 item 2 for a stack: stopped at 13 (inside the window 10-20), resumed:
    every seed's stats.jsonl and checkpoint are the uninterrupted sweep's."""
    class StopAt13(sweep.Progress):
        def update(self, done):
            super().update(done)
            if done == 13:
                os.kill(os.getpid(), signal.SIGTERM)   # handled: stop at the next chunk
    monkeypatch.setattr(sweep.train_lib, "CHUNK_SECONDS", 0.0)   # one iteration a chunk
    monkeypatch.setattr(sweep, "Progress", StopAt13)
    path = tmp_path / "sw"
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3") == 128 + signal.SIGTERM
    assert [r["iter"] for r in RunFolder(path / "seed-3").read_stats()] == [10]
    monkeypatch.undo()
    assert sweep_cli(path, mnist_dir, "--resume") == 0
    for seed in (3, 4):
        assert (stats_without_time(path / f"seed-{seed}")
                == stats_without_time(finished_sweep / f"seed-{seed}"))
    for ours, theirs in zip(checkpoints(path), checkpoints(finished_sweep)):
        assert same_arrays(ours, theirs)


def test_one_seed_of_a_sweep_resumes_as_a_single_run(finished_sweep, mnist_dir, tmp_path):
    shutil.copytree(finished_sweep / "seed-4", tmp_path / "seed-4")
    assert main(["--resume", "--iters", "80", "--data-dir", str(mnist_dir),
                 "--run-dir", str(tmp_path / "seed-4")]) == 0
    assert RunFolder(tmp_path / "seed-4").finished_iteration() == 80


@pytest.mark.slow
def test_a_seed_left_behind_by_a_kill_catches_up(finished_sweep, mnist_dir, tmp_path):
    """kill -9 while the checkpoints of a frame are written leaves seeds at different
    iterations: the seeds behind train on as a stack of their own until they reach
    the others, then all go on together."""
    path = tmp_path / "sw"
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3", "--iters", "20") == 0
    behind = (path / "seed-4" / "checkpoint.npz").read_bytes()
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "40") == 0
    (path / "seed-4" / "checkpoint.npz").write_bytes(behind)   # seed 4 back at 20
    lines = []
    summary = sweep.train_sweep(dataclasses.replace(read_sweep(path)["config"],
                                                    iters=60, tensorboard=False),
                                [3, 4], path, resume=True, data_dir=mnist_dir,
                                log=lines.append)
    assert summary["status"] == "complete"
    assert any("catch up" in line for line in lines), lines
    ours, theirs = checkpoints(path), checkpoints(finished_sweep)
    assert same_arrays(ours[0], theirs[0])           # seed 3 went on undisturbed
    assert ours[1]["iteration"] == 60                # seed 4 caught up, then finished
    assert worst({k: v for k, v in ours[1].items() if k != "iteration"},
                 {k: v for k, v in theirs[1].items() if k != "iteration"}) < 1e-3
    assert [r["iter"] for r in RunFolder(path / "seed-4").read_stats()] == [
        10, 20, 30, 40, 50, 60]


@pytest.mark.slow
def test_sigterm_stops_every_seed_at_one_checkpoint_and_resume_finishes(mnist_dir,
                                                                       tmp_path):
    path = tmp_path / "sw"
    proc = subprocess.Popen(
        [sys.executable, "-m", "gan_tf.train", "--seeds", "3", "--iters", "100000",
         "--snapshot-every", "100", "--no-tensorboard", "--data-dir", str(mnist_dir),
         "--run-dir", str(path)], env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 180
    while not all(RunFolder(path / f"seed-{s}").has_checkpoint() for s in range(3)):
        assert time.monotonic() < deadline and proc.poll() is None
        time.sleep(0.2)
    time.sleep(2)
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM, err
    its = {RunFolder(path / f"seed-{s}").read_checkpoint()["iteration"] for s in range(3)}
    assert len(its) == 1 and 0 < min(its) < 100000, its
    assert json.loads((path / "sweep.json").read_text())["status"] == "interrupted"
    stopped = its.pop()
    assert main(["--resume", "--iters", str(stopped + 20), "--data-dir", str(mnist_dir),
                 "--run-dir", str(path)]) == 0
    for s in range(3):
        assert RunFolder(path / f"seed-{s}").finished_iteration() == stopped + 20


# --- refusals: one line each, nothing written

def test_a_sweep_refuses_bad_requests_in_one_line(finished_sweep, mnist_dir, tmp_path,
                                                  capsys):
    path = tmp_path / "sw"
    shutil.copytree(finished_sweep, path)
    before = {p: p.read_bytes() for p in path.rglob("*") if p.is_file()}
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3") == 2
    one_line_error(capsys, "already holds a seed sweep", "--resume")
    assert sweep_cli(path, mnist_dir, "--resume", "--lr", "0.01") == 2
    one_line_error(capsys, "cannot change lr")
    assert sweep_cli(path, mnist_dir, "--resume", "--seeds", "3") == 2
    one_line_error(capsys, "sweep of 2 seeds")
    assert sweep_cli(tmp_path / "new", mnist_dir, "--seeds", "0") == 2
    one_line_error(capsys, "--seeds must be 1 to 64")
    assert sweep_cli(tmp_path / "new", mnist_dir, "--seeds", "2",
                     "--seed", str(2**31 - 1)) == 2
    one_line_error(capsys, "largest seed")
    assert sweep_cli(tmp_path / "new", mnist_dir, "--sequential") == 2
    one_line_error(capsys, "add --seeds")
    assert not (tmp_path / "new").exists()
    assert {p: p.read_bytes() for p in path.rglob("*") if p.is_file()} == before


def test_hand_edited_sweep_files_are_named(finished_sweep, mnist_dir, tmp_path, capsys):
    path = tmp_path / "sw"
    shutil.copytree(finished_sweep, path)
    (path / "sweep.json").write_text('{"config": {"lr": "fast"}, "seeds": [3, 4]}')
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 2
    one_line_error(capsys, "sweep.json", "lr")
    info = json.loads((finished_sweep / "sweep.json").read_text())
    (path / "sweep.json").write_text(json.dumps({**info, "diverged": {"7": 10}}))
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 2
    one_line_error(capsys, "sweep.json", "diverged")
    shutil.copy(finished_sweep / "sweep.json", path / "sweep.json")
    cfg = json.loads((path / "seed-4" / "config.json").read_text())
    (path / "seed-4" / "config.json").write_text(
        json.dumps({**cfg, "params": {**cfg["params"], "lr": 0.5}}))
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 2
    one_line_error(capsys, "config differs", "seed-4")
    # an option put back at the top, where the layout before the run options had it
    (path / "seed-4" / "config.json").write_text(json.dumps({**cfg, "lr": 0.5}))
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 2
    one_line_error(capsys, "seed-4", "lr", "twice")


def test_a_second_process_cannot_write_into_a_running_sweep(finished_sweep, mnist_dir,
                                                            tmp_path, capsys):
    path = tmp_path / "sw"
    shutil.copytree(finished_sweep, path)
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gan_tf.runs.folder import RunFolder\n"
         "with RunFolder(sys.argv[1]).locked():\n print('locked', flush=True); time.sleep(120)",
         str(path / "seed-3")], env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 2
        one_line_error(capsys, "in use", f"pid {holder.pid}")
    finally:
        holder.kill()
        holder.wait()
    assert RunFolder(path / "seed-3").finished_iteration() == 60


def test_a_dcgan_sweep_trains_its_seeds_one_after_another(mnist, tmp_path):
    cfg = override(load_experiment("mnist-dcgan-10-epochs"), dict(
        conv_width=4, iters=4, snapshot_every=2, log_every=1, tensorboard=False))
    summary = sweep.train_sweep(cfg, [0, 1], tmp_path / "sw", data=mnist, **QUIET)
    assert summary["status"] == "complete" and summary["mode"] == "sequential"
    for s in (0, 1):
        assert RunFolder(tmp_path / "sw" / f"seed-{s}").finished_iteration() == 4
    with pytest.raises(UserError, match="one stack"):
        sweep.train_sweep(cfg, [0, 1], tmp_path / "sw2", data=mnist, sequential=False,
                          **QUIET)


@pytest.mark.slow
def test_a_seed_gone_nan_is_frozen_and_the_others_train_on_untouched(
        finished_sweep, mnist_dir, tmp_path, capsys):
    """A hand-edited checkpoint puts NaN into seed 4's D: on resuming, its losses are
    NaN at once. Seed 4 is frozen (its folder as it was, no new generator), the NaN stays
    in its slice: seed 3 ends bit-identical to the uninterrupted sweep's. The exit
    code says a seed diverged; a later resume leaves seed 4 alone."""
    path = tmp_path / "sw"
    assert sweep_cli(path, mnist_dir, "--seeds", "2", "--seed", "3", "--iters", "20") == 0
    run4 = RunFolder(path / "seed-4")
    arrays = run4.read_checkpoint()
    arrays["D/out/bias"] = np.full_like(arrays["D/out/bias"], np.nan)
    run4.save_checkpoint({**arrays, "iteration": np.int64(20)})
    generator = (run4 / "generator.keras").read_bytes()     # of the finished 20 iterations
    assert sweep_cli(path, mnist_dir, "--resume") == 1
    out = capsys.readouterr().out
    assert "seed 4: loss 'log' became NaN or Inf at iteration 20" in out
    assert same_arrays(checkpoints(path)[0], checkpoints(finished_sweep)[0])
    assert run4.read_checkpoint()["iteration"] == 20
    assert (run4 / "generator.keras").read_bytes() == generator
    info = json.loads((path / "sweep.json").read_text())
    assert info["diverged"] == {"4": 20} and info["status"] == "complete"
    assert sweep_cli(path, mnist_dir, "--resume", "--iters", "80") == 1
    assert "seed 4: diverged earlier" not in capsys.readouterr().out   # (a stack's words)
    assert RunFolder(path / "seed-3").finished_iteration() == 80
    assert run4.read_checkpoint()["iteration"] == 20
    # Evaluating the sweep leaves the diverged seed out.
    from gan_tf import evaluate as evaluate_command
    (run4 / "generator.keras").unlink()
    assert evaluate_command.main([str(path), "--num-samples", "100"]) == 0
    out = capsys.readouterr().out
    assert "seed-4: diverged, left out" in out and "mean ± std over 1 seeds" in out


def test_a_stack_with_a_diverging_seed_stops_and_keeps_every_checkpoint(mnist, tmp_path):
    """lr 10 with the literal log-loss sends the losses to NaN; the sweep stops with a
    TrainingDiverged naming the seeds, their last good checkpoints on disk."""
    from gan_tf.core.errors import TrainingDiverged
    cfg = Config.of(lr=10.0, log_eps=0.0, iters=400, snapshot_every=10, log_every=10,
                 tensorboard=False)
    with pytest.raises(TrainingDiverged, match="seed"):
        sweep.train_sweep(cfg, [0, 1], tmp_path / "sw", data=mnist, **QUIET)
    for s in (0, 1):
        ckpt = RunFolder(tmp_path / "sw" / f"seed-{s}").read_checkpoint()
        assert all(np.isfinite(v).all() for k, v in ckpt.items() if k != "iteration")


# --- evaluating and tabulating a sweep

@pytest.mark.slow
def test_evaluate_and_results_give_a_sweep_mean_and_spread(finished_sweep, tmp_path,
                                                           capsys):
    from gan_tf import evaluate as evaluate_command
    from gan_tf.evaluation import results
    path = tmp_path / "sw"
    shutil.copytree(finished_sweep, path)
    assert evaluate_command.main([str(path), "--num-samples", "200"]) == 0
    out = capsys.readouterr().out
    assert "mean ± std over 2 seeds" in out
    ms = [json.loads((path / f"seed-{s}" / "metrics.json").read_text()) for s in (3, 4)]
    assert ms[0]["real"] == ms[1]["real"]      # the real-data measures, computed once
    table = results.table([path / f"seed-{s}" / "metrics.json" for s in (3, 4)])
    row = next(line for line in table.splitlines() if "`sw` (2 seeds)" in line)
    scores = np.array([m["generated"]["mnist_score"] for m in ms])
    assert f"{scores.mean():.2f} ± {scores.std(ddof=1):.2f}" in row
    classes = results.class_table([path / f"seed-{s}" / "metrics.json" for s in (3, 4)])
    row = next(line for line in classes.splitlines() if "`sw` (2 seeds)" in line)
    eights = 100 * np.array([m["generated"]["class_histogram"][8] for m in ms])
    assert f"{eights.mean():.1f} ± {eights.std(ddof=1):.1f}" in row.split(" | ")[9]
    # One seed not evaluated: the row says so.
    (path / "seed-4" / "metrics.json").unlink()
    assert "(1 of 2 seeds evaluated)" in results.table([path / "seed-3" / "metrics.json"])


def test_a_sweep_row_is_mean_and_sample_standard_deviation():
    """Three seeds scoring 1, 2 and 4: mean 2.33, sample std 1.53 (the population
    std would be 1.25)."""
    from gan_tf.evaluation import results
    ms = [{c.key: v for c in results.COLUMNS} | {"parzen_se": 1.0} for v in (1.0, 2.0, 4.0)]
    row = results.spread_row("`x`", 100, ms)
    assert "2.33 ± 1.53" in row and "2.333 ± 1.528" in row and "1.25" not in row, row
