"""An adversarial tester's faults (issue 14), one test per kind: two processes on one
folder, bad values, damaged files, full and immutable disks, signals at awkward
moments. Each ends in one line and exit 2, or in a correct recovery; none leaves a
half-written file or loses an earlier result."""

import contextlib
import dataclasses
import errno
import os
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from conftest import ENV, QUIET, REPO, TINY, cli, one_line_error
from gan_tf.core.errors import UserError
from gan_tf.runs.files import atomic_save
from gan_tf.runs.folder import RunFolder
from gan_tf.train import main
from gan_tf.training import run as train_lib


def temporaries(folder):
    return [p for p in folder.rglob("*") if p.name.startswith(".tmp")]


# --- 1. one process per run folder

def test_a_second_process_is_refused_until_the_first_dies(run, mnist_dir, capsys):
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gan_tf.runs.folder import RunFolder\n"
         "with RunFolder(sys.argv[1]).locked():\n print('locked', flush=True); time.sleep(120)",
         str(run)], env=ENV, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        before = (run / "config.json").read_bytes()
        assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
        one_line_error(capsys, "in use", f"pid {holder.pid}")
        assert cli(run, mnist_dir, "--overwrite") == 2
        one_line_error(capsys, "in use")
        assert (run / "config.json").read_bytes() == before
    finally:
        holder.kill()      # kill -9: the kernel releases the lock
        holder.wait()
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 0
    assert [r["iter"] for r in RunFolder(run).read_stats()] == [10, 20, 30, 40, 50, 60]


def test_a_lock_left_by_kill_9_goes_with_the_run_that_takes_the_folder_over(
        run, mnist_dir, capsys):
    """Issue 50 item 8: a refused command leaves the .lock a killed process left (the
    folder byte-identical); the run that then trains in the folder removes it."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from gan_tf.runs.folder import RunFolder\n"
         "with RunFolder(sys.argv[1]).locked():\n print('locked', flush=True); time.sleep(120)",
         str(run)], env=ENV, stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    holder.kill()      # kill -9: the lock is released, its file stays
    holder.wait()
    assert (run / ".lock").is_file()
    assert cli(run, mnist_dir, "--resume", "--iters", "30") == 2   # below the checkpoint
    one_line_error(capsys, "past --iters 30")
    assert (run / ".lock").is_file()
    assert cli(run, mnist_dir, "--resume", "--iters", "50") == 0
    assert not (run / ".lock").exists()


# --- 2. every value checked before anything is written

@pytest.mark.parametrize("args, words", [
    (["--gif-fps", "nan"], "gif_fps must be finite"),
    (["--gif-fps", "0.001"], "gif_fps must be in [0.1, 50]"),
    (["--batch-size", "60001"], "batch_size must be a positive integer up to 60,000"),
    (["--seed", "9223372036854775807"], "seed must be in [0, 2147483647]"),
    (["--lr", "nan"], "lr must be finite"),
    (["--adam-eps", "inf"], "adam_eps must be finite"),
    (["--z-dim", "1000000000"], "z_dim must be a positive integer up to 10,000"),
    (["--d-steps", "100000"], "d_steps must be from 1 to 100"),
    (["--g-hidden", "100000"], "g_hidden must be 1 to 8 layer sizes"),
    (["--experiment", "../../tmp/evil"], "unknown experiment"),
])
def test_bad_values_are_refused_before_anything_is_written(args, words, tmp_path, capsys):
    assert main(args + ["--run-dir", str(tmp_path / "run")]) == 2
    one_line_error(capsys, words)
    assert not (tmp_path / "run").exists()


def test_a_batch_larger_than_the_data_is_refused_before_writing(mnist, tmp_path):
    small = dataclasses.replace(mnist, train_images=mnist.train_images[:500],
                                train_labels=mnist.train_labels[:500])
    with pytest.raises(UserError, match="batch_size 512 exceeds the 500 training images"):
        train_lib.train(dataclasses.replace(TINY, batch_size=512), tmp_path / "r",
                        data=small, **QUIET)
    assert not (tmp_path / "r").exists()


def test_an_experiment_path_is_never_executed(tmp_path, capsys):
    marker = tmp_path / "executed"
    evil = tmp_path / "evil.py"
    evil.write_text(f"open({str(marker)!r}, 'w').close()\n")
    rel = os.path.relpath(evil.with_suffix(""), REPO / "experiments")
    assert main(["--experiment", rel, "--run-dir", str(tmp_path / "run")]) == 2
    one_line_error(capsys, "unknown experiment")
    assert not marker.exists()


# --- 3. damaged files: one line each

CONFIGS = {"invalid": b"{not json", "empty": b"", "a list": b"[1, 2]",
           "not UTF-8": b"\xff\xfe{}", "unknown dataset": b'{"dataset": "../../etc"}'}


@pytest.mark.parametrize("damage", CONFIGS)
@pytest.mark.parametrize("command", ["train", "evaluate", "latent"])
def test_damaged_config_is_one_line_everywhere(damage, command, run, mnist_dir, capsys):
    (run / "config.json").write_bytes(CONFIGS[damage])
    if command == "train":
        code = cli(run, mnist_dir, "--resume")
    else:
        mod = __import__(f"gan_tf.{command}", fromlist=["main"])
        code = mod.main([str(run)])
    assert code == 2
    one_line_error(capsys, str(run / "config.json"))
    assert (run / "config.json").read_bytes() == CONFIGS[damage]


@pytest.mark.parametrize("line", ['42', '{"foo": 1}', '{"iter": "x", "d_loss": 1, "g_loss": 1}',
                                  'garbage'])
def test_damaged_stats_line_is_one_line(line, run, mnist_dir, capsys):
    stats = run / "stats.jsonl"
    lines = stats.read_text().splitlines()
    stats.write_text("\n".join(lines[:1] + [line] + lines[1:]) + "\n")
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, "stats.jsonl line 2 is not a stats record")


@pytest.mark.parametrize("iteration, words", [
    (None, "no valid 'iteration'"), (np.int64(-20), "no valid 'iteration'"),
    (np.float64(20.5), "no valid 'iteration'"), (np.int64(10**15), "past --iters 60"),
])
def test_damaged_checkpoint_iteration_is_one_line(iteration, words, run, mnist_dir, capsys):
    ck = RunFolder(run).read_checkpoint()
    del ck["iteration"]
    if iteration is not None:
        ck["iteration"] = iteration
    RunFolder(run).save_checkpoint(ck)
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, words)


def test_checkpoint_arrays_are_matched_by_name(run, mnist_dir, capsys):
    folder = RunFolder(run)
    ck = folder.read_checkpoint()
    assert "G/hidden/kernel" in ck and "d_opt/out_bias_velocity" in ck
    ck["G/renamed/kernel"] = ck.pop("G/hidden/kernel")
    folder.save_checkpoint(ck)
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, "missing G/hidden/kernel", "unknown G/renamed/kernel")


def test_folders_that_are_files_and_a_damaged_generator(run, mnist_dir, capsys, tmp_path):
    shutil.rmtree(run / "frames")
    (run / "frames").write_text("not a folder")
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, "frames is a file")
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    (fresh / "tensorboard").write_text("not a folder")
    assert main(["--run-dir", str(fresh), "--data-dir", str(mnist_dir)]) == 2
    one_line_error(capsys, "tensorboard is a file")
    g = run / "generator.keras"
    g.write_bytes(g.read_bytes()[:2000])
    from gan_tf import evaluate, latent  # the commands
    for mod in (evaluate, latent):
        assert mod.main([str(run)]) == 2
        one_line_error(capsys, "generator.keras is not a Keras model file")


def test_stray_and_corrupt_frames_never_cost_the_generator(run, mnist_dir, capsys):
    (run / "frames" / "9x.png").write_bytes(b"a user's file")
    (run / "frames" / "001.png").write_bytes(b"\x89PNG corrupt")
    (run / "generator.keras").unlink()
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 0
    assert "001.png is unreadable" in capsys.readouterr().out
    assert (run / "generator.keras").is_file() and (run / "training.gif").is_file()
    assert (run / "frames" / "9x.png").read_bytes() == b"a user's file"


@pytest.mark.parametrize("tf_config, words", [
    ("{", "not valid JSON"), ("[1]", "must be a JSON object"),
    ('{"task": {"type": "worker", "index": "x"}, "cluster": {}}', "non-negative integer"),
    ('{"task": {"type": "worker", "index": 0}, "cluster": {"worker": "a:1"}}',
     "list of 'host:port'"),
])
def test_malformed_tf_config_is_one_line(tf_config, words, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", tf_config)
    assert main(["--strategy", "multiworker", "--run-dir", str(tmp_path / "r")]) == 2
    one_line_error(capsys, "TF_CONFIG", words)


# --- 3, 4. full and immutable disks

@contextlib.contextmanager
def small_disk(path, size):
    path.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)],
                      capture_output=True).returncode:
        pytest.skip("cannot mount a small tmpfs here (needs root)")
    try:
        yield path
    finally:
        subprocess.run(["umount", "-l", str(path)])


def test_a_full_disk_stops_the_run_in_one_line_keeping_the_checkpoint(tmp_path, mnist_dir,
                                                                      capsys):
    with small_disk(tmp_path / "disk", "4m") as disk:
        run = disk / "run"
        # One checkpoint (~2.6 MB) fits, a second beside it (its temporary) does not.
        assert cli(run, mnist_dir, "--iters", "400", "--snapshot-every", "20") == 2
        line = one_line_error(capsys, "No space left on device", "the disk is full")
        assert "checkpoint" in line
        assert RunFolder(run).read_checkpoint()["iteration"] == 0
        assert temporaries(run) == []


def no_space(*args, **kwargs):
    """A write that fails as on a full disk: an OSError that names no file."""
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.parametrize("target, name", [
    ("os.fsync", "config.json"),              # the first file a run writes
    ("numpy.savez", "checkpoint.npz"),
])
def test_a_full_disk_line_names_the_file_it_could_not_write(tmp_path, mnist_dir, capsys,
                                                            monkeypatch, target, name):
    monkeypatch.setattr(target, no_space)
    assert cli(tmp_path / "run", mnist_dir) == 2
    line = one_line_error(capsys, "the disk is full", "the run stopped")
    assert f"cannot write {tmp_path / 'run' / name}: No space left on device" in line


def test_a_full_disk_names_the_stats_log(tmp_path):
    from gan_tf.runs.writer import StatsLog
    log = StatsLog(tmp_path / "stats.jsonl")

    class Full:
        write = flush = close = staticmethod(no_space)
    log._f = Full()
    with pytest.raises(OSError) as e:
        log.write({"iter": 10})
    assert e.value.filename == str(tmp_path / "stats.jsonl")
    assert e.value.errno == errno.ENOSPC


def test_a_full_disk_in_evaluate_names_the_file(run, mnist_dir, capsys, monkeypatch):
    from gan_tf import evaluate as evaluate_command
    monkeypatch.setattr("os.fsync", no_space)
    assert evaluate_command.main([str(run), "--num-samples", "1000", "--data-dir",
                                  str(mnist_dir)]) == 2
    err = capsys.readouterr().err.strip().splitlines()   # its progress, then the error
    assert [e for e in err if e.startswith("error: ")] == err[-1:], err
    assert f"cannot write {run / 'metrics.json'}: No space left on device" in err[-1]
    assert "the disk is full" in err[-1]
    assert not (run / "metrics.json").exists() and temporaries(run) == []


def test_a_failed_write_leaves_no_temporary(tmp_path):
    def write_then_fail(tmp):
        tmp.write_bytes(b"half")
        raise OSError(28, "No space left on device")
    with pytest.raises(OSError):
        atomic_save(tmp_path / "checkpoint.npz", write_then_fail)
    assert list(tmp_path.iterdir()) == []


def test_an_immutable_folder_is_one_line(run, mnist_dir, capsys):
    if subprocess.run(["chattr", "+i", str(run)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
        one_line_error(capsys, "cannot write", "not permitted")
    finally:
        subprocess.run(["chattr", "-i", str(run)])
    assert RunFolder(run).read_checkpoint()["iteration"] == 40


def test_temporaries_of_killed_writers_are_removed_on_resume_and_overwrite(run, mnist_dir):
    for name in (".tmp-999-0-checkpoint.npz", ".checkpoint.npz.tmp123",
                 ".tmp4242.generator.keras", "frames/.tmp-999-1-003.png"):
        (run / name).write_bytes(b"x" * 1000)
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 0
    assert temporaries(run) == [] and not (run / ".checkpoint.npz.tmp123").exists()


# --- 5. a run stopped before its first checkpoint

def test_a_run_without_checkpoint_resumes_from_zero(run, mnist_dir, capsys, mnist, tmp_path):
    for name in ("checkpoint.npz", "generator.keras", "training.gif", "losses.png"):
        (run / name).unlink()
    assert cli(run, mnist_dir) == 2
    one_line_error(capsys, "already holds a run", "--resume", "--overwrite")
    assert cli(run, mnist_dir, "--resume") == 0
    assert "at iteration 0" in capsys.readouterr().out
    assert [r["iter"] for r in RunFolder(run).read_stats()] == [10, 20, 30, 40]


# --- 6, 7. where a run stopped cannot change it; extending is checked

@pytest.mark.slow
def test_extending_a_run_off_the_log_grid_is_bit_identical(mnist, finished, tmp_path):
    """Stopped at 25 (off every grid), resumed to 40: the straight 40-iteration run."""
    cut = tmp_path / "cut"
    train_lib.train(dataclasses.replace(TINY, iters=25), cut, data=mnist, **QUIET)
    cfg = train_lib.resume_config(cut, {"iters": 40})
    train_lib.train(cfg, cut, resume=True, data=mnist, **QUIET)
    a, b = RunFolder(finished).read_checkpoint(), RunFolder(cut).read_checkpoint()
    assert a.keys() == b.keys() and a["iteration"] == b["iteration"] == 40
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)


def test_resume_below_the_checkpoint_is_refused_and_changes_nothing(run, mnist_dir, capsys):
    before = (run / "config.json").read_bytes()
    assert cli(run, mnist_dir, "--resume", "--iters", "30") == 2
    one_line_error(capsys, "is at iteration 40, past --iters 30", "--iters 40 or more")
    assert (run / "config.json").read_bytes() == before


def test_overwrite_keeps_a_users_files_and_drops_every_old_result(run, mnist_dir):
    (run / "frames" / "notes.txt").write_text("mine")
    (run / "tensorboard").mkdir()
    (run / "tensorboard" / "mine.txt").write_text("mine")
    for name in ("metrics.json", "nearest_neighbours.png", "latent.json",
                 "interpolation.png", "arithmetic.png"):
        (run / name).write_text("from the previous run")
    assert cli(run, mnist_dir, "--overwrite", "--iters", "20") == 0
    assert (run / "frames" / "notes.txt").read_text() == "mine"
    assert (run / "tensorboard" / "mine.txt").read_text() == "mine"
    assert RunFolder(run).present() == ["config.json", "stats.jsonl", "checkpoint.npz",
                                        "training.gif", "losses.png", "generator.keras",
                                        "generator.json", "frames"]


# --- signals at awkward moments

def test_a_signal_during_the_final_writes_lets_them_finish(mnist, tmp_path):
    def stop_at_the_last_line(line):
        if line.startswith("Iter: 20"):
            os.kill(os.getpid(), signal.SIGTERM)
    # Windows of 20: "Iter: 20" is logged after the last chunk, before the final writes.
    summary = train_lib.train(dataclasses.replace(TINY, log_every=20), tmp_path / "r",
                              data=mnist, log=stop_at_the_last_line)
    assert summary["status"] == "complete" and summary["signal"] == signal.SIGTERM
    assert (tmp_path / "r" / "generator.keras").is_file()


def _start(args, **kw):
    # SIGINT back to its default in the child: a test run started in the background
    # of a non-interactive shell ignores SIGINT, and children inherit an ignore.
    return subprocess.Popen([sys.executable, "-m", "gan_tf.train", *args], env=ENV,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                            **kw)


def test_ctrl_c_during_start_up_is_one_line(tmp_path, mnist_dir):
    proc = _start(["--data-dir", str(mnist_dir), "--run-dir", str(tmp_path / "r")])
    time.sleep(1.0)     # importing TensorFlow
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 128 + signal.SIGINT, err
    # TensorFlow's C++ start-up lines (absl logs them before any Python runs) aside:
    ours = [l for l in err.splitlines() if l and not l.startswith(
        ("I0000", "W0000", "E0000", "WARNING: All log messages"))]
    assert len(ours) == 1 and ours[0].startswith("error: interrupted"), err
    assert not (tmp_path / "r").exists() or temporaries(tmp_path / "r") == []


def test_ctrl_c_inside_string_code_still_exits_130(tmp_path):
    """The start-up test above failed once in CI with -SIGINT: its Ctrl-C had landed in
    code run from a string (a dataclass's generated __init__), which leaves CPython's
    unhandled-KeyboardInterrupt flag set however it was caught, and `python -m` then
    dies by SIGINT. Here that moment is made certain: a module run with -m whose Ctrl-C
    is raised by exec'd code and caught as the train command catches it."""
    (tmp_path / "ctrl_c_probe.py").write_text(
        "import sys\n"
        "from gan_tf.core import cli\n"
        "try:\n"
        "    exec('raise KeyboardInterrupt')\n"
        "except KeyboardInterrupt:\n"
        "    sys.exit(cli.interrupted_exit('nothing was written'))\n")
    env = dict(ENV, PYTHONPATH=os.pathsep.join([str(tmp_path), ENV.get("PYTHONPATH", "")]))
    out = subprocess.run([sys.executable, "-m", "ctrl_c_probe"], env=env, cwd=REPO,
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 128 + signal.SIGINT, out.stderr
    assert out.stderr.strip() == "error: interrupted; nothing was written"


@pytest.mark.slow
def test_many_d_steps_still_stop_within_a_window(tmp_path, mnist_dir):
    """k = 100 D steps per iteration: a window of 100 iterations is 10,000 D steps
    (half a minute here), yet SIGTERM is answered between chunks sized to about half a
    second, long before the window ends."""
    run = tmp_path / "r"
    proc = _start(["--d-steps", "100", "--log-every", "100", "--snapshot-every", "100",
                   "--no-tensorboard", "--data-dir", str(mnist_dir), "--run-dir", str(run)])
    deadline = time.monotonic() + 120
    while not RunFolder(run).has_checkpoint() and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(3)
    t0 = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM
    stopped = RunFolder(run).read_checkpoint()["iteration"]
    assert 0 < stopped < 100 and time.monotonic() - t0 < 30, stopped


def test_a_stop_inside_a_logging_window_leaves_the_uninterrupted_log(mnist, finished,
                                                                     tmp_path, monkeypatch):
    """Issue 50 item 2: stopped at 13 (inside the window 10-20), resumed to 40: no
    partial record at 13, and the record of 20 averages all ten iterations, so
    stats.jsonl is the straight run's (apart from elapsed_s), as is the checkpoint."""
    class StopAt13(train_lib.Progress):
        def update(self, done):
            super().update(done)
            if done == 13:
                os.kill(os.getpid(), signal.SIGTERM)   # handled: stop at the next chunk
    # One iteration a chunk, so the stop comes at 13 exactly (chunks cannot change
    # the training, loop.Driver._chunk_body).
    monkeypatch.setattr(train_lib, "CHUNK_SECONDS", 0.0)
    monkeypatch.setattr(train_lib, "Progress", StopAt13)
    cut = tmp_path / "cut"
    summary = train_lib.train(TINY, cut, data=mnist, **QUIET)
    assert summary["status"] == "interrupted" and summary["iteration"] == 13
    assert [r["iter"] for r in RunFolder(cut).read_stats()] == [10]
    monkeypatch.undo()   # resumed in chunks of any size
    train_lib.train(train_lib.resume_config(cut, {}), cut, resume=True, data=mnist, **QUIET)

    def log(run):
        return [{k: v for k, v in r.items() if k != "elapsed_s"}
                for r in RunFolder(run).read_stats()]
    assert log(cut) == log(finished)
    a, b = RunFolder(finished).read_checkpoint(), RunFolder(cut).read_checkpoint()
    assert a.keys() == b.keys()
    for k in a:
        np.testing.assert_array_equal(a[k], b[k], err_msg=k)
