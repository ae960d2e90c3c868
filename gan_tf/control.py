"""How a run is kept responsive: snapshot files written on a worker thread while
training goes on, and SIGINT/SIGTERM turned into a clean stop at the next chunk."""

from __future__ import annotations

import signal
import threading


class BackgroundWrites:
    """Runs one write job at a time on a worker thread. Submitting waits for the
    previous job, so at most one snapshot is in flight; wait() re-raises its error."""

    def __init__(self):
        self._thread, self._error = None, None

    def submit(self, job) -> None:
        self.wait()
        self._thread = threading.Thread(target=self._run, args=(job,), daemon=True)
        self._thread.start()

    def _run(self, job):
        try:
            job()
        except BaseException as e:  # surfaced on the training thread by wait()
            self._error = e

    def wait(self) -> None:
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._error is not None:
            error, self._error = self._error, None
            raise error


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
