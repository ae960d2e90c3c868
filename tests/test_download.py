"""The loader's last resort: the four IDX files from the mirrors into the per-user cache.
Real HTTP from mirrors served here on 127.0.0.1 (never the real MNIST hosts), with
the local folders bypassed (GAN_TF_DATA_SOURCE=download) so the download path runs."""

import gzip
import http.server
import io
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from conftest import REPO
from gan_tf.core.errors import UserError
from gan_tf.data import datasets as data
from gan_tf.data import download

NAMES = [n + ".gz" for n in data.MNIST_SHA256]
CACHED = ["mnist"] + [f"mnist/{n}" for n in sorted(NAMES)]   # a filled cache's listing


class Mirrors:
    """One HTTP server on 127.0.0.1 playing several mirrors, one per path prefix:
    /good/ serves the files as they are; /corrupt/ serves t10k-labels with one label
    changed (valid gzip and IDX, wrong content); /partial/ lacks t10k-labels (404);
    /cut/ announces each file's full length and closes the connection halfway;
    /stall/ sends half of each file, then nothing for 3 s. Every request's path is
    recorded."""

    def __init__(self, folder):
        good = {p.name: p.read_bytes() for p in folder.glob("*.gz")}
        labels = bytearray(gzip.decompress(good["t10k-labels-idx1-ubyte.gz"]))
        labels[100] = (labels[100] + 1) % 10
        self.files = {"good": good, "cut": good, "stall": good,
                      "corrupt": {**good, "t10k-labels-idx1-ubyte.gz": gzip.compress(labels)},
                      "partial": {k: v for k, v in good.items() if not k.startswith("t10k-l")}}
        self.requests = []
        mirrors = self

        class Handler(http.server.BaseHTTPRequestHandler):   # HTTP/1.0: one request each
            def do_GET(self):
                mirrors.requests.append(self.path)
                kind, _, name = self.path.strip("/").partition("/")
                body = mirrors.files.get(kind, {}).get(name)
                if body is None:
                    return self.send_error(404)
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if kind in ("cut", "stall"):
                    self.wfile.write(body[:len(body) // 2])
                    self.wfile.flush()
                    time.sleep(3 if kind == "stall" else 0)
                else:
                    self.wfile.write(body)

            def log_message(self, *args):
                pass
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def url(self, *kinds) -> str:
        """GAN_TF_MIRROR's value: these mirrors, in order."""
        return ",".join(f"http://127.0.0.1:{self.server.server_port}/{k}/" for k in kinds)

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def mirrors(mnist_dir):
    m = Mirrors(mnist_dir)
    yield m
    m.close()


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty per-user cache; only the cache and the mirrors are consulted."""
    for var in (data.ENV_VAR, "GAN_TF_FASHION_MNIST_DIR", "GAN_TF_FASHION_MNIST_MIRROR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv(data.SOURCE_ENV, "download")
    monkeypatch.setenv(download.CACHE_ENV, str(tmp_path / "cache"))
    return tmp_path / "cache"


def closed_port_url() -> str:
    with socket.socket() as s:    # a port nothing listens on once this closes
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def listing(folder) -> list:
    """Everything under folder, hidden files and folders included."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_fresh_cache_is_filled_once_and_then_read_without_network(mirrors, cache,
                                                                     monkeypatch, capsys):
    monkeypatch.setenv("GAN_TF_MIRROR", f"{closed_port_url()},{mirrors.url('good')}")
    mirrors.requests.clear()
    mnist = data.load_mnist()
    assert mnist.source == str(cache / "mnist") and listing(cache) == CACHED
    assert sorted(mirrors.requests) == sorted(f"/good/{n}" for n in NAMES)
    # The tutorial's data, in the tutorial's order (the data README's facts).
    assert list(mnist.train_labels[:10]) == [5, 0, 4, 1, 9, 2, 1, 3, 1, 4]
    assert list(mnist.test_labels[:10]) == [7, 2, 1, 0, 4, 1, 4, 9, 5, 9]
    full = np.concatenate([mnist.train_images, mnist.val_images]).astype(np.float64) / 255
    assert full.mean() == pytest.approx(0.1306604762738429, abs=1e-12)
    out, err = capsys.readouterr()
    assert out == "" and err.count("downloading http://127.0.0.1") == 4   # no progress bar
    assert all(f"(file {k} of 4)" in err for k in (1, 2, 3, 4))           # but the count
    # From now on: no request, even with every mirror gone.
    mirrors.requests.clear()
    monkeypatch.setenv("GAN_TF_MIRROR", closed_port_url())
    assert data.load_mnist().source == str(cache / "mnist") and mirrors.requests == []


def test_a_terminal_gets_a_progress_bar(mirrors, cache, monkeypatch):
    terminal = type("Terminal", (io.StringIO,), {"isatty": lambda self: True})
    monkeypatch.setattr(sys, "stdout", terminal())
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
    data.find_idx("mnist")
    assert "━" in sys.stdout.getvalue() and "\r" in sys.stdout.getvalue()


def test_a_corrupted_copy_is_rejected_and_the_next_mirror_used(mirrors, cache, monkeypatch,
                                                               capsys):
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("corrupt", "good"))
    mirrors.requests.clear()
    assert data.load_mnist().source == str(cache / "mnist")
    assert sorted(mirrors.requests) == sorted(
        [f"/corrupt/{n}" for n in NAMES] + ["/good/t10k-labels-idx1-ubyte.gz"])
    err = capsys.readouterr().err
    assert "/corrupt/t10k-labels-idx1-ubyte.gz: wrong content" in err and "next mirror" in err


@pytest.mark.parametrize("kind, failure", [
    ("cut", "train-images-idx3-ubyte.gz .*retrieval incomplete"),
    ("partial", "t10k-labels-idx1-ubyte.gz .*404"),   # after 3 good files: none kept
    ("stall", "train-images-idx3-ubyte.gz .*timed out"),
])
def test_a_failed_transfer_keeps_nothing_and_the_next_run_starts_clean(
        mirrors, cache, monkeypatch, kind, failure):
    monkeypatch.setattr(download, "READ_TIMEOUT", 0.5)
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url(kind))
    with pytest.raises(UserError, match=f"every mirror failed for {failure}.*nothing was "
                                        f"kept in .*GAN_TF_MIRROR") as e:
        data.load_mnist()
    assert "\n" not in str(e.value) and listing(cache) == []   # no partial file, no staging
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
    assert data.load_mnist().source == str(cache / "mnist")
    assert listing(cache) == CACHED


def test_ctrl_c_mid_transfer_keeps_nothing(mirrors, cache, monkeypatch):
    def interrupted(url, folder, name, log, *_):
        (folder / name).write_bytes(b"half a file")
        raise KeyboardInterrupt
    monkeypatch.setattr(download, "_get", interrupted)
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
    with pytest.raises(KeyboardInterrupt):
        data.find_idx("mnist")
    assert listing(cache) == []


def test_a_killed_download_s_staging_folder_is_removed_by_the_next(mirrors, cache,
                                                                   monkeypatch):
    stale, live = cache / ".mnist.download-killed", cache / ".mnist.download-running"
    for folder in (stale, live):
        folder.mkdir(parents=True)
        (folder / NAMES[0]).write_bytes(b"half a file")
    hours_ago = time.time() - 2 * download.STALE_SECONDS
    for p in (stale / NAMES[0], stale):
        os.utime(p, (hours_ago, hours_ago))
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
    data.find_idx("mnist")
    assert not stale.exists() and live.exists()   # another process may still be on it


def test_all_mirrors_down_fails_fast_in_one_line(cache, monkeypatch, tmp_path):
    """The default source, with no local folders: the mirrors, never tfds in silence."""
    monkeypatch.delenv(data.SOURCE_ENV)
    monkeypatch.setattr(data, "PROJECT_DIR", tmp_path / "project")
    monkeypatch.setenv("GAN_TF_MIRROR", f"{closed_port_url()},{closed_port_url()}")
    t0 = time.monotonic()
    with pytest.raises(UserError, match="MNIST not found locally and cannot be downloaded: "
                       "no mirror can be reached.*--data-dir DIR.*GAN_TF_MIRROR") as e:
        data.load_mnist()
    assert time.monotonic() - t0 < 10 and listing(cache) == [] and "\n" not in str(e.value)


@pytest.fixture
def dns_never_answers(monkeypatch):
    """getaddrinfo blocks until the test ends, as with an unreachable nameserver."""
    real, released = socket.getaddrinfo, threading.Event()

    def hang(host, *args, **kwargs):
        if host in ("127.0.0.1", "localhost"):
            return real(host, *args, **kwargs)
        released.wait(60)
        raise socket.gaierror(socket.EAI_AGAIN, "Temporary failure in name resolution")
    monkeypatch.setattr(socket, "getaddrinfo", hang)
    yield
    released.set()


def test_offline_with_dns_never_answering_fails_within_2_s(cache, monkeypatch,
                                                           dns_never_answers):
    monkeypatch.delenv("GAN_TF_MIRROR", raising=False)     # the real mirror list
    t0 = time.monotonic()
    with pytest.raises(UserError, match=r"no mirror can be reached \(ossci-datasets"):
        data.load_mnist()
    assert time.monotonic() - t0 < 2       # download.DNS_SECONDS is 1.5
    t0 = time.monotonic()
    assert not data.internet_available()                  # tfds' probe, the same way
    assert time.monotonic() - t0 < 2


def test_a_slow_resolver_is_waited_for_up_to_its_deadline(mirrors, monkeypatch):
    real = socket.getaddrinfo

    def slow(host, *args, **kwargs):
        time.sleep(0.5)
        return real("127.0.0.1", *args, **kwargs)
    monkeypatch.setattr(socket, "getaddrinfo", slow)
    mirror = ("mirror.test", mirrors.server.server_port)
    assert download.connectable([mirror], dns_seconds=1.0) == {mirror}
    assert download.connectable([mirror], dns_seconds=0.2) == set()


def test_fashion_mnist_downloads_from_its_own_mirror_setting(fashion_dir, mirrors, cache,
                                                             monkeypatch):
    fashion_mirrors = Mirrors(fashion_dir)
    try:
        monkeypatch.setenv("GAN_TF_FASHION_MNIST_MIRROR", fashion_mirrors.url("good"))
        monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))   # MNIST's: not used
        mirrors.requests.clear()
        fashion = data.load_dataset("fashion_mnist")
        assert fashion.source == str(cache / "fashion_mnist") and mirrors.requests == []
        assert list(fashion.train_labels[:10]) == [9, 0, 0, 3, 0, 2, 7, 2, 5, 5]
        assert len(fashion_mirrors.requests) == 4
        # MNIST's files offered as Fashion-MNIST's are refused by their content.
        monkeypatch.setenv("GAN_TF_FASHION_MNIST_MIRROR", mirrors.url("good"))
        (cache / "fashion_mnist" / NAMES[0]).unlink()
        with pytest.raises(UserError, match="train-images-idx3-ubyte.gz .*wrong content"):
            data.load_dataset("fashion_mnist")
    finally:
        fashion_mirrors.close()


def test_the_cache_folder_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.delenv(download.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert download.cache_root() == tmp_path / ".cache" / "gan-tf"
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert download.cache_root() == tmp_path / "xdg" / "gan-tf"
    monkeypatch.setenv(download.CACHE_ENV, str(tmp_path / "mine"))
    assert download.cache_root() == tmp_path / "mine"
    for text, mirrors in ((" http://a/ , http://b/x/ ", ["http://a/", "http://b/x/"]),
                          ("", ["http://c/"])):
        monkeypatch.setenv("GAN_TF_MIRROR", text)
        assert download.mirror_list("GAN_TF_MIRROR", ("http://c/",)) == mirrors


def test_tensorflow_datasets_only_when_chosen(cache, monkeypatch, tmp_path):
    """tfds is an explicit choice; offline without its cache it fails within seconds."""
    monkeypatch.setenv(data.SOURCE_ENV, "tfds")
    monkeypatch.setenv("TFDS_DATA_DIR", str(tmp_path / "tfds"))
    # Port 9 (discard) on loopback is closed here: the probe sees "no network" at once.
    probe = lambda: data.internet_available("127.0.0.1", 9)   # noqa: E731
    t0 = time.monotonic()
    with pytest.raises(UserError, match="no internet access.*--data-dir DIR or set "
                                        "GAN_TF_DATA_DIR"):
        data.load_mnist(internet_probe=probe)
    assert time.monotonic() - t0 < 30
    monkeypatch.setenv(data.SOURCE_ENV, "torchvision")
    with pytest.raises(UserError, match="unknown data source 'torchvision'.*auto, download, "
                                        "tfds"):
        data.load_mnist()


@pytest.mark.slow
def test_the_command_line_downloads_into_an_empty_cache_and_trains(mirrors, tmp_path):
    env = {k: v for k, v in os.environ.items()
           if k not in (data.ENV_VAR, "GAN_TF_FASHION_MNIST_DIR")}
    env.update(PYTHONPATH=str(REPO), GAN_TF_MIRROR=mirrors.url("good"),
               GAN_TF_CACHE_DIR=str(tmp_path / "cache"), GAN_TF_DATA_SOURCE="download")
    mirrors.requests.clear()
    out = subprocess.run([sys.executable, "-m", "gan_tf.train", "--iters", "20",
                          "--run-dir", str(tmp_path / "run")], cwd=tmp_path, env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert len(mirrors.requests) == 4 and "4 files verified and cached" in out.stderr
    assert listing(tmp_path / "cache") == CACHED
    assert (tmp_path / "run" / "generator.keras").exists()


def test_a_cache_that_is_a_file_is_refused_before_anything_is_downloaded(mirrors, cache,
                                                                         monkeypatch):
    """Issue 23: checked first, not after all four files came down."""
    cache.mkdir(parents=True)
    (cache / "mnist").write_text("a file where the cache folder goes")
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
    mirrors.requests.clear()
    with pytest.raises(UserError, match="is a file, not a folder"):
        data.load_mnist()
    assert mirrors.requests == []
    assert (cache / "mnist").read_text() == "a file where the cache folder goes"


def test_a_mirror_that_stalled_once_is_not_waited_on_for_the_other_files(
        mirrors, cache, monkeypatch, capsys):
    monkeypatch.setattr(download, "READ_TIMEOUT", 0.5)
    monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("stall", "good"))
    mirrors.requests.clear()
    assert data.load_mnist().source == str(cache / "mnist")
    assert [r for r in mirrors.requests if r.startswith("/stall/")] == [f"/stall/{NAMES[0]}"]
    assert sorted(r for r in mirrors.requests if r.startswith("/good/")) == \
        sorted(f"/good/{n}" for n in NAMES)
    assert "skipped for the other files" in capsys.readouterr().err


@pytest.mark.slow
def test_sigterm_during_a_download_leaves_no_staging_folder(mirrors, tmp_path):
    """The stall mirror holds the transfer half-way; SIGTERM then ends the command
    with status 143 and nothing in the cache, not a staging folder for an hour."""
    import signal
    env = {k: v for k, v in os.environ.items()
           if k not in (data.ENV_VAR, "GAN_TF_FASHION_MNIST_DIR")}
    env.update(PYTHONPATH=str(REPO), GAN_TF_MIRROR=mirrors.url("stall"),
               GAN_TF_CACHE_DIR=str(tmp_path / "cache"), GAN_TF_DATA_SOURCE="download")
    proc = subprocess.Popen([sys.executable, "-c", "from gan_tf.data.datasets import "
                             "find_idx; find_idx('mnist')"], cwd=tmp_path, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.time() + 60
    while not list((tmp_path / "cache").glob(".mnist.download-*/*")) and \
            time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    assert list((tmp_path / "cache").glob(".mnist.download-*")), proc.stderr.read()
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 128 + signal.SIGTERM
    assert listing(tmp_path / "cache") == []


def test_an_immutable_cache_is_refused_before_anything_is_downloaded(mirrors, cache,
                                                                     monkeypatch):
    (cache / "mnist").mkdir(parents=True)
    if subprocess.run(["chattr", "+i", str(cache / "mnist")], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here")
    try:
        monkeypatch.setenv("GAN_TF_MIRROR", mirrors.url("good"))
        mirrors.requests.clear()
        with pytest.raises(UserError, match="cannot write to the cache"):
            data.load_mnist()
        assert mirrors.requests == []
    finally:
        subprocess.run(["chattr", "-i", str(cache / "mnist")])
