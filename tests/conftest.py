"""Shared fixtures: the real MNIST files beside the checkout (never mocked)."""

import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def mnist_dir() -> Path:
    path = Path(os.environ.get("GAN_TF_DATA_DIR") or REPO.parent / "shared" / "data" / "mnist")
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.fail(f"the tests read real MNIST from {path}; set GAN_TF_DATA_DIR to a "
                    f"folder with the four IDX .gz files")
    return path


@pytest.fixture(scope="session")
def mnist(mnist_dir):
    from gan_tf.data import load_mnist
    return load_mnist(mnist_dir)


@pytest.fixture(scope="session")
def fashion_dir() -> Path:
    """Debian's dataset-fashion-mnist; .ci/run installs it. Skipped, loudly, where it
    cannot be installed (no root): the MNIST tests cover the same code paths."""
    path = Path(os.environ.get("GAN_TF_FASHION_MNIST_DIR")
                or "/usr/share/datasets/fashion-mnist")
    if not (path / "train-images-idx3-ubyte.gz").is_file():
        pytest.skip(f"Fashion-MNIST not at {path}: apt-get install -y dataset-fashion-mnist "
                    f"or set GAN_TF_FASHION_MNIST_DIR")
    return path
