"""The exceptions that mean "the user can fix this" or "training blew up", and the one
line an OSError becomes. Every command prints them through `core.cli.run`: one line,
no traceback, a non-zero exit, and nothing written."""

from __future__ import annotations

import errno


class UserError(Exception):
    """Bad input: a config value, a data file, a run folder. The message names the fix."""


class TrainingDiverged(Exception):
    """A loss became NaN or Inf; the message names the iteration and the loss variant."""


class Stopped(Exception):
    """A command stopped by a signal between units of work; the message says what was
    kept and what was lost. Exit status 128 + the signal, as a shell reports it."""

    def __init__(self, message: str, signum: int):
        super().__init__(message)
        self.signum = signum


def os_error_line(e: OSError) -> str:
    """An OSError as the one line a user needs: which file, what, what to do."""
    where = f" {e.filename}" if e.filename else ""
    hint = {errno.ENOSPC: "the disk is full: free space",
            errno.EDQUOT: "the disk quota is exceeded: free space",
            errno.EROFS: "the file system is read-only: choose a writable folder",
            errno.EACCES: "permission denied: make the folder writable or choose another",
            errno.EPERM: "an immutable file or folder? (chattr -i) or choose another "
                         "folder"}.get(e.errno, "")
    return f"cannot write{where}: {e.strerror or e}" + (f"; {hint}" if hint else "")
