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
import time
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
    except BaseException as e:   # disk full, permissions, Ctrl-C: no temporary stays behind
        with contextlib.suppress(OSError):
            tmp.unlink()
        if isinstance(e, OSError) and e.filename in (None, str(tmp), tmp):
            # A write or sync names no file, the temporary is gone: name the target.
            raise naming(e, path) from None
        raise


def naming(e: OSError, path) -> OSError:
    """The OSError `e` (its errno, its cause) naming `path` as its file."""
    return OSError(e.errno, e.strerror or str(e), str(path))


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
    so a crashed run never leaves its folder locked.

    The lock file's bytes are never written: who holds it is read from the kernel's
    own table (/proc/locks), so a refused command leaves every file byte-identical,
    .lock included. A .lock this process created is removed again on release (a
    command that is refused adds no file), and so is one a killed process left, by
    the command that then does its work in the folder (locked()); since another
    process may have opened it just before, acquire() checks that the file it locked
    is still the one at .lock and otherwise locks the new one."""

    NAME = ".lock"

    def __init__(self, folder: Path):
        self.folder = Path(folder)
        self.path = self.folder / self.NAME
        self._fd = None
        self._created = False

    def _open(self, what: str) -> tuple[int, bool]:
        """(descriptor, created) of .lock, never through a link (O_NOFOLLOW: ELOOP)."""
        flags = os.O_RDWR | os.O_NOFOLLOW
        try:
            try:
                return os.open(self.path, flags | os.O_CREAT | os.O_EXCL, 0o644), True
            except FileExistsError:
                return os.open(self.path, flags), False
        except FileNotFoundError:   # removed between the two opens: try again
            return self._open(what)
        except OSError as e:
            if e.errno == errno.ELOOP or self.path.is_symlink():
                raise UserError(f"{self.path} is a symbolic link; a {what}'s lock is taken "
                                f"only inside the folder, never through a link: remove "
                                f"it") from None
            raise UserError(os_error_line(e)) from None

    def acquire(self, what: str = "run folder", wait: float = 0.0,
                flag: str | None = "--run-dir") -> None:
        """Take the lock, or refuse in one line naming the holder; `wait` seconds of
        retrying first (for the short read-merge-write of a shared page). `flag` is the
        command's flag that chooses another folder (None: the command has none)."""
        deadline = time.monotonic() + wait
        while True:
            fd, created = self._open(what)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = lock_holder(fd)
                os.close(fd)
                if time.monotonic() < deadline:
                    time.sleep(0.05)
                    continue
                fix = (f"wait for it to finish, stop it, or choose another {flag}" if flag
                       else "wait for it to finish or stop it, then run this command again")
                raise UserError(f"{self.folder} is in use: another process (pid {holder}) "
                                f"is writing this {what}; {fix}") from None
            try:
                same = os.fstat(fd).st_ino == os.stat(self.path, follow_symlinks=False).st_ino
            except FileNotFoundError:
                same = False
            if same:
                self._fd, self._created = fd, created
                return
            os.close(fd)   # its creator removed it as we locked it: lock the new one

    def adopt(self) -> None:
        """Make a .lock this process found (one a killed holder left: kill -9 skips
        release) its own, so that release removes it."""
        if self._fd is not None:
            self._created = True

    def release(self) -> None:
        if self._fd is not None:
            if self._created:   # still held: no one else can be holding this file
                with contextlib.suppress(OSError):
                    os.unlink(self.path)
            os.close(self._fd)   # closing the descriptor releases the flock
            self._fd = None


def lock_holder(fd: int) -> str:
    """The pid holding a flock on the file open at `fd`, from the kernel's /proc/locks
    ("1: FLOCK  ADVISORY  WRITE 4242 fd:01:123456 0 EOF"); "?" where it cannot tell."""
    try:
        st = os.fstat(fd)
        inode = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
        with open("/proc/locks") as f:
            for line in f:
                fields = line.split()
                if "FLOCK" in fields and "->" not in fields:   # "->": a waiter, not a holder
                    i = fields.index("FLOCK")
                    if fields[i + 4:i + 5] == [inode]:
                        return fields[i + 3]
    except (OSError, ValueError):
        pass
    return "?"


@contextlib.contextmanager
def locked(folder: Path, what: str = "run folder", flag: str | None = "--run-dir"):
    """Hold `folder`'s lock (creating the folder) for the block: a second process is
    refused in one line (see FolderLock.acquire for `flag`). A folder this call created
    is removed again if the block left nothing in it (a refused command writes
    nothing)."""
    folder = Path(folder)
    created = not folder.exists()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise UserError(os_error_line(e)) from None
    lock = FolderLock(folder)
    try:
        lock.acquire(what, flag=flag)
        yield folder
        # The command did its work (a refused one raises, leaving the folder as it
        # was): a .lock a killed process left is now this command's, and goes with it.
        lock.adopt()
    finally:
        lock.release()
        if created:
            with contextlib.suppress(OSError):
                if [p.name for p in folder.iterdir()] in ([], [FolderLock.NAME]):
                    (folder / FolderLock.NAME).unlink(missing_ok=True)
                    folder.rmdir()
