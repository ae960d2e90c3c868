"""MNIST and Fashion-MNIST: find them, read the IDX files, verify them, split them as
the tutorial did.

Where the files come from, in order (NAME is mnist or fashion_mnist):
  1. `--data-dir DIR` (the `data_dir` argument),
  2. `$GAN_TF_DATA_DIR` (MNIST) or `$GAN_TF_FASHION_MNIST_DIR`,
  3. `data/NAME/` in the project, then `../shared/data/NAME/` beside it (the
     development and CI layout), then for Fashion-MNIST Debian's
     /usr/share/datasets/fashion-mnist/ (`apt-get install dataset-fashion-mnist`);
     a folder is used only if it holds the four files,
  4. tensorflow-datasets' `NAME`, which downloads on a machine with internet access.
Local files are checked against the SHA-256 of their *uncompressed* content, so a
truncated, corrupted or substituted file is named instead of silently training
on it. MNIST's are the published checksums; Fashion-MNIST publishes only MD5s of
its .gz files, so its SHA-256s were computed here from Debian's
dataset-fashion-mnist 0.0~git20200523 (recompressed, so the .gz MD5s differ).

The tutorial's `input_data.read_data_sets` held out the last 5,000 training images
for validation and trained on the first 55,000; `Mnist` keeps the same split.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import socket
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_tf.errors import UserError

ENV_VAR = "GAN_TF_DATA_DIR"
PROJECT_DIR = Path(__file__).resolve().parent.parent
VALIDATION_SIZE = 5000

# SHA-256 of the uncompressed IDX files (the published MNIST checksums).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte": "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    "train-labels-idx1-ubyte": "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    "t10k-images-idx3-ubyte": "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    "t10k-labels-idx1-ubyte": "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
}


@dataclass(frozen=True)
class DatasetSource:
    title: str
    sha256: dict
    env_var: str
    extra_dirs: tuple = ()     # system-wide installs, searched after the project's

    def how_to_provide(self) -> str:
        return (f"pass --data-dir DIR or set {self.env_var}=DIR, where DIR holds the four "
                f"{self.title} IDX files ({', '.join(n + '.gz' for n in self.sha256)})")


SOURCES = {
    "mnist": DatasetSource("MNIST", MNIST_SHA256, ENV_VAR),
    "fashion_mnist": DatasetSource("Fashion-MNIST", FASHION_MNIST_SHA256,
                                   "GAN_TF_FASHION_MNIST_DIR",
                                   (Path("/usr/share/datasets/fashion-mnist"),)),
}
HOW_TO_PROVIDE = SOURCES["mnist"].how_to_provide()


@dataclass(frozen=True)
class Mnist:
    """uint8 images (N, 784) and int64 labels, split as the tutorial's loader did."""
    train_images: np.ndarray   # first 55,000 training images: what the GAN trains on
    train_labels: np.ndarray
    val_images: np.ndarray     # last 5,000 training images: never trained on
    val_labels: np.ndarray
    test_images: np.ndarray    # the 10,000 test images
    test_labels: np.ndarray
    source: str                # where it was read from, for the run's log


def load_mnist(data_dir: str | os.PathLike | None = None, *,
               internet_probe=None) -> Mnist:
    """MNIST from the first source that has it (see the module docstring)."""
    return load_dataset("mnist", data_dir, internet_probe=internet_probe)


def load_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None, *,
                 internet_probe=None) -> Mnist:
    """Dataset `name` ('mnist' or 'fashion_mnist') from the first source that has it."""
    if name not in SOURCES:
        raise UserError(f"unknown dataset {name!r}; choose one of {', '.join(SOURCES)}")
    src = SOURCES[name]
    if data_dir is not None:
        return _from_dir(Path(data_dir), "--data-dir", src)
    if os.environ.get(src.env_var):
        return _from_dir(Path(os.environ[src.env_var]), f"${src.env_var}", src)
    for candidate in (PROJECT_DIR / "data" / name,
                      PROJECT_DIR.parent / "shared" / "data" / name, *src.extra_dirs):
        if all((candidate / (n + ".gz")).is_file() for n in src.sha256):
            return _from_dir(candidate, str(candidate), src)
    return _from_tfds(name, src, internet_probe or internet_available)


# --- local IDX files

def _from_dir(path: Path, origin: str, src: DatasetSource = SOURCES["mnist"]) -> Mnist:
    if not path.is_dir():
        raise UserError(f"{src.title} data dir {str(path)!r} (from {origin}) does not exist "
                        f"or is not a folder; {src.how_to_provide()}")
    arrays = {name: read_idx(path / (name + ".gz"), src.sha256[name], src)
              for name in src.sha256}
    return _split(arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"],
                  arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"],
                  source=str(path))


def read_idx(path: Path, sha256: str | None = None,
             src: DatasetSource = SOURCES["mnist"]) -> np.ndarray:
    """One gzip-compressed IDX file as a uint8 array, its content checked against sha256."""
    if not path.is_file():
        raise UserError(f"missing {src.title} file {path}; {src.how_to_provide()}")
    try:
        with gzip.open(path, "rb") as f:
            raw = f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise UserError(f"cannot read {path}: truncated or corrupted gzip ({e}); replace "
                        f"the file with a fresh copy") from None
    if sha256 is not None:
        got = hashlib.sha256(raw).hexdigest()
        if got != sha256:
            raise UserError(f"checksum mismatch for {path}: the uncompressed content has "
                            f"SHA-256 {got[:16]}..., expected {sha256[:16]}...; the file is "
                            f"corrupted or not the original {src.title}, replace it")
    return parse_idx(raw, str(path))


def parse_idx(raw: bytes, name: str) -> np.ndarray:
    """IDX format: two zero bytes, type code 0x08 (uint8), rank, big-endian dims, data."""
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise UserError(f"{name} is not a uint8 IDX file (bad magic number)")
    rank = raw[3]
    header = 4 + 4 * rank
    if len(raw) < header:
        raise UserError(f"{name} is truncated: header cut short")
    dims = tuple(int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(rank))
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        raise UserError(f"{name} holds {len(raw)} bytes, its header promises {expected}: "
                        f"truncated or corrupted, replace the file")
    return np.frombuffer(raw, np.uint8, offset=header).reshape(dims)


def _split(train_x, train_y, test_x, test_y, source: str) -> Mnist:
    train_x = train_x.reshape(len(train_x), -1)
    test_x = test_x.reshape(len(test_x), -1)
    if train_x.shape[1] != 784 or len(train_x) != len(train_y) or len(train_x) <= VALIDATION_SIZE:
        raise UserError(f"data from {source} has unexpected shapes {train_x.shape}, "
                        f"{train_y.shape}")
    cut = len(train_x) - VALIDATION_SIZE
    return Mnist(train_x[:cut], train_y[:cut].astype(np.int64),
                 train_x[cut:], train_y[cut:].astype(np.int64),
                 test_x, test_y.astype(np.int64), source)


# --- tensorflow-datasets, for users with internet access

def internet_available(host: str = "storage.googleapis.com", port: int = 443,
                       timeout: float = 3.0) -> bool:
    """Can we open a TCP connection to tfds' download host? Answers within `timeout`."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def _from_tfds(name: str, src: DatasetSource, internet_probe) -> Mnist:
    """tfds' copy: from its cache if prepared, else downloaded.

    Offline, tfds.load retries its download for minutes before failing; we ask for
    the cached copy first (download=False fails at once) and probe the network
    before letting it download. Note tfds stores MNIST in its own (hashed) order, so
    its "first 55,000" differ from the IDX files' first 55,000.
    """
    try:
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise UserError(f"no local {src.title} and tensorflow-datasets is unusable ({e}); "
                        f"{src.how_to_provide()}") from None

    def load(download: bool):
        return tfds.as_numpy(tfds.load(name, split=["train", "test"], batch_size=-1,
                                       as_supervised=True, download=download))
    try:
        (tx, ty), (vx, vy) = load(download=False)
    except Exception:  # not in tfds' cache: tfds raises AssertionError or DatasetNotFound
        if not internet_probe():
            raise UserError(f"{src.title} not found locally and no internet access to "
                            f"download it; {src.how_to_provide()}") from None
        (tx, ty), (vx, vy) = load(download=True)
    return _split(tx, ty, vx, vy, source=f"tensorflow-datasets {name}")
