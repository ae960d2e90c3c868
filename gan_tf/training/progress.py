"""Progress reporting: a live bar on a terminal, plain lines everywhere else."""

from __future__ import annotations

import sys
import time


class Progress:
    """`update(done)` redraws a one-line bar (iterations/s, ETA) when `stream` is a
    terminal; `log(line)` prints a line above it. Off a terminal only lines appear."""

    def __init__(self, total: int, start: int = 0, stream=None):
        self.stream = stream or sys.stderr
        self.live = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.total, self.start = total, start
        self.t0, self.t_end, self.done = None, None, start
        self._drawn = False

    def begin(self, done: int) -> None:
        """Start the clock at iteration `done` (after the first, compiling, call, so
        the rate is the training rate)."""
        self.t0, self.start, self.done = time.perf_counter(), done, done

    def rate(self) -> float:
        """Iterations/s since begin(), up to now or to close()."""
        if self.t0 is None or self.done <= self.start:
            return 0.0
        end = self.t_end if self.t_end is not None else time.perf_counter()
        return (self.done - self.start) / max(end - self.t0, 1e-9)

    def update(self, done: int) -> None:
        self.done = done
        if not self.live:
            return
        r = self.rate()
        eta = _hms((self.total - done) / r) if r > 0 else "?"
        width = 30
        filled = int(width * done / self.total)
        self.stream.write(f"\r[{'#' * filled}{'.' * (width - filled)}] {done}/{self.total} "
                          f"{r:7.1f} it/s  ETA {eta} ")
        self.stream.flush()
        self._drawn = True

    def log(self, line: str) -> None:
        if self._drawn:
            self.stream.write("\r\033[K")
        print(line, file=sys.stdout if not self.live else self.stream, flush=True)
        if self._drawn:
            self.update(self.done)

    def close(self) -> None:
        """Stop the clock and end the bar's line."""
        if self.t_end is None and self.t0 is not None:
            self.t_end = time.perf_counter()
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False


def _hms(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}"
