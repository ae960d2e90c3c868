"""Fetching a dataset's files from its mirrors into the per-user cache, all or nothing.

The cache is `$GAN_TF_CACHE_DIR`, else `$XDG_CACHE_HOME/gan-tf`, else
`~/.cache/gan-tf`; a dataset's files live in its own folder there (`mnist/`).

The transfer itself is keras.utils.get_file (urllib underneath, with Keras'
progress bar). What get_file does not give, and this module adds:
  - it writes straight to the final name and checks only the hash of the bytes it
    got; our checksums are of the *uncompressed* content (the .gz bytes differ
    between mirrors), so we let it write into a private staging folder, check the
    content there and move a file into the cache only once all are good;
  - it deletes its file when an exception interrupts it, but not one that failed
    its hash, and nothing survives a kill: the staging folder goes in `finally`,
    and one left by a killed process is removed by the next download;
  - it tries one URL, with no timeout (urlopen's default blocks forever), so we
    try the mirrors in order and set a socket timeout while it runs;
  - its progress bar always uses terminal control characters (it counts any POSIX
    system as a terminal), so it is shown only when stdout is a terminal; logs get
    one line per file instead;
  - it resolves the host name in getaddrinfo, which ignores every timeout: where
    DNS never answers, each mirror would cost the resolver's own 10 s or more. So
    all mirrors are first probed at once, in daemon threads: offline is declared
    when no name resolves within DNS_SECONDS, or no connection opens within
    CONNECT_SECONDS. Two deadlines, so that failing fast offline does not cut off a
    slow link (a satellite's round trips add up to more than a second).
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import socket
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Callable

from gan_tf.core.errors import UserError

CACHE_ENV = "GAN_TF_CACHE_DIR"
DNS_SECONDS = 1.5        # offline if no mirror's name resolves within this (in parallel)
CONNECT_SECONDS = 5.0    # ... or if, once one has, no TCP connection opens within this
READ_TIMEOUT = 30.0      # seconds a connected mirror may stay silent before we move on
STALE_SECONDS = 3600     # a staging folder untouched this long belongs to a dead process


def cache_root() -> Path:
    """Where downloaded datasets are kept (see the module docstring)."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "gan-tf"


def mirror_list(env_var: str, default: tuple) -> list[str]:
    """$env_var (comma-separated base URLs) in place of the default mirrors."""
    text = os.environ.get(env_var, "")
    return [u.strip() for u in text.split(",") if u.strip()] or list(default)


# --- reachability, within a deadline even when DNS never answers

def _address(url: str) -> tuple | None:
    """(host, port) a request for url connects to first: its proxy's, where urllib
    would use one. None for URLs without a host (file://), which need no network."""
    parts = urllib.parse.urlsplit(url)
    if not parts.hostname:
        return None
    proxy = urllib.request.getproxies().get(parts.scheme)
    if proxy and not urllib.request.proxy_bypass(parts.hostname):
        parts = urllib.parse.urlsplit(proxy if "//" in proxy else "//" + proxy)
    try:
        return parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as e:      # a port that is not a number
        raise UserError(f"bad URL {url!r} (or its proxy's): {e}") from None


def connectable(addresses, dns_seconds: float = DNS_SECONDS,
                connect_seconds: float = CONNECT_SECONDS) -> set:
    """The (host, port) pairs that accept a TCP connection: all probed at once, each in
    a daemon thread that we stop waiting for at the deadline (getaddrinfo ignores
    every timeout). We give up when no name has resolved within dns_seconds, else
    when connect_seconds have passed since the start."""
    answered, resolved = set(), threading.Event()

    def probe(address):
        try:
            infos = socket.getaddrinfo(*address, type=socket.SOCK_STREAM)
        except OSError:
            return
        resolved.set()
        for family, kind, proto, _, sockaddr in infos:   # IPv6 may fail where IPv4 works
            try:
                with socket.socket(family, kind, proto) as s:
                    s.settimeout(connect_seconds)
                    s.connect(sockaddr)
                answered.add(address)
                return
            except OSError:
                pass
    threads = [threading.Thread(target=probe, args=(a,), daemon=True,
                                name=f"probe {a[0]}:{a[1]}") for a in set(addresses)]
    for t in threads:
        t.start()
    start = time.monotonic()

    def wait(seconds, done):
        while (time.monotonic() - start < seconds and not done()
               and any(t.is_alive() for t in threads)):
            time.sleep(0.01)
    wait(dns_seconds, resolved.is_set)
    if resolved.is_set():
        wait(max(dns_seconds, connect_seconds), lambda: False)
    return set(answered)     # a copy: late probes may still add to theirs


def answering(urls) -> list[str]:
    """The urls, in order, whose server (or proxy) accepts a connection (see
    connectable)."""
    addresses = {u: _address(u) for u in urls}
    live = connectable([a for a in addresses.values() if a])
    return [u for u in urls if addresses[u] is None or addresses[u] in live]


# --- the transfer

@contextlib.contextmanager
def _socket_timeout(seconds: float):
    """urlretrieve (inside get_file) takes no timeout; its sockets use the default."""
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _get(url: str, folder: Path, name: str, log, which: str = "") -> None:
    """url -> folder/name with keras' get_file; raises on any failure, leaving no file."""
    # lazy: keras brings TensorFlow, which reading the IDX files does not need; the
    # PyTorch benchmark workers (studies/benchmarks) load MNIST without it
    from keras.utils import get_file
    terminal = hasattr(sys.stdout, "isatty") and sys.stdout.isatty()
    if not terminal:
        log(f"downloading {url}{which}")
    quiet = contextlib.nullcontext() if terminal else contextlib.redirect_stdout(io.StringIO())
    with _socket_timeout(READ_TIMEOUT), quiet:
        get_file(fname=name, origin=url, cache_dir=str(folder), cache_subdir=str(folder),
                 force_download=True)


@contextlib.contextmanager
def _terminate_cleanly():
    """SIGTERM during a download ends it as Ctrl-C does: the staging folder is removed
    (by fetch's `finally`) before the process exits 143, not left for an hour."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum, frame):
        raise SystemExit(128 + signum)
    old = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def _remove_stale_staging(dest: Path) -> None:
    """Staging folders of downloads killed mid-way (SIGKILL skips `finally`)."""
    for d in dest.parent.glob(f".{dest.name}.download-*"):
        try:        # another process may be removing it right now
            newest = max(p.stat().st_mtime for p in [d, *d.iterdir()])
        except OSError:
            continue
        if time.time() - newest > STALE_SECONDS:
            shutil.rmtree(d, ignore_errors=True)


def fetch(names, mirrors, dest: Path, problem: Callable[[Path], str | None], *,
          title: str, log=print) -> None:
    """Download the files `names` into the folder dest, each from the first mirror
    that serves a good copy. `problem(path)` says why a downloaded file is not the
    expected one, or None. All files are checked before any is moved into dest;
    on failure dest is left as it was and the UserError says why, in one line."""
    live = answering(mirrors)
    if not live:
        hosts = ", ".join(urllib.parse.urlsplit(m).netloc or m for m in mirrors)
        raise UserError(f"no mirror can be reached ({hosts}); offline?")
    # Before any byte is downloaded: dest must become (or be) a folder this process
    # can write, else the files would be fetched for nothing.
    if dest.exists() and not dest.is_dir():
        raise UserError(f"the cache {dest} is a file, not a folder; move it away or set "
                        f"{CACHE_ENV} to another folder")
    if dest.is_dir():
        try:   # a real write (root passes every permission test, not chattr +i)
            with tempfile.TemporaryFile(dir=dest):
                pass
        except OSError as e:
            raise UserError(f"cannot write to the cache {dest} ({e.strerror}); set "
                            f"{CACHE_ENV} to a writable folder") from None
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_staging(dest)
        staging = Path(tempfile.mkdtemp(prefix=f".{dest.name}.download-", dir=dest.parent))
    except OSError as e:
        raise UserError(f"cannot write to the cache {dest.parent} ({e}); set {CACHE_ENV} "
                        f"to a writable folder") from None
    stalled = set()   # a mirror that went silent once is not waited on for other files
    with _terminate_cleanly():
        try:
            for k, name in enumerate(names, 1):
                failures = []
                for base in [m for m in live if m not in stalled]:
                    url = base.rstrip("/") + "/" + name
                    try:
                        _get(url, staging, name, log, f" (file {k} of {len(names)})")
                        why = problem(staging / name)
                    except Exception as e:    # get_file raises bare Exception for HTTP errors
                        why = f"{type(e).__name__}: {e}".replace("\n", " ")
                        if isinstance(e, TimeoutError) or "timed out" in why:
                            stalled.add(base)
                    if why is None:
                        break
                    (staging / name).unlink(missing_ok=True)
                    failures.append(f"{url}: {why}" + ("; skipped for the other files"
                                                       if base in stalled else ""))
                    log(failures[-1] + ("; trying the next mirror" if base != live[-1] else ""))
                else:
                    raise UserError(f"every mirror failed for {name} ({'; '.join(failures)}); "
                                    f"nothing was kept in {dest}")
            try:
                dest.mkdir(exist_ok=True)
                for name in names:   # each rename is atomic: dest never holds part of a file
                    os.replace(staging / name, dest / name)
            except OSError as e:    # e.g. an immutable folder (root passes os.access)
                raise UserError(f"cannot write to the cache {dest} ({e.strerror}); set "
                                f"{CACHE_ENV} to a writable folder") from None
        finally:
            shutil.rmtree(staging, ignore_errors=True)
    log(f"{title}: {len(names)} files verified and cached in {dest}")
