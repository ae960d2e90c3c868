"""MNIST and Fashion-MNIST: find or download them, read the IDX files, verify them,
split them as the tutorial did.

Where the files come from, in order (NAME is mnist or fashion_mnist):
  1. `--data-dir DIR` (the `data_dir` argument),
  2. `$GAN_TF_DATA_DIR` (MNIST) or `$GAN_TF_FASHION_MNIST_DIR`,
  3. `data/NAME/` in the project, then `../shared/data/NAME/` beside it (the
     development and CI layout), then for Fashion-MNIST Debian's
     /usr/share/datasets/fashion-mnist/ (`apt-get install dataset-fashion-mnist`);
     a folder is used only if it holds the four files,
  4. the per-user cache `~/.cache/gan-tf/NAME/` (see gan_tf.data.download), filled on
     first use from the dataset's own mirrors: the four original IDX files, so the
     order is the tutorial's. `$GAN_TF_MIRROR` (MNIST) or
     `$GAN_TF_FASHION_MNIST_MIRROR` replaces the mirror list (comma-separated URLs).
`$GAN_TF_DATA_SOURCE` changes what follows 1 and 2: `auto` (the default) is 3 and
4; `download` skips 3 (only the cache and the mirrors); `tfds` reads
tensorflow-datasets' copy instead, which is stored in its own hashed order, so its
"first 55,000" are not the tutorial's.

Every file is checked against the SHA-256 of its *uncompressed* content, so a
truncated, corrupted or substituted file is named instead of silently training on
it. MNIST's are the published checksums; Fashion-MNIST publishes only MD5s of its
.gz files, so its SHA-256s were computed here from Debian's dataset-fashion-mnist
0.0~git20200523 (recompressed, so the .gz MD5s differ).

The tutorial's `input_data.read_data_sets` held out the last 5,000 training images
for validation and trained on the first 55,000; `Mnist` keeps the same split.
"""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import os
import sys
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from gan_tf.core.errors import UserError
from gan_tf.data import download

ENV_VAR = "GAN_TF_DATA_DIR"
SOURCE_ENV = "GAN_TF_DATA_SOURCE"
DATA_SOURCES = ("auto", "download", "tfds")   # see the module docstring
PROJECT_DIR = Path(__file__).resolve().parents[2]
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


# Tried in order, as torchvision does; any serves the original files (the .gz bytes
# may differ, the content may not). MNIST's first is PyTorch's copy, the second the
# TensorFlow tutorial's own source, the last the original (often refused nowadays).
MNIST_MIRRORS = ("https://ossci-datasets.s3.amazonaws.com/mnist/",
                 "https://storage.googleapis.com/cvdf-datasets/mnist/",
                 "http://yann.lecun.com/exdb/mnist/")
# Zalando's own: the S3 website the Fashion-MNIST README links (HTTP only), then the
# files in its GitHub repository.
FASHION_MNIST_MIRRORS = (
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/")


@dataclass(frozen=True)
class DatasetSource:
    title: str
    sha256: dict
    env_var: str
    mirror_env: str
    mirrors: tuple
    extra_dirs: tuple = ()     # system-wide installs, searched after the project's

    def how_to_provide(self) -> str:
        return (f"pass --data-dir DIR or set {self.env_var}=DIR, where DIR holds the four "
                f"{self.title} IDX files ({', '.join(n + '.gz' for n in self.sha256)})")


SOURCES = {
    "mnist": DatasetSource("MNIST", MNIST_SHA256, ENV_VAR, "GAN_TF_MIRROR", MNIST_MIRRORS),
    "fashion_mnist": DatasetSource("Fashion-MNIST", FASHION_MNIST_SHA256,
                                   "GAN_TF_FASHION_MNIST_DIR", "GAN_TF_FASHION_MNIST_MIRROR",
                                   FASHION_MNIST_MIRRORS,
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
    split: str = "tutorial"    # or "paper", "all": see with_split


PAPER_TRAIN_SIZE = 50_000


def with_split(data: Mnist, split: str) -> Mnist:
    """The data split as a run's config says: 'tutorial' (as loaded: the first 55,000
    training images, the last 5,000 for validation), 'paper' (the GAN paper's code,
    mnist.yaml: MNIST('train', start=0, stop=50000) to train on, start=50000,
    stop=60000 as the validation set whose first 1,000 images choose the Parzen
    sigma, parzen_ll.py's get_valid) or 'all' (all 60,000 training images and no
    validation set, as Salimans et al.'s semi-supervised MNIST code trains:
    train_mnist_feature_matching.py loads the whole training file)."""
    if split == data.split:
        return data
    if data.split != "tutorial" or split not in ("paper", "all"):
        raise ValueError(f"cannot make split {split!r} from split {data.split!r}")
    if split == "all":
        # The tutorial's split is the training file's order, cut at 55,000, so the two
        # parts joined are the file's 60,000 images in its order.
        empty = data.val_images[:0]
        return dataclasses.replace(
            data, train_images=np.concatenate([data.train_images, data.val_images]),
            train_labels=np.concatenate([data.train_labels, data.val_labels]),
            val_images=empty, val_labels=data.val_labels[:0], split=split)
    n = PAPER_TRAIN_SIZE
    return dataclasses.replace(
        data, train_images=data.train_images[:n], train_labels=data.train_labels[:n],
        val_images=np.concatenate([data.train_images[n:], data.val_images]),
        val_labels=np.concatenate([data.train_labels[n:], data.val_labels]), split=split)


def load_mnist(data_dir: str | os.PathLike | None = None, *,
               internet_probe=None) -> Mnist:
    """MNIST from the first source that has it (see the module docstring)."""
    return load_dataset("mnist", data_dir, internet_probe=internet_probe)


def load_dataset(name: str = "mnist", data_dir: str | os.PathLike | None = None, *,
                 source: str | None = None, internet_probe=None) -> Mnist:
    """Dataset `name` ('mnist' or 'fashion_mnist') from the first source that has it.
    `source` is one of DATA_SOURCES; None reads $GAN_TF_DATA_SOURCE."""
    src = _dataset(name)
    source = _data_source(source)
    if source == "tfds" and data_dir is None and not os.environ.get(src.env_var):
        return _from_tfds(name, src, internet_probe or internet_available)
    path, origin = find_idx(name, data_dir, source=source)
    return _from_dir(path, origin, src)


def find_idx(name: str = "mnist", data_dir: str | os.PathLike | None = None, *,
             source: str | None = None) -> tuple[Path, str]:
    """(folder, where it came from) of dataset `name`'s IDX files, downloading them
    into the cache if no earlier source has them. With source 'tfds' this still
    answers with IDX files (the tests need them): only load_dataset reads tfds.
    The folder's files are verified when read, not here."""
    src = _dataset(name)
    if data_dir is not None:
        return Path(data_dir), "--data-dir"
    if os.environ.get(src.env_var):
        return Path(os.environ[src.env_var]), f"${src.env_var}"
    searched = () if _data_source(source) == "download" else (
        PROJECT_DIR / "data" / name, PROJECT_DIR.parent / "shared" / "data" / name,
        *src.extra_dirs)
    cache = download.cache_root() / name
    for candidate in (*searched, cache):
        if _complete(candidate, src):
            return candidate, str(candidate)
    missing = [n + ".gz" for n in src.sha256 if not (cache / (n + ".gz")).is_file()]
    log = lambda line: print(line, file=sys.stderr, flush=True)   # noqa: E731
    try:
        download.fetch(missing, download.mirror_list(src.mirror_env, src.mirrors), cache,
                       lambda path: content_problem(path, src.sha256[path.name[:-3]]),
                       title=src.title, log=log)
    except UserError as e:
        raise UserError(f"{src.title} not found locally and cannot be downloaded: {e}; "
                        f"{src.how_to_provide()}, "
                        f"or set {src.mirror_env}=URL[,URL...] to other mirrors") from None
    return cache, str(cache)


def _dataset(name: str) -> DatasetSource:
    if name not in SOURCES:
        raise UserError(f"unknown dataset {name!r}; choose one of {', '.join(SOURCES)}")
    return SOURCES[name]


def _data_source(source: str | None) -> str:
    source = source or os.environ.get(SOURCE_ENV) or "auto"
    if source not in DATA_SOURCES:
        raise UserError(f"unknown data source {source!r} (from ${SOURCE_ENV}); choose one "
                        f"of {', '.join(DATA_SOURCES)}")
    return source


def _complete(path: Path, src: DatasetSource) -> bool:
    return all((path / (n + ".gz")).is_file() for n in src.sha256)


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
        raw = _gunzip(path)
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


def content_problem(path: Path, sha256: str) -> str | None:
    """Why the gzip file at path does not hold the expected content, or None if it does."""
    try:
        raw = _gunzip(path)
    except (OSError, EOFError, zlib.error) as e:
        return f"truncated or corrupted gzip ({e})"
    got = hashlib.sha256(raw).hexdigest()
    return None if got == sha256 else (f"wrong content: uncompressed SHA-256 {got[:16]}..., "
                                       f"expected {sha256[:16]}...")


def _gunzip(path: Path) -> bytes:
    with gzip.open(path, "rb") as f:
        return f.read()


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


# --- tensorflow-datasets, when chosen with $GAN_TF_DATA_SOURCE=tfds

def internet_available(host: str = "storage.googleapis.com", port: int = 443) -> bool:
    """Can we open a TCP connection to tfds' download host? Answers within seconds,
    even where DNS never answers (see download.connectable)."""
    return bool(download.connectable([(host, port)]))


def _from_tfds(name: str, src: DatasetSource, internet_probe) -> Mnist:
    """tfds' copy: from its cache if prepared, else downloaded (GAN_TF_DATA_SOURCE=tfds).

    Offline, tfds.load retries its download for minutes before failing; we ask for
    the cached copy first (download=False fails at once) and probe the network
    before letting it download. Note tfds stores MNIST in its own (hashed) order, so
    its "first 55,000" differ from the IDX files' first 55,000.
    """
    try:
        # lazy: only for GAN_TF_DATA_SOURCE=tfds (it brings TensorFlow), and a failed
        # import is the one-line error below
        import tensorflow_datasets as tfds
    except ImportError as e:
        raise UserError(f"no local {src.title} and tensorflow-datasets is unusable ({e}); "
                        f"{src.how_to_provide()}") from None

    def load(fetch: bool):
        return tfds.as_numpy(tfds.load(name, split=["train", "test"], batch_size=-1,
                                       as_supervised=True, download=fetch))
    try:
        (tx, ty), (vx, vy) = load(fetch=False)
    except Exception:  # not in tfds' cache: tfds raises AssertionError or DatasetNotFound
        if not internet_probe():
            raise UserError(f"{src.title} not found locally and no internet access to "
                            f"download it; {src.how_to_provide()}") from None
        (tx, ty), (vx, vy) = load(fetch=True)
    return _split(tx, ty, vx, vy, source=f"tensorflow-datasets {name}")
