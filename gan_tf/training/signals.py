"""SIGINT/SIGTERM turned into a clean stop at the next chunk boundary: the run then
checkpoints and returns, and a second signal stops at once."""

from __future__ import annotations

import signal
import threading


class StopRequests:
    """While active, SIGINT/SIGTERM only set `signum`: the loop then checkpoints and
    returns at the next chunk boundary. A second signal stops at once."""

    def __init__(self):
        self.signum = None
        self._old = {}

    def _handle(self, signum, frame):
        if self.signum is not None:
            raise KeyboardInterrupt
        self.signum = signum

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for s in (signal.SIGINT, signal.SIGTERM):
                self._old[s] = signal.signal(s, self._handle)
        return self

    def __exit__(self, *exc):
        for s, h in self._old.items():
            signal.signal(s, h)
        return False
