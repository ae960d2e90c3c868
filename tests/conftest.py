"""Shared fixtures: the real MNIST files (never mocked), found the way the command line
finds them (gan_tf.data.datasets.find_idx): local folders, the per-user cache, else a
download from the mirrors into that cache."""

import os
import shutil
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# On a GPU, TensorFlow otherwise takes nearly all its memory in the first process that
# touches it, and the subprocesses the tests start (train commands, workers) find none.
os.environ.setdefault("TF_FORCE_GPU_ALLOW_GROWTH", "true")

from gan_tf.core.config import Config  # noqa: E402  (light: no TensorFlow)

REPO = Path(__file__).resolve().parent.parent
# The environment of a subprocess that runs this checkout's commands: this checkout
# first, then whatever PYTHONPATH already held (a GPU bundle's site folder, say).
def subprocess_env(environ) -> dict:
    return {**environ, "PYTHONPATH": os.pathsep.join(
        [str(REPO)] + [p for p in environ.get("PYTHONPATH", "").split(os.pathsep) if p])}


ENV = subprocess_env(os.environ)
# train(..., **QUIET), train_sweep(..., **QUIET): no progress lines in the test output.
QUIET = dict(log=lambda line: None)
MNIST_FIXTURES = {"mnist", "mnist_dir"}
_MNIST_DIR = pytest.StashKey[Path]()


def pytest_collection_finish(session):
    """Find (or download) MNIST once, before the first test, if a selected test reads
    it. Where it can be neither found nor downloaded, stop here with that one message,
    instead of failing every data test with the same error."""
    needing = [item for item in session.items
               if MNIST_FIXTURES & set(getattr(item, "fixturenames", ()))]
    if not needing or session.config.option.collectonly:
        return
    from gan_tf.core.errors import UserError
    from gan_tf.data.datasets import find_idx
    try:
        session.config.stash[_MNIST_DIR] = find_idx("mnist")[0]
    except UserError as e:
        pytest.exit(f"{len(needing)} of the {len(session.items)} selected tests read real "
                    f"MNIST, and none can be had: {e}", returncode=1)


# The tiny run the fault and refusal tests damage, resume and refuse.
TINY = Config.of(iters=40, snapshot_every=20, log_every=10, tensorboard=False)


def cli(run, mnist_dir, *args):
    """The train command on a TINY run in `run`; flags in args override TINY's."""
    from gan_tf.train import main
    return main(["--iters", "40", "--snapshot-every", "20", "--log-every", "10",
                 "--no-tensorboard", "--data-dir", str(mnist_dir), "--run-dir", str(run),
                 *args])


def training_generator(cfg):
    """cfg's G as training builds it; the VAE's too (u -> erfinv -> decoder -> sigmoid,
    which its family builds beside the encoder, not through build_generator)."""
    if cfg.family == "vae":
        from gan_tf.models.vae import build_decoder
        return build_decoder(cfg)[1]
    from gan_tf import families
    return families.build_generator(cfg)


def one_line_error(capsys, *words) -> str:
    """The command's stderr is exactly one line, "error: ...", holding every word."""
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: "), err
    for w in words:
        assert w in err[0], err[0]
    return err[0]


@pytest.fixture(scope="session")
def cpu_reference():
    """For a test that compares against arrays computed once by CPU kernels (the saved
    runs' checkpoints at 20, tests/saved_runs/): skipped, with the reason, where
    TensorFlow sees a GPU, whose kernels round differently."""
    import tensorflow as tf
    found = tf.config.list_physical_devices("GPU")
    if found:
        pytest.skip(f"compares bit for bit against references computed by CPU kernels; "
                    f"this process trains on {found[0].name}, whose kernels round "
                    f"differently")


@pytest.fixture(scope="session")
def mnist_dir(pytestconfig) -> Path:
    """The folder with the four verified MNIST IDX files (see pytest_collection_finish)."""
    return pytestconfig.stash[_MNIST_DIR]


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from gan_tf.data.datasets import load_mnist
    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Fashion-MNIST, found like MNIST; among the local folders is Debian's
    dataset-fashion-mnist, which .ci/run installs. Skipped, loudly, where it can be
    neither found nor downloaded: the MNIST tests cover the same code paths."""
    from gan_tf.core.errors import UserError
    from gan_tf.data.datasets import find_idx
    try:
        return find_idx("fashion_mnist")[0]
    except UserError as e:
        pytest.skip(f"Fashion-MNIST: {e}")


@pytest.fixture(scope="session")
def finished(mnist, tmp_path_factory):
    """A finished TINY run, trained once; tests take copies (`run`)."""
    from gan_tf.training.run import train
    run = tmp_path_factory.mktemp("finished") / "run"
    train(TINY, run, data=mnist, **QUIET)
    return run


@pytest.fixture
def run(finished, tmp_path):
    """A copy of the finished TINY run, for a test to damage."""
    shutil.copytree(finished, tmp_path / "run")
    return tmp_path / "run"
