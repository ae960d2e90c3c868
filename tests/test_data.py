"""The loader against the data README's facts, and every way the files can be bad."""

import gzip
import os
import shutil

import numpy as np
import pytest

from gan_tf.core.errors import UserError
from gan_tf.data import datasets as data

NAMES = list(data.MNIST_SHA256)


def test_known_facts_of_the_real_files(mnist):
    assert mnist.train_images.shape == (55_000, 784) and mnist.train_images.dtype == np.uint8
    assert mnist.val_images.shape == (5_000, 784)
    assert mnist.test_images.shape == (10_000, 784)
    assert list(mnist.train_labels[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(mnist.test_labels[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    # The 55,000 + 5,000 split keeps the original order: together they are the 60,000.
    full = np.concatenate([mnist.train_images, mnist.val_images]).astype(np.float64) / 255
    assert full.mean() == pytest.approx(0.1306604762738429, abs=1e-12)
    assert full.std() == pytest.approx(0.3081078038564622, abs=1e-12)
    assert (mnist.test_images / 255.0).mean() == pytest.approx(0.13251460584233696, abs=1e-12)


def test_the_all_split_is_the_whole_training_file_in_its_order(mnist):
    """Salimans et al.'s semi-supervised MNIST trains on all 60,000 (x_train and x_valid
    joined); that split keeps no validation images."""
    every = data.with_split(mnist, "all")
    assert every.train_images.shape == (60_000, 784) and every.split == "all"
    assert list(every.train_labels[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert (every.train_images.astype(np.float64) / 255).mean() == pytest.approx(
        0.1306604762738429, abs=1e-12)
    np.testing.assert_array_equal(every.train_images[55_000:], mnist.val_images)
    np.testing.assert_array_equal(every.train_labels[55_000:], mnist.val_labels)
    assert every.val_images.shape == (0, 784) and every.val_labels.shape == (0,)
    assert every.test_images is mnist.test_images
    with pytest.raises(ValueError, match="cannot make split 'paper' from split 'all'"):
        data.with_split(every, "paper")


def _copy(mnist_dir, tmp_path):
    for n in NAMES:
        shutil.copy(mnist_dir / (n + ".gz"), tmp_path / (n + ".gz"))
    return tmp_path


def test_env_var_is_read(mnist_dir, monkeypatch):
    monkeypatch.setenv(data.ENV_VAR, str(mnist_dir))
    assert data.load_mnist().source == str(mnist_dir)


def test_missing_dir_and_missing_file_are_named(mnist_dir, tmp_path):
    with pytest.raises(UserError, match="does not exist.*--data-dir"):
        data.load_mnist(tmp_path / "nope")
    d = _copy(mnist_dir, tmp_path)
    os.remove(d / "t10k-labels-idx1-ubyte.gz")
    with pytest.raises(UserError, match="missing MNIST file .*t10k-labels-idx1-ubyte.gz"):
        data.load_mnist(d)


def test_truncated_gzip_is_named(mnist_dir, tmp_path):
    d = _copy(mnist_dir, tmp_path)
    f = d / "train-labels-idx1-ubyte.gz"
    f.write_bytes(f.read_bytes()[:10_000])
    with pytest.raises(UserError, match="train-labels-idx1-ubyte.gz: truncated or corrupted"):
        data.load_mnist(d)


def test_changed_content_fails_the_checksum(mnist_dir, tmp_path):
    d = _copy(mnist_dir, tmp_path)
    f = d / "t10k-labels-idx1-ubyte.gz"
    raw = bytearray(gzip.decompress(f.read_bytes()))
    raw[100] = (raw[100] + 1) % 10          # one label changed: still a valid IDX file
    f.write_bytes(gzip.compress(bytes(raw)))
    with pytest.raises(UserError, match="checksum mismatch for .*t10k-labels"):
        data.load_mnist(d)


def test_idx_parser_rejects_bad_headers_and_lengths():
    good = bytes([0, 0, 8, 1]) + (3).to_bytes(4, "big") + bytes([7, 8, 9])
    assert list(data.parse_idx(good, "x")) == [7, 8, 9]
    with pytest.raises(UserError, match="bad magic"):
        data.parse_idx(bytes([0, 0, 9, 1]) + good[4:], "x")
    with pytest.raises(UserError, match="promises 11"):
        data.parse_idx(good[:-1], "x")


def test_fashion_mnist_is_verified_and_split_like_mnist(fashion_dir, mnist_dir):
    fashion = data.load_dataset("fashion_mnist", fashion_dir)
    assert fashion.train_images.shape == (55_000, 784) and fashion.val_images.shape == (5_000, 784)
    assert fashion.test_images.shape == (10_000, 784)
    assert list(fashion.train_labels[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
    # 6,000 training and 1,000 test images of each of the 10 classes.
    full = np.concatenate([fashion.train_labels, fashion.val_labels])
    assert list(np.bincount(full)) == [6000] * 10
    assert list(np.bincount(fashion.test_labels)) == [1000] * 10
    # MNIST's files are not Fashion-MNIST's: the checksums say so, by name.
    with pytest.raises(UserError, match="not the original Fashion-MNIST"):
        data.load_dataset("fashion_mnist", mnist_dir)
    with pytest.raises(UserError, match="unknown dataset 'kmnist'"):
        data.load_dataset("kmnist")


def test_fashion_mnist_has_its_own_env_var(fashion_dir, monkeypatch, tmp_path):
    monkeypatch.setenv("GAN_TF_FASHION_MNIST_DIR", str(fashion_dir))
    monkeypatch.setenv(data.ENV_VAR, str(tmp_path))    # MNIST's, not consulted here
    assert data.load_dataset("fashion_mnist").source == str(fashion_dir)
