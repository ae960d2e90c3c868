"""The faults an adversarial tester found (issue 36), one group per numbered item:
a second process, tables that hide their protocol, damaged files read back, unbounded
counts, messages, and the PacGAN protocol's remedies."""

from __future__ import annotations

import json
import os
import signal

import numpy as np
import pytest

from gan_tf.core import reading
from gan_tf.core.errors import Stopped, UserError
from gan_tf.runs import files
from gan_tf.runs.folder import RunFolder

DEEP = "[" * 100_000 + "]" * 100_000


def _one_line(e) -> str:
    text = str(e.value)
    assert "\n" not in text and len(text) < 400, text
    return text


# --- 1. no result lost to a second process ------------------------------------------

def test_a_second_table_process_is_refused_and_changes_nothing(tmp_path, capsys):
    from gan_tf.toys import pacgan_table as command
    results = tmp_path / "results.json"
    results.write_text(json.dumps({"protocol": "x", "runs": {}}))
    before = results.read_bytes()
    lock = files.FolderLock(tmp_path)
    lock.acquire("the first table")
    try:
        lock_bytes = (tmp_path / ".lock").read_bytes()
        code = command.main(["--run-dir", str(tmp_path), "--runs", "ring/gan",
                             "--epochs", "1", "--trials", "1"])
        err = capsys.readouterr().err
        assert code == 2 and "is in use: another process" in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert results.read_bytes() == before
        assert (tmp_path / ".lock").read_bytes() == lock_bytes == b""
    finally:
        lock.release()


def test_a_table_merges_its_run_into_what_another_wrote_meanwhile(tmp_path):
    from gan_tf.studies.replications import tables
    path = tmp_path / "results.json"
    mine = tables.load_results(path, "p")                      # read at the start
    assert mine["runs"] == {}
    # Meanwhile another process finished a run and wrote it.
    tables.merge_run(path, "p", lambda r: True, "ring/gan", {"a": 1})
    out = tables.merge_run(path, "p", lambda r: True, "grid/gan", {"b": 2})
    assert out["runs"] == {"ring/gan": {"a": 1}, "grid/gan": {"b": 2}}
    assert json.loads(path.read_text())["runs"] == out["runs"]


def _snapshot(folder):
    return {p.relative_to(folder): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


# Every other command that writes a folder, with the folder it writes: each is refused
# in one line while another process holds that folder, and changes nothing in it.
WRITERS = [
    ("gan_tf.evaluate", lambda d: [str(d)], "run"),
    ("gan_tf.latent", lambda d: [str(d)], "run"),
    ("gan_tf.vae_likelihood", lambda d: [str(d)], "run"),
    ("gan_tf.saturation", lambda d: ["--run-dir", str(d), "--iters", "1000", "--seeds", "1"],
     "empty"),
    ("gan_tf.toys.gaussian1d", lambda d: ["--run-dir", str(d), "--iters", "10"], "empty"),
    ("gan_tf.toys.mode_collapse", lambda d: ["--run-dir", str(d), "--iters", "20",
                                             "--seeds", "1"], "empty"),
    ("gan_tf.toys.xy_game", lambda d: ["--run-dir", str(d), "--steps", "5"], "empty"),
    ("gan_tf.gan_vs_vae", lambda d: ["--out", str(d), str(d / "no-run")], "empty"),
    ("gan_tf.paper", lambda d: [str(d / "no-run"), "--out", str(d)], "empty"),
    ("gan_tf.dcgan", lambda d: [str(d / "no-run"), "--out", str(d)], "empty"),
    ("gan_tf.wasserstein_curves", lambda d: [str(d / "no-run"), "--out", str(d)], "empty"),
    ("gan_tf.info_codes", lambda d: [str(d / "no-run"), "--out", str(d)], "empty"),
    ("gan_tf.bench", lambda d: ["--out", str(d), "--iters", "1"], "empty"),
    ("gan_tf.bench", lambda d: ["--out", str(d), "--iters", "1", "--dcgan"], "empty"),
    ("gan_tf.bench", lambda d: ["--out", str(d), "--iters", "1", "--profile"], "empty"),
    ("gan_tf.classifier", lambda d: ["--out", str(d / "c.keras"), "--epochs", "1"], "empty"),
]


@pytest.mark.parametrize("module,argv,folder", WRITERS,
                         ids=[f"{m}-{k}" for k, (m, _, _) in enumerate(WRITERS)])
def test_every_command_that_writes_a_folder_holds_its_lock(module, argv, folder, tmp_path,
                                                            request, mnist_dir, capsys):
    import importlib
    target = request.getfixturevalue("run") if folder == "run" else tmp_path / "out"
    target.mkdir(exist_ok=True)
    (target / "mine.txt").write_text("a user's file")
    lock = files.FolderLock(target)
    lock.acquire("another command")
    before = _snapshot(target)
    try:
        args = argv(target)
        if module in ("gan_tf.bench", "gan_tf.classifier"):
            args += ["--data-dir", str(mnist_dir)]
        code = importlib.import_module(module).main(args)
        err = capsys.readouterr().err
        assert code == 2 and "is in use: another process" in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert _snapshot(target) == before and (target / ".lock").read_bytes() == b""
    finally:
        lock.release()


# --- 2. tables say their protocol ------------------------------------------------

def test_the_paper_table_labels_a_row_off_its_protocol_and_leaves_it_out_of_the_mean():
    from gan_tf.studies.replications import paper
    assert paper.protocol_gaps({"num_samples": 10_000}) == []
    assert paper.protocol_gaps({"num_samples": 100}) == ["100 centres, not 10,000"]
    assert paper.protocol_gaps({}) == ["its number of centres is not recorded"]
    m = {"parzen_ll": 1.0, "parzen_se": 0.1, "parzen_sigma": 0.2, "mnist_score": 9.0,
         "frechet_distance": 3.0, "confident_share": 0.9}
    real = dict(m)

    def row(n, ll):
        return {"metrics": dict(m, parzen_ll=ll), "real": real, "iteration": 10,
                "curve": [], "elapsed_s": None, "num_samples": n, "z_seed": 0,
                "precision": "float32", "off_protocol": paper.protocol_gaps(
                    {"num_samples": n})}
    text = paper.table({0: row(10_000, 200.0), 1: row(10_000, 210.0), 2: row(100, -59.1)},
                       0.0)
    assert "10,000 samples of G as the centres" in text.splitlines()[0]
    assert "seed 2 (off the paper's protocol: 100 centres, not 10,000)" in text
    assert "mean ± std over 2 seeds | | 205.0 ± 7.1" in text
    assert "10,000 samples, z seed 0, float32" in text


def test_the_results_table_says_what_each_row_was_evaluated_on_and_trained_in(run):
    import dataclasses
    from gan_tf.evaluation import results
    gen = {c.key: 1.0 for c in results.COLUMNS} | {"parzen_se": 1.0}
    folder = RunFolder(run)
    cfg = folder.read_config()
    folder.write_config(dataclasses.replace(cfg, precision="mixed_bfloat16"))
    (run / "metrics.json").write_text(json.dumps(
        {"generated": gen, "real": gen, "num_samples": 100, "seed": 3, "split": "paper"}))
    text = results.table([run / "metrics.json"])
    row = next(line for line in text.splitlines() if line.startswith("| `run`"))
    assert row.endswith("| 100 samples, z seed 3, paper split | mixed_bfloat16 |"), row
    assert text.splitlines()[0].endswith("| evaluated on | trained in |")
    assert all(line.count("|") == text.splitlines()[0].count("|")
               for line in text.splitlines() if line.startswith("|"))
    # A metrics.json from before evaluate recorded the split: the run's own config's.
    (run / "metrics.json").write_text(json.dumps({"generated": gen, "real": gen,
                                                  "num_samples": 10_000, "seed": 0}))
    row = next(line for line in results.table([run / "metrics.json"]).splitlines()
               if line.startswith("| `run`"))
    assert f"10,000 samples, z seed 0, {cfg.split} split | mixed_bfloat16 |" in row


def test_a_sweep_row_lists_each_setting_its_seeds_differ_in():
    from gan_tf.evaluation import results
    cells = [results.settings(10_000, 0, "tutorial", "float32"),
             results.settings(100, 0, "tutorial", "float32")]
    assert results.merged_settings(cells) == (
        "10,000 samples, z seed 0, tutorial split / 100 samples, z seed 0, tutorial split",
        "float32")
    assert results.merged_settings(cells[:1] * 3) == cells[0]


def test_the_paper_study_on_a_missing_run_says_how_to_make_it(tmp_path):
    from gan_tf.studies.replications.paper import paper_study
    with pytest.raises(UserError) as e:
        paper_study(tmp_path / "nothing", tmp_path / "out")
    text = _one_line(e)
    assert "make mnist-paper" in text and "--overwrite" not in text
    assert not (tmp_path / "out").exists()


# --- 3. every file read back: one line, whatever its bytes --------------------------

def test_deep_json_is_refused_in_one_line_everywhere(tmp_path):
    from gan_tf.studies.replications import tables
    with pytest.raises(UserError) as e:
        reading.parse_json(DEEP, "x.json", "make it again")
    assert "deep" in _one_line(e)
    run = tmp_path / "run"
    run.mkdir()
    (run / "config.json").write_text(DEEP)
    with pytest.raises(UserError) as e:
        RunFolder(run).read_config()
    assert "config.json" in _one_line(e)
    (tmp_path / "results.json").write_text(DEEP)
    with pytest.raises(UserError) as e:
        tables.load_results(tmp_path / "results.json", "p")
    assert "results.json" in _one_line(e)


@pytest.mark.parametrize("content", [
    '{"protocol": "pacgan-2d", "runs": {"ring/gan": {}}}',
    '{"protocol": "pacgan-2d", "runs": {"ring/gan": []}}',
    '{"protocol": "pacgan-2d", "runs": {"ring/gan": {"settings": 3}}}',
    '{"protocol": "pacgan-2d", "runs": []}',
    '"just a string"',
])
def test_a_malformed_pacgan_results_entry_is_refused_before_any_training(tmp_path,
                                                                         content):
    from gan_tf.studies.replications.pacgan import pacgan_table
    (tmp_path / "results.json").write_text(content.replace("pacgan-2d",
                                                           pacgan_table.PROTOCOL))
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(UserError) as e:
        pacgan_table.run(tmp_path, ("ring/gan",), epochs=1, trials=1, num_sample=300)
    assert "results.json" in _one_line(e)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_file_far_larger_than_a_run_writes_is_refused_unread(tmp_path):
    big = tmp_path / "config.json"
    with open(big, "wb") as f:
        f.truncate(2 * reading.MIB)          # sparse: no disk used
    with pytest.raises(UserError) as e:
        RunFolder(tmp_path).read_config()
    assert "config.json" in _one_line(e)


def test_a_generator_file_that_is_truncated_or_crafted_is_one_line(tmp_path):
    from gan_tf.runs.folder import read_generator
    path = tmp_path / "g.keras"
    path.write_bytes(b"PK\x03\x04" + b"\0" * 40)        # a zip's start, cut off
    with pytest.raises(UserError) as e:
        read_generator(path, "retrain it")
    assert "not a Keras model file" in _one_line(e) and "not found" not in str(e.value)


def test_a_generator_file_with_a_lambda_layer_gives_its_advice_once(tmp_path, capsys):
    """Issue 50 item 6: the refusal said "use a generator file gan-tf saved" twice."""
    import keras

    from gan_tf import evaluate as evaluate_command
    inp = keras.Input((100,))
    path = tmp_path / "g.keras"
    keras.Model(inp, keras.layers.Lambda(lambda v: -v)(inp)).save(path)
    assert evaluate_command.main([str(path)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: {path} was refused: it holds code Keras would run on loading (a Lambda "
        f"layer or a custom function), and gan-tf loads generators only in Keras' safe "
        f"mode; use a generator file gan-tf saved (docs/models/, or a run's "
        f"generator.keras)"]


# --- 4. bounded work -------------------------------------------------------------

@pytest.mark.parametrize("module, argv", [
    ("gan_tf.toys.pacgan_table", ["--trials", "100000"]),
    ("gan_tf.toys.pacgan_table", ["--epochs", "nan"]),
    ("gan_tf.stacked_mnist", ["--trials", "100000"]),
    ("gan_tf.stacked_mnist", ["--precision", "bfloat16"]),
    ("gan_tf.evaluate", ["run", "--num-samples", "10000000"]),
    ("gan_tf.latent", ["run", "--pairs", "100000"]),
    ("gan_tf.vae_likelihood", ["run", "--k", "1e9"]),
    ("gan_tf.saturation", ["--seeds", "100000"]),
    ("gan_tf.saturation", ["--ahead-steps", "100000000"]),
    ("gan_tf.bench", ["--repeats", "100000"]),
    ("gan_tf.classifier", ["--epochs", "100000"]),
    ("gan_tf.toys.gaussian1d", ["--iters", "100000000000"]),
    ("gan_tf.toys.mode_collapse", ["--seeds", "100000"]),
    ("gan_tf.toys.xy_game", ["--eta", "nan"]),
    ("gan_tf.toys.xy_game", ["--steps", "100000000000"]),
])
def test_every_count_flag_has_a_bound(module, argv, capsys):
    import importlib
    command = importlib.import_module(module)
    with pytest.raises(SystemExit) as e:
        command.main(argv)
    err = capsys.readouterr().err
    assert e.value.code == 2 and len(err.strip().splitlines()) == 1, err
    assert "must be" in err or "invalid choice" in err, err


def test_a_stop_in_a_table_says_what_was_kept_and_what_was_lost():
    from gan_tf.studies.replications.tables import stop_if_asked

    class Asked:
        signum = int(signal.SIGTERM)
    with pytest.raises(Stopped) as e:
        stop_if_asked(Asked(), ["ring/gan"], "grid/gan's 3 of 20 epochs")
    assert e.value.signum == signal.SIGTERM
    text = _one_line(e)
    assert "keeps ring/gan" in text and "lost: grid/gan's 3 of 20 epochs" in text

    class NotAsked:
        signum = None
    stop_if_asked(NotAsked(), [], "")                     # no stop: nothing happens


def test_a_stopped_command_exits_with_128_plus_the_signal():
    from gan_tf.core import cli

    def stopped():
        raise Stopped("stopped by SIGTERM", int(signal.SIGTERM))
    assert cli.run(stopped) == 128 + signal.SIGTERM


# --- 5. messages ----------------------------------------------------------------

def test_an_empty_results_entry_is_damaged_not_kept(tmp_path):
    from gan_tf.studies.replications import tables
    (tmp_path / "results.json").write_text('{"protocol": "p", "runs": {"ring/gan": {}}}')
    with pytest.raises(UserError) as e:
        tables.load_results(tmp_path / "results.json", "p")
    assert "'ring/gan' is damaged" in _one_line(e) and "cannot write" not in str(e.value)


@pytest.mark.parametrize("module,argv,make", [
    ("gan_tf.paper", ["{missing}"], "make mnist-paper"),
    ("gan_tf.dcgan", ["{missing}"], "make mnist-dcgan"),
    ("gan_tf.gan_vs_vae", ["{missing}"], "make mnist-vae"),
])
def test_a_study_of_a_missing_run_names_its_own_make_target(module, argv, make, tmp_path,
                                                             capsys):
    import importlib
    args = [a.format(missing=tmp_path / "no-run") for a in argv] + ["--out",
                                                                     str(tmp_path / "o")]
    assert importlib.import_module(module).main(args) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1 and make in err, err
    assert "--resume" not in err and "--overwrite" not in err, err
    assert not (tmp_path / "o").exists()          # a refused study leaves no folder


@pytest.mark.parametrize("module", ["gan_tf.evaluate", "gan_tf.latent",
                                    "gan_tf.vae_likelihood"])
def test_a_locked_run_refuses_a_measure_with_a_fix_it_accepts(module, tmp_path, capsys):
    """Issue 50 item 7: these commands take the run folder itself, not --run-dir; the
    fix they print (wait, then run it again) is run here and is no longer refused so."""
    import importlib
    command = importlib.import_module(module)
    lock = files.FolderLock(tmp_path)
    lock.acquire("run folder")
    try:
        assert command.main([str(tmp_path)]) == 2
    finally:
        lock.release()
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: {tmp_path} is in use: another process (pid {os.getpid()}) is "
                   f"writing this run folder; wait for it to finish or stop it, then run "
                   f"this command again"]
    assert command.main([str(tmp_path)]) == 2          # an empty folder: another refusal
    assert "in use" not in capsys.readouterr().err


def test_results_of_an_unevaluated_folder_names_it_once(tmp_path, capsys):
    from gan_tf import results as results_command
    assert results_command.main([str(tmp_path), "--print"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        f"error: no metrics.json in {tmp_path}; evaluate first (python -m gan_tf.evaluate "
        f"{tmp_path})"]


def test_a_refused_resume_leaves_the_lock_file_byte_identical(tmp_path):
    lock = files.FolderLock(tmp_path)
    lock.acquire("the first")
    try:
        (tmp_path / ".lock").chmod(0o644)
        before = (tmp_path / ".lock").read_bytes(), (tmp_path / ".lock").stat().st_mtime_ns
        with pytest.raises(UserError) as e:
            files.FolderLock(tmp_path).acquire("a second")
        _one_line(e)
        after = (tmp_path / ".lock").read_bytes(), (tmp_path / ".lock").stat().st_mtime_ns
        assert before == after
    finally:
        lock.release()
    assert not (tmp_path / ".lock").exists()      # the lock that made it removes it


def test_stacked_mnist_spells_the_precision_as_train_does():
    from gan_tf.core.config import PRECISIONS
    from gan_tf.studies.replications.pacgan import stacked_mnist as stacked_mnist_table
    assert "mixed_bfloat16" in PRECISIONS
    assert stacked_mnist_table._OLD_PRECISION == {"bfloat16": "mixed_bfloat16"}


# --- 6. the remedies on the PacGAN protocol ----------------------------------------

def test_the_unrolled_gan_trains_on_finite_numbers_from_its_first_step():
    """XLA's gradient of sqrt at 0 times a zero incoming gradient was NaN: the
    unrolled rows trained on NaN from iteration 1 (their samples left the plot)."""
    from gan_tf.studies.replications.pacgan import protocol as pp
    t = pp.Trials("grid", pp.Method(unroll=2), [0], num_sample=200)
    d, g = t.train_epoch()
    assert np.isfinite(d).all() and np.isfinite(g).all()
    assert all(np.isfinite(v.numpy()).all() for v in t.G + t.D)
    assert np.isfinite(t.samples()).all()


def test_sqrt0_is_sqrt_with_a_finite_gradient_at_zero():
    import tensorflow as tf
    from gan_tf.studies.replications.pacgan.protocol import sqrt0
    v = tf.constant([0.0, 0.25, 4.0])

    @tf.function(jit_compile=True)
    def grads(v):
        with tf.GradientTape() as tape:
            tape.watch(v)
            y = tf.reduce_sum(tf.constant([0.0, 1.0, 1.0]) * sqrt0(v))
        return sqrt0(v), tape.gradient(y, v)
    value, grad = grads(v)
    np.testing.assert_array_equal(value.numpy(), [0.0, 0.5, 2.0])
    np.testing.assert_allclose(grad.numpy(), [0.0, 1.0, 0.25])
