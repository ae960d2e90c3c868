"""Files that are whole or absent: atomic writes, their temporaries, folder locks.

Every write goes to a temporary name beside its target, is synced, then renamed
over it, so a kill at any moment leaves the old file or the new one, never half.
A write that fails (disk full, read-only folder, Ctrl-C) removes its temporary
before the error goes on; the temporaries of a process killed mid-write are found
by their prefix and removed by `remove_temporaries`, which a run folder calls only
while it holds the folder's lock (so no live writer owns them).
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import itertools
import os
import re
from pathlib import Path

from gan_tf.core.errors import UserError, os_error_line

TMP_PREFIX = ".tmp-"
# Names earlier versions gave their temporaries (".NAME.tmpPID", ".tmpPID.NAME"):
# runs written by them may still hold some.
_LEGACY_TMP = re.compile(r"^\..+\.tmp\d+$|^\.tmp\d+\..+$")
_serial = itertools.count()


def temp_path(path: Path) -> Path:
    """A temporary beside `path`, unique to this process and call, ending in path's own
    name (libraries such as Keras pick the format from the suffix)."""
    return path.with_name(f"{TMP_PREFIX}{os.getpid()}-{next(_serial)}-{path.name}")


def atomic_save(path: Path, save_fn) -> None:
    """Atomic write for libraries that insist on writing a file themselves:
    `save_fn(tmp_path)` writes the temporary, which is then renamed to `path`."""
    path = Path(path)
    tmp = temp_path(path)
    try:
        save_fn(tmp)
        os.replace(tmp, path)
    except BaseException:   # disk full, permissions, Ctrl-C: no temporary stays behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def atomic_write_bytes(path: Path, data: bytes) -> None:
    def write(tmp):
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
    atomic_save(path, write)


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def is_temporary(name: str) -> bool:
    return name.startswith(TMP_PREFIX) or bool(_LEGACY_TMP.match(name))


def remove_temporaries(folder: Path) -> list[Path]:
    """Delete the temporaries left in `folder` by killed writers; returns them."""
    removed = []
    if folder.is_dir():
        for p in folder.iterdir():
            if is_temporary(p.name) and p.is_file():
                with contextlib.suppress(FileNotFoundError):
                    p.unlink()
                removed.append(p)
    return removed


class FolderLock:
    """An exclusive advisory lock on a folder (flock on FOLDER/.lock), held by one
    process at a time. The kernel releases it when the process dies, kill -9 included,
    so a crashed run never leaves its folder locked."""

    NAME = ".lock"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self._fd = None

    def acquire(self, what: str = "run folder") -> None:
        try:   # never through a link: O_NOFOLLOW refuses one (ELOOP)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as e:
            if e.errno == errno.ELOOP:
                raise UserError(f"{self.path} is a symbolic link; a {what}'s lock is taken "
                                f"only inside the folder, never through a link: remove "
                                f"it") from None
            raise UserError(os_error_line(e)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise UserError(f"{self.folder} is in use: another process (pid {holder}) is "
                            f"writing this {what}; wait for it to finish, stop it, or "
                            f"choose another --run-dir") from None
        try:   # who holds it, for the next process's message; the lock works without it
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        except OSError:
            pass
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)   # closing the descriptor releases the flock
            self._fd = None
