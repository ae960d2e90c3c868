"""Issue 23's tester, one test per kind: nothing outside the run folder is ever
touched (symbolic links inside it are refused), a refused command leaves every file
byte-identical, and a saved config missing a key never resumes as today's defaults."""

import hashlib
import json
import shutil

import numpy as np
import pytest

from conftest import QUIET, TINY, cli, one_line_error
from gan_tf.core import migrate as migrate_module
from gan_tf.core.config import Config
from gan_tf.core.errors import UserError
from gan_tf.runs.folder import RunFolder
from gan_tf.train import main
from gan_tf.training import run as train_lib


def tree(folder) -> dict:
    """Every file under folder (links as links) -> its content's hash."""
    out = {}
    for p in sorted(folder.rglob("*")):
        key = str(p.relative_to(folder))
        if p.is_symlink():
            out[key] = "-> " + str(p.readlink())
        elif p.is_file():
            out[key] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture(scope="module")
def finished_sweep(mnist_dir, tmp_path_factory):
    path = tmp_path_factory.mktemp("sweep") / "sw"
    assert cli(path, mnist_dir, "--seeds", "2") == 0
    return path


@pytest.fixture
def sweep(finished_sweep, tmp_path):
    shutil.copytree(finished_sweep, tmp_path / "sw", symlinks=True)
    return tmp_path / "sw"


# --- 1. symbolic links inside a run folder reach nothing outside it

@pytest.fixture
def elsewhere(tmp_path):
    """A user's folder outside the run: files named like a run's own."""
    d = tmp_path / "users-files"
    d.mkdir()
    for name in ("000.png", "001.png", ".tmp-1-0-x.png", "events.out.tfevents.1.host",
                 "notes.txt"):
        (d / name).write_bytes(b"the user's " + name.encode())
    return d


@pytest.mark.parametrize("name", ["frames", "tensorboard"])
@pytest.mark.parametrize("mode", ["--overwrite", "--resume"])
def test_a_linked_folder_inside_a_run_is_refused_and_its_target_untouched(
        name, mode, run, elsewhere, mnist_dir, capsys):
    if (run / name).exists():
        shutil.rmtree(run / name)
    (run / name).symlink_to(elsewhere, target_is_directory=True)
    before, outside = tree(run), tree(elsewhere)
    assert cli(run, mnist_dir, mode, "--iters", "60") == 2
    one_line_error(capsys, f"{run / name} is a symbolic link", "never through a link")
    assert tree(elsewhere) == outside and tree(run) == before


def test_a_linked_lock_is_refused_and_its_target_untouched(run, elsewhere, mnist_dir,
                                                           capsys):
    (run / ".lock").unlink(missing_ok=True)
    (run / ".lock").symlink_to(elsewhere / "notes.txt")
    assert cli(run, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, ".lock is a symbolic link")
    assert (elsewhere / "notes.txt").read_bytes() == b"the user's notes.txt"


def test_the_lock_itself_never_opens_through_a_link(tmp_path):
    """FolderLock refuses a link on its own (O_NOFOLLOW), whoever calls it."""
    from gan_tf.runs.files import FolderLock
    target = tmp_path / "target"
    target.write_text("keep")
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / ".lock").symlink_to(target)
    with pytest.raises(UserError, match="symbolic link"):
        FolderLock(tmp_path / "run").acquire()
    assert target.read_text() == "keep"


@pytest.mark.parametrize("name", ["stats.jsonl", "config.json", "checkpoint.npz"])
def test_a_linked_run_file_is_refused(name, run, elsewhere, mnist_dir, capsys):
    target = elsewhere / "notes.txt"
    (run / name).unlink()
    (run / name).symlink_to(target)
    assert cli(run, mnist_dir, "--overwrite") == 2
    one_line_error(capsys, f"{name} is a symbolic link")
    assert target.read_bytes() == b"the user's notes.txt"


@pytest.mark.slow
def test_a_linked_seed_folder_of_a_sweep_is_refused(sweep, elsewhere, mnist_dir, capsys):
    shutil.rmtree(sweep / "seed-1")
    (sweep / "seed-1").symlink_to(elsewhere, target_is_directory=True)
    before, outside = tree(sweep), tree(elsewhere)
    for mode in ("--resume", "--overwrite"):
        args = ["--seeds", "2"] if mode == "--overwrite" else []
        assert cli(sweep, mnist_dir, mode, "--iters", "60", *args) == 2
        one_line_error(capsys, "seed-1 is a symbolic link")
    assert tree(elsewhere) == outside and tree(sweep) == before


# --- 2. a refused sweep command changes nothing

@pytest.mark.slow
def test_a_refused_sweep_resume_leaves_every_file_byte_identical(sweep, mnist_dir, capsys):
    before = tree(sweep)
    assert cli(sweep, mnist_dir, "--resume", "--iters", "20") == 2
    one_line_error(capsys, "past --iters")
    assert tree(sweep) == before
    # ... and the sweep still resumes as it was (a plain --resume: nothing to do).
    assert cli(sweep, mnist_dir, "--resume") == 0
    assert json.loads((sweep / "sweep.json").read_text())["status"] == "complete"


@pytest.mark.slow
def test_a_seed_folder_replaced_by_a_file_is_refused_before_sweep_json_changes(
        sweep, mnist_dir, capsys):
    shutil.rmtree(sweep / "seed-0")
    (sweep / "seed-0").write_text("not a folder")
    before = tree(sweep)
    assert cli(sweep, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, "seed-0", "not a folder")
    assert tree(sweep) == before


@pytest.mark.slow
def test_a_seed_whose_config_was_changed_is_refused_before_sweep_json_changes(
        sweep, mnist_dir, capsys):
    path = sweep / "seed-1" / "config.json"
    saved = json.loads(path.read_text())
    path.write_text(json.dumps({**saved, "params": {**saved["params"], "lr": 0.5}}))
    before = tree(sweep)
    assert cli(sweep, mnist_dir, "--resume", "--iters", "60") == 2
    one_line_error(capsys, "config differs")
    assert tree(sweep) == before


# --- 3. a saved config missing a key is refused, or filled from a recorded value

def test_an_empty_saved_config_is_refused_naming_the_missing_keys(run, mnist_dir, capsys):
    (run / "config.json").write_text("{}")
    before = tree(run)
    assert cli(run, mnist_dir, "--resume") == 2
    line = one_line_error(capsys, "config.json", "lacks", "iters", "seed", "loss")
    assert "100,000" not in line
    assert tree(run) == before


@pytest.mark.slow
def test_a_sweep_config_missing_keys_is_refused(sweep, mnist_dir, capsys):
    info = json.loads((sweep / "sweep.json").read_text())
    (sweep / "sweep.json").write_text(json.dumps({**info, "config": {}}))
    before = tree(sweep)
    assert cli(sweep, mnist_dir, "--resume") == 2
    one_line_error(capsys, "sweep.json", "lacks", "iters")
    assert tree(sweep) == before


def shared_layout(cfg: Config) -> dict:
    """cfg as the shared layout (2026-12-02 .. 2026-12-07) saved it: the options that
    are family parameters now at the top, beside family and params."""
    saved = json.loads(cfg.to_json())
    params = saved.pop("params")
    moved = {k: params.pop(k) for k in list(params) if k in migrate_module.SHARED_TO_PARAMS}
    return {**saved, **moved, "params": params}


def test_a_key_added_later_is_filled_from_the_recorded_value_not_todays_default(
        monkeypatch):
    saved = shared_layout(TINY)
    del saved["g_loss"], saved["same_z"]          # as a run saved before they existed
    assert Config.from_dict(saved) == TINY
    # The fill is the recorded value: were today's default to change, a saved run
    # would not; were the record to say otherwise, the saved run would follow it.
    monkeypatch.setitem(migrate_module.ADDED_LATER, "g_loss", "minimax")
    assert Config.from_dict(saved).params.g_loss == "minimax"
    assert Config().params.g_loss == "nonsaturating"


def test_a_saved_config_missing_a_family_parameter_is_refused_not_filled():
    """Only a parameter that names its `before` value may be missing (cyclegan's
    pool_size); any other is refused, never filled with today's default (a WGAN-GP
    without gp_weight would have trained on as a clipped WGAN)."""
    for saved in (json.loads(TINY.to_json()), shared_layout(TINY)):
        del saved["params"]["d_hidden"]
        with pytest.raises(UserError, match=r"params lack d_hidden \(family 'mlp'"):
            Config.from_dict(saved)
    gp = Config.of(family="wgan", clip=0.0, gp_weight=10.0, d_steps=5)
    saved = json.loads(gp.to_json())
    del saved["params"]["gp_weight"]
    with pytest.raises(UserError, match="params lack gp_weight"):
        Config.from_dict(saved)
    cyc = Config.of(family="cyclegan", decay_start=10, decay_iters=0, pool_size=7)
    saved = json.loads(cyc.to_json())
    del saved["params"]["pool_size"], saved["params"]["decay_start"]
    assert Config.from_dict(saved).params.pool_size == 0         # its `before`
    assert Config.from_dict(saved).params.decay_start == 0


def test_a_saved_option_a_family_no_longer_takes_is_refused_unless_it_was_the_default():
    """The shared layout's options that a family does not have now were refused or
    ignored by it: dropped at the value it trained with, refused at any other."""
    saved = shared_layout(Config.of(family="semi_supervised"))
    for key in ("loss", "log_eps", "init", "d_steps", "optimizer", "adam_eps"):
        saved.setdefault(key, migrate_module.SHARED_TO_PARAMS[key])
    assert Config.from_dict(saved) == Config.of(family="semi_supervised")
    with pytest.raises(UserError, match="sets d_steps 5, which family 'semi_supervised' "
                                        "does not take"):
        Config.from_dict({**saved, "d_steps": 5})


def test_every_field_is_either_required_or_recorded():
    import dataclasses
    # family and params replaced the flat keys in 2026-12: a config without them is
    # flat, and core/migrate makes them from those keys (each recorded); the options
    # that moved into params then were at the top before.
    names = ({f.name for f in dataclasses.fields(Config)} - {"family", "params"}
             | set(migrate_module.SHARED_TO_PARAMS))
    required = set(migrate_module.SAVED_SINCE_FIRST)
    recorded = set(migrate_module.ADDED_LATER)
    assert required | recorded == names | set(migrate_module.FLAT_FAMILY_KEYS)
    assert not required & recorded
    # the recorded values are valid ones: a flat config of the first version's keys
    first = {k: v for k, v in shared_layout(Config()).items()
             if k in migrate_module.SAVED_SINCE_FIRST}
    assert Config.from_dict({**first, **migrate_module.ADDED_LATER}) == Config()


# --- 4. a generator is measured and reported at the iteration it was saved at

def _resume_and_crash(run, mnist, iters):
    """--resume --iters ITERS, killed (KeyboardInterrupt) after its first new frame."""
    def log(line):
        if line.startswith("Iter: 40"):
            raise KeyboardInterrupt
    cfg = train_lib.resume_config(run, {"iters": iters})
    with pytest.raises(KeyboardInterrupt):
        train_lib.train(cfg, run, resume=True, data=mnist, log=log)
    assert RunFolder(run).read_config().iters == iters
    assert RunFolder(run).checkpoint_iteration() < iters


@pytest.mark.slow
def test_a_stale_generator_is_evaluated_as_what_it_is(run, mnist, mnist_dir, capsys):
    from gan_tf import evaluate as evaluate_command
    from gan_tf.evaluation import results
    assert RunFolder(run).generator_iteration() == 40
    _resume_and_crash(run, mnist, 3000)
    # generator.json still belongs to generator.keras: the old generator, at 40.
    assert RunFolder(run).generator_iteration() == 40
    assert evaluate_command.main([str(run), "--num-samples", "100", "--data-dir",
                                  str(mnist_dir)]) == 0
    m = json.loads((run / "metrics.json").read_text())
    assert m["iteration"] == 40
    row = results.table([run / "metrics.json"]).splitlines()[2]
    assert row.startswith("| `run` | 40 |")


@pytest.mark.slow
def test_a_generator_of_unknown_iteration_is_refused_not_reported_as_new(run, mnist,
                                                                         mnist_dir, capsys):
    from gan_tf import evaluate as evaluate_command
    _resume_and_crash(run, mnist, 3000)
    (run / "generator.json").unlink()        # as a run from before generator.json
    capsys.readouterr()
    assert evaluate_command.main([str(run), "--num-samples", "100", "--data-dir",
                                  str(mnist_dir)]) == 2
    one_line_error(capsys, "cannot tell which iteration", "3,000", "--resume")
    assert not (run / "metrics.json").exists()


def test_generator_json_of_another_generator_is_void(run):
    folder = RunFolder(run)
    info = json.loads((run / "generator.json").read_text())
    (run / "generator.json").write_text(json.dumps({**info, "iteration": 7}))
    assert folder.generator_iteration() == 7
    (run / "generator.json").write_text(json.dumps({**info, "iteration": 7,
                                                    "sha256": "0" * 64}))
    assert folder.generator_iteration() == 40      # the hash differs: the folder's own word
    (run / "generator.json").write_text("not json")
    assert folder.generator_iteration() == 40


def test_results_never_fill_an_unknown_iteration_from_the_config(tmp_path):
    from gan_tf.evaluation import results
    gen = {"mnist_score": 4.5, "frechet_distance": 80.0, "modes_covered": 8,
           "class_kl": 0.5, "confident_share": 0.7, "parzen_ll": 90.0, "parzen_se": 1.8}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "config.json").write_text(TINY.to_json())
    (tmp_path / "r" / "metrics.json").write_text(json.dumps(
        {"generated": gen, "real": gen, "iteration": None}))
    assert results.table([tmp_path / "r" / "metrics.json"]).splitlines()[2].startswith(
        "| `r` | ? |")


# --- 5. the DCGAN is as reproducible as the MLP GANs

@pytest.mark.slow
def test_the_dcgan_command_is_bit_reproducible_and_resumes_bit_identically(mnist_dir,
                                                                           tmp_path):
    """Two identical 15-iteration mnist-dcgan commands, and one stopped at 5 and
    resumed to 15: every checkpoint array and every stats record the same bits.
    (With TensorFlow's default thread pools 51 of 55 arrays differed; see
    gan_tf/training/threads.py.) A record is a 5-iteration window, which the resumed
    run trains in other chunks (the first chunk after a start is one iteration, later
    ones as long as the machine's speed allows): when each chunk summed its own values
    and the window added the chunks' sums, the records differed in their last bits."""
    import subprocess
    import sys

    import numpy as np

    from conftest import ENV

    def train(path, iters, *extra):
        out = subprocess.run(
            [sys.executable, "-m", "gan_tf.train", "--experiment", "mnist-dcgan",
             "--iters", str(iters), "--log-every", "5", "--snapshot-every", "5",
             "--no-tensorboard", "--data-dir", str(mnist_dir), "--run-dir", str(path),
             *extra], env=ENV, capture_output=True, text=True, timeout=600)
        assert out.returncode == 0, out.stderr[-2000:]

    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    train(a, 15)
    train(b, 15)
    train(c, 5)
    train(c, 15, "--resume")
    ck = [RunFolder(p).read_checkpoint() for p in (a, b, c)]
    assert ck[0]["iteration"] == 15 and len(ck[0]) > 50
    for other in ck[1:]:
        assert sorted(other) == sorted(ck[0])
        different = [k for k in ck[0] if not np.array_equal(ck[0][k], other[k])]
        assert different == []
    stats = [[{k: v for k, v in r.items() if k != "elapsed_s"}
              for r in RunFolder(p).read_stats()] for p in (a, b, c)]
    assert len(stats[0]) == 3 and stats[0] == stats[1] == stats[2]


# --- 6 and 7. one line where a traceback or a bad number was

@pytest.fixture(scope="module")
def finished_vae(mnist, tmp_path_factory):
    run = tmp_path_factory.mktemp("vae") / "run"
    train_lib.train(Config.of(family="vae", iters=40, snapshot_every=20, log_every=10,
                           tensorboard=False), run, data=mnist, **QUIET)
    return run


@pytest.mark.slow
@pytest.mark.parametrize("damage, words", [
    (lambda a: a.reshape(-1)[:3], "does not match this VAE"),
    (lambda a: a.astype(str), "does not match this VAE"),
    (lambda a: a * np.nan, "NaN or Inf"),
])
def test_a_damaged_vae_checkpoint_is_one_line_for_the_likelihood(
        damage, words, finished_vae, mnist_dir, tmp_path, capsys):
    from gan_tf import vae_likelihood
    run = tmp_path / "vae"
    shutil.copytree(finished_vae, run)
    ck = RunFolder(run).read_checkpoint()
    key = next(k for k in ck if k.startswith("E/"))
    ck[key] = damage(ck[key])
    RunFolder(run).save_checkpoint({**ck, "iteration": np.int64(ck["iteration"])})
    assert vae_likelihood.main([str(run), "--k", "2", "--num-images", "10", "--data-dir",
                                str(mnist_dir)]) == 2
    one_line_error(capsys, words)
    assert not (run / "likelihood.json").exists()


def test_tensorflow_s_refusal_of_an_event_folder_is_one_line(tmp_path):
    """A name TensorFlow's event writer cannot create (here one past NAME_MAX; a long
    --run-dir hits PATH_MAX alike) is a UserError naming the fix, not an OpError."""
    from gan_tf.runs.writer import event_writer
    with pytest.raises(UserError, match="cannot write TensorBoard events.*File name too "
                                        "long.*--no-tensorboard"):
        event_writer(tmp_path / ("x" * 300))


def test_an_immutable_tensorboard_folder_is_one_line_and_starts_nothing(
        mnist_dir, tmp_path, capsys):
    import subprocess
    run = tmp_path / "run"
    (run / "tensorboard").mkdir(parents=True)
    if subprocess.run(["chattr", "+i", str(run / "tensorboard")],
                      capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        assert main(["--iters", "20", "--snapshot-every", "10", "--log-every", "10",
                     "--data-dir", str(mnist_dir), "--run-dir", str(run)]) == 2
    finally:
        subprocess.run(["chattr", "-i", str(run / "tensorboard")])
    one_line_error(capsys, "cannot write TensorBoard events")
    assert not (run / "config.json").exists()


def test_seeds_are_quoted_short_and_in_their_order():
    from gan_tf.runs.sweeps import seeds_text
    assert seeds_text([3, 4, 5]) == "3..5" and seeds_text([2, 1]) == "2, 1"
    assert seeds_text(range(100_000))[:4] == "0..9"
    assert seeds_text([5, 1, 9, 2, 7, 3, 8]) == "5, 1, 9, 2, 7, ... (7 seeds)"


@pytest.mark.slow
def test_a_sweep_json_of_100000_seeds_is_one_short_line(sweep, mnist_dir, capsys):
    info = json.loads((sweep / "sweep.json").read_text())
    (sweep / "sweep.json").write_text(json.dumps({**info, "seeds": list(range(100_000))[::-1]}))
    assert cli(sweep, mnist_dir, "--resume") == 2
    assert len(one_line_error(capsys, "sweep.json", "distinct seeds")) < 400


def test_an_empty_experiment_name_is_refused_not_the_defaults(tmp_path, capsys):
    assert main(["--experiment", "", "--run-dir", str(tmp_path / "run")]) == 2
    one_line_error(capsys, "unknown experiment ''")
    assert not (tmp_path / "run").exists()


def test_a_run_dir_that_is_a_root_or_home_is_refused(tmp_path, monkeypatch, mnist_dir,
                                                     capsys):
    with pytest.raises(UserError, match="choose a folder of its own"):
        RunFolder("/").check_layout()
    home = tmp_path / "home"
    home.mkdir()
    monkeypatch.setenv("HOME", str(home))
    assert cli(home, mnist_dir) == 2
    one_line_error(capsys, "choose a folder of its own")
    assert list(home.iterdir()) == []


def test_evaluating_an_empty_folder_says_it_holds_no_run(tmp_path, capsys):
    from gan_tf import evaluate as evaluate_command
    assert evaluate_command.main([str(tmp_path)]) == 2
    line = one_line_error(capsys, "holds no run")
    assert "--resume" not in line


@pytest.mark.slow
def test_a_stopped_sequential_sweep_says_to_resume_the_sweep_not_its_seed(mnist, tmp_path):
    import os
    import signal

    from gan_tf.training import sweep
    lines = []

    def log(line):
        lines.append(line)
        if line.startswith("Iter: 20"):
            os.kill(os.getpid(), signal.SIGTERM)   # StopRequests holds it to the chunk's end
    cfg = Config.of(iters=200, snapshot_every=20, log_every=10, tensorboard=False)
    summary = sweep.train_sweep(cfg, [0, 1], tmp_path / "sw", sequential=True, data=mnist,
                                log=log)
    assert summary["signal"] == signal.SIGTERM
    stop = next(line for line in lines if line.startswith("Stopped by signal"))
    assert stop.endswith(f"--resume --run-dir {tmp_path / 'sw'}")


@pytest.mark.parametrize("study, content, words", [
    # Unreadable: said so, in one line.
    ("gaussian-1d/metrics.json", "{not json", "is not valid JSON"),
    ("gaussian-1d/metrics.json", '{"iters": 5}', "is damaged"),
    ("mode-collapse/results.json", '{"iters": 5}', "is damaged"),
    ("saturating-vs-nonsaturating/saturation.json", "[1, 2]", "must be a JSON object, got a list"),
])
def test_a_damaged_study_result_is_one_line_for_results(study, content, words, tmp_path,
                                                        capsys):
    from gan_tf import results as results_command
    gen = {"mnist_score": 4.5, "frechet_distance": 80.0, "modes_covered": 8,
           "class_kl": 0.5, "confident_share": 0.7, "parzen_ll": 90.0, "parzen_se": 1.8}
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "metrics.json").write_text(json.dumps({"generated": gen, "real": gen}))
    (tmp_path / study).parent.mkdir(parents=True)
    (tmp_path / study).write_text(content)
    docs = tmp_path / "docs"
    docs.mkdir()
    assert results_command.main(["--outputs", str(tmp_path), "--docs", str(docs)]) == 2
    one_line_error(capsys, study, words)


@pytest.mark.slow
def test_a_damaged_likelihood_json_is_one_line_for_gan_vs_vae(finished_vae, mnist_dir,
                                                             tmp_path, capsys):
    from gan_tf import gan_vs_vae
    run = tmp_path / "vae"
    shutil.copytree(finished_vae, run)
    (run / "metrics.json").write_text(json.dumps({"generated": {}, "real": {}}))
    assert gan_vs_vae.main([str(run), "--out", str(tmp_path / "out")]) == 2
    one_line_error(capsys, "metrics.json", "evaluate the run again")


def test_the_error_tail_turns_each_kind_into_one_line_and_its_code(capsys):
    from gan_tf.core import cli
    from gan_tf.core.errors import TrainingDiverged

    def raising(e):
        def work():
            raise e
        return work
    cases = [(UserError("bad flag"), 2, "bad flag"),
             (OSError(28, "No space left on device", "/x/ckpt"), 2, "the disk is full"),
             (MemoryError(), 2, "out of memory"),
             (TrainingDiverged("loss became NaN"), 1, "NaN"),
             (KeyboardInterrupt(), 130, "interrupted")]
    for error, code, words in cases:
        assert cli.run(raising(error)) == code
        one_line_error(capsys, words)
    assert cli.run(lambda: {"a": "result"}) == 0 and cli.run(lambda: 3) == 3
