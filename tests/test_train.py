"""Whole runs on real MNIST into temporary folders: outputs, resume, stops, bad input."""

import dataclasses
import json
import os
import signal
import subprocess
import sys
import time

import imageio.v3 as iio
import numpy as np
import pytest

from conftest import REPO, one_line_error
from gan_tf.core.config import Config
from gan_tf.core.errors import TrainingDiverged, UserError
from gan_tf.runs.folder import RunFolder
from gan_tf.train import main
from gan_tf.training import run as train_lib

# Short but complete: 4 snapshots, 6 stats records; the real defaults otherwise.
SHORT = Config.of(iters=300, snapshot_every=100, log_every=50)


def weights(run_dir):
    ck = RunFolder(run_dir).read_checkpoint()
    return int(ck.pop("iteration")), ck


def test_a_short_run_leaves_every_output(mnist, tmp_path):
    run = tmp_path / "run"
    summary = train_lib.train(SHORT, run, data=mnist, log=lambda line: None)
    assert summary["status"] == "complete" and summary["iteration"] == 300
    assert Config.from_json((run / "config.json").read_text()) == SHORT
    assert [p.name for p in RunFolder(run).frame_paths()] == ["000.png", "001.png", "002.png",
                                                       "003.png"]
    assert iio.imread(run / "training.gif", index=None).shape[0] == 4
    assert iio.imread(run / "losses.png").ndim == 3
    recs = RunFolder(run).read_stats()
    assert [r["iter"] for r in recs] == [50, 100, 150, 200, 250, 300]
    for r in recs:
        assert np.isfinite([r["d_loss"], r["g_loss"]]).all() and 0 <= r["d_fake"] <= 1
    assert weights(run)[0] == 300
    assert any(p.name.startswith("events") for p in (run / "tensorboard").iterdir())
    import keras
    G = keras.saving.load_model(run / "generator.keras")
    x = G(np.zeros((2, 100), np.float32)).numpy()
    assert x.shape == (2, 784) and 0 <= x.min() and x.max() <= 1
    assert not [p for p in run.rglob(".*tmp*")]   # no temporary files left behind


@pytest.mark.slow
def test_interrupted_and_resumed_equals_uninterrupted(mnist, tmp_path):
    """A SIGTERM mid-run, then --resume: bit-identical weights and optimizer state."""
    train_lib.train(SHORT, tmp_path / "straight", data=mnist, log=lambda line: None)

    def stop_after_first_snapshot(line):
        if line.startswith("Iter: 100"):
            os.kill(os.getpid(), signal.SIGTERM)   # handled: stop at the next chunk
    cut = train_lib.train(SHORT, tmp_path / "cut", data=mnist, log=stop_after_first_snapshot)
    assert cut["status"] == "interrupted" and cut["signal"] == signal.SIGTERM
    assert cut["iteration"] == 150 and weights(tmp_path / "cut")[0] == 150
    cfg = train_lib.resume_config(tmp_path / "cut", {})
    done = train_lib.train(cfg, tmp_path / "cut", resume=True, data=mnist,
                           log=lambda line: None)
    assert done["status"] == "complete"
    it_a, a = weights(tmp_path / "straight")
    it_b, b = weights(tmp_path / "cut")
    assert it_a == it_b == 300 and a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
    assert ([r["iter"] for r in RunFolder(tmp_path / "cut").read_stats()]
            == [50, 100, 150, 200, 250, 300])


@pytest.mark.slow
def test_resume_may_extend_but_not_change_a_run(mnist, tmp_path):
    run = tmp_path / "run"
    train_lib.train(dataclasses.replace(SHORT, iters=100), run, data=mnist,
                    log=lambda line: None)
    with pytest.raises(UserError, match="cannot change lr"):
        train_lib.resume_config(run, {"lr": 0.5, "iters": 200})
    cfg = train_lib.resume_config(run, {"iters": 200})
    assert train_lib.train(cfg, run, resume=True, data=mnist,
                           log=lambda line: None)["iteration"] == 200
    assert len(RunFolder(run).frame_paths()) == 3
    assert Config.from_json((run / "config.json").read_text()).iters == 200


def test_nan_stops_the_run_naming_iteration_and_loss_keeping_good_outputs(mnist, tmp_path):
    # The literal log-loss with a large step: D saturates and log(1 - D) hits log(0).
    cfg = Config.of(iters=1000, snapshot_every=100, log_every=50, loss="log", log_eps=0.0,
                 lr=0.01)
    run = tmp_path / "run"
    with pytest.raises(TrainingDiverged, match=r"loss 'log' became NaN or Inf at iteration "
                                               r"(\d+).*last good checkpoint") as e:
        train_lib.train(cfg, run, data=mnist, log=lambda line: None)
    bad = int(e.value.args[0].split("at iteration ")[1].split()[0])
    # The message shows both losses at that iteration, at least one of them not finite.
    d, g = (float(e.value.args[0].split(f"{k} loss ")[1].split(",")[0].split(")")[0])
            for k in ("D", "G"))
    assert not (np.isfinite(d) and np.isfinite(g))
    assert 0 < bad < 1000
    it, ck = weights(run)
    assert it == bad // 100 * 100     # the last snapshot before the bad iteration
    assert all(np.isfinite(v).all() for v in ck.values())
    assert len(RunFolder(run).frame_paths()) == it // 100 + 1
    assert (run / "training.gif").exists()
    assert max(r["iter"] for r in RunFolder(run).read_stats()) <= bad


@pytest.mark.parametrize("argv, words", [
    (["--iters", "0"], "iters must be a positive integer"),
    (["--batch-size", "-5"], "batch_size must be a positive integer"),
    (["--snapshot-every", "0"], "snapshot_every must be a positive integer"),
    (["--loss", "wasserstein"], "unknown loss 'wasserstein'"),
    (["--experiment", "nope"], "unknown experiment 'nope'"),
    (["--data-dir", "/nonexistent/mnist"], "does not exist or is not a folder"),
    (["--resume"], "nothing to resume"),
])
def test_bad_input_is_one_line_exits_nonzero_and_writes_nothing(argv, words, tmp_path,
                                                                capsys):
    run = tmp_path / "run"
    assert main(argv + ["--run-dir", str(run)]) == 2
    one_line_error(capsys, words)
    assert not run.exists()


def test_corrupt_data_dir_is_refused_before_the_run_folder_exists(mnist_dir, tmp_path,
                                                                   capsys):
    bad = tmp_path / "data"
    bad.mkdir()
    for f in mnist_dir.glob("*.gz"):
        (bad / f.name).write_bytes(f.read_bytes())
    f = bad / "train-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-5000])
    assert main(["--data-dir", str(bad), "--run-dir", str(tmp_path / "run")]) == 2
    assert "truncated or corrupted" in capsys.readouterr().err
    assert not (tmp_path / "run").exists()


def test_flag_type_errors_are_one_line(capsys):
    with pytest.raises(SystemExit) as e:
        main(["--iters", "many"])
    assert e.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid int value: 'many'" in err[0]


@pytest.mark.slow
def test_existing_run_is_refused_then_overwritten_on_request(mnist_dir, tmp_path, capsys):
    run = tmp_path / "run"
    args = ["--iters", "100", "--snapshot-every", "100", "--log-every", "50",
            "--data-dir", str(mnist_dir), "--run-dir", str(run)]
    assert main(args) == 0
    (run / "frames" / "007.png").write_bytes(b"stale frame from an older run")
    assert main(args) == 2
    assert "already holds a run" in capsys.readouterr().err
    assert main(args + ["--overwrite"]) == 0
    assert [p.name for p in RunFolder(run).frame_paths()] == ["000.png", "001.png"]


@pytest.mark.slow
def test_cli_sigterm_checkpoints_exits_cleanly_and_resumes(mnist_dir, tmp_path):
    """The real command in a subprocess: SIGTERM mid-run, then --resume."""
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    cmd = [sys.executable, "-m", "gan_tf.train", "--iters", "100000", "--data-dir",
           str(mnist_dir), "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    deadline = time.monotonic() + 120
    while len(RunFolder(run).read_stats()) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGTERM, out
    assert "Traceback" not in out and "Continue with --resume" in out
    it, _ = weights(run)
    # Answered within about a second (chunks are sized so), not at a log boundary.
    assert it >= 300 and RunFolder(run).read_stats()[-1]["iter"] == it
    assert (run / "training.gif").exists() and not (run / "generator.keras").exists()
    resumed = subprocess.run(cmd[:4] + [str(it + 200)] + cmd[5:] + ["--resume"],
                             cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert f"Resuming {run} at iteration {it}" in resumed.stdout + resumed.stderr
    assert weights(run)[0] == it + 200 and (run / "generator.keras").exists()
    assert not list(tmp_path.glob("*.png"))   # nothing written to the current directory


def test_help_documents_every_flag():
    out = subprocess.run([sys.executable, "-m", "gan_tf.train", "--help"], cwd=REPO,
                         capture_output=True, text=True, timeout=60).stdout
    from gan_tf.core.config import flat_values
    from gan_tf.families import FAMILIES
    # every shared field, 'family', and every family's every parameter
    names = {n for name, family in FAMILIES.items()
             for n in flat_values(Config.of(family=name))}
    assert {"family", "conv_width", "maxout_pieces", "d_keep", "ls_a", "conditional"} <= names
    for name in names:
        assert "--" + name.replace("_", "-") in out
    for flag in ("--experiment", "--run-dir", "--data-dir", "--resume", "--overwrite"):
        assert flag in out


@pytest.mark.slow
def test_kill_9_leaves_only_whole_files_and_resumes(mnist_dir, tmp_path):
    """SIGKILL (no handler can run) while frames, stats and checkpoints are being
    written: every file left is complete, and --resume finishes the run."""
    run = tmp_path / "run"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    # Snapshots every 100 iterations: many writes in flight when the kill lands.
    cmd = [sys.executable, "-m", "gan_tf.train", "--iters", "100000", "--snapshot-every",
           "100", "--log-every", "50", "--data-dir", str(mnist_dir), "--run-dir", str(run)]
    proc = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while len(RunFolder(run).frame_paths()) < 6 and time.monotonic() < deadline:
        time.sleep(0.05)
    proc.kill()
    proc.wait(timeout=30)
    for frame in RunFolder(run).frame_paths():
        assert iio.imread(frame).ndim == 3, frame
    it, ck = weights(run)
    assert it >= 400 and all(np.isfinite(v).all() for v in ck.values())
    for line in (run / "stats.jsonl").read_text().splitlines()[:-1]:
        json.loads(line)       # only the very last line may be torn
    resumed = subprocess.run(cmd[:4] + [str(it + 100)] + cmd[5:] + ["--resume"],
                             cwd=tmp_path, env=env, capture_output=True, text=True,
                             timeout=300)
    assert resumed.returncode == 0, resumed.stderr
    assert weights(run)[0] == it + 100
    assert [r["iter"] for r in RunFolder(run).read_stats()] == list(
        range(50, it + 101, 50))


@pytest.mark.slow
def test_minimax_g_loss_saturates_where_nonsaturating_does_not(mnist, tmp_path):
    """The saturating-vs-nonsaturating experiment, short: with D rejecting fakes
    (D(G(z)) well under 0.1), G's gradient under the minimax loss is more than 10x
    smaller than under the non-saturating one. (Full run, 5,000 iterations: the
    minimax gradient falls to ~1e-4 while the other stays ~3.)"""
    from gan_tf.studies.reports import saturation
    recs = saturation.run(tmp_path, iters=1200, base=Config.of(snapshot_every=600,
                                                            log_every=50),
                          data=mnist, log=lambda line: None, seeds=(0, 1))
    for s in range(2):   # in every seed of the stack
        mean = lambda g, k: np.mean([r[k] for r in recs[g][s]])      # noqa: E731
        assert mean("minimax", "d_fake") < 0.1
        assert mean("nonsaturating", "g_grad_norm") > 10 * mean("minimax", "g_grad_norm")
    assert (tmp_path / "saturation.png").exists()
    assert (tmp_path / "minimax" / "seed-1" / "config.json").exists()


@pytest.mark.slow
def test_with_d_far_ahead_only_the_critics_keep_gs_gradient(mnist, tmp_path):
    """The saturation study's critic-ahead part, short: 200 steps of D alone against
    G at its initialisation. Measured at 2,000 steps (seeds 0 and 1): the minimax
    gradient falls from ~0.5 to 0 within the first 50, the non-saturating one grows
    ~7x (most of it in the first 50), the clipped critic's is ~0.09 at step 50 (its
    first clipping shrank it from 1.0) and 0.12 at 2,000, WGAN-GP's moves by under 30%.
    At 200 steps the clipped critic's is still growing (2.4x its step-50 value)."""
    from gan_tf.studies.reports import saturation
    records = saturation.critic_ahead(200, seeds=(0,), data=mnist, log=lambda line: None)
    summary = saturation.summarise_ahead(records)
    norms = {k: v["0"]["g_grad_norm"] for k, v in records.items()}
    assert all(len(n) == 5 for n in norms.values())           # steps 0, 50, ..., 200
    assert norms["minimax"][-1] < 1e-3 * norms["minimax"][0]
    assert norms["nonsaturating"][-1] > 2 * norms["nonsaturating"][0]
    for critic in ("wgan", "wgan-gp"):
        assert 0.5 < summary[critic]["end_over_first_steps"][0] < 4, summary[critic]
    assert records["wgan-gp"]["0"]["d_lead"][-1] > 1     # the critic did get ahead
    saturation.plot_ahead(records, tmp_path / "critic-ahead.png")
    assert (tmp_path / "critic-ahead.png").stat().st_size > 1000


def test_the_critic_ahead_steps_must_be_whole_measuring_intervals(tmp_path):
    from gan_tf.core.errors import UserError
    from gan_tf.studies.reports import saturation
    with pytest.raises(UserError, match="--ahead-steps must be a multiple of 50"):
        saturation.saturation_study(tmp_path / "study", iters=1000, seeds=1, ahead_steps=25)
    assert not (tmp_path / "study").exists()      # refused before anything was written
