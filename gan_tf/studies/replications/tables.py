"""What the re-run paper tables (toys/pacgan_table.py, stacked_mnist_table.py) share:
the --runs list, their results.json (read back with every entry checked, or refused as
damaged in one line; written by merging), and the stop report of a signal.

A table's command holds its folder's lock from start to end (runs/files.locked), so a
second process on the same folder is refused before it trains anything; each finished
run is then merged into results.json as it stands on disk, so nothing another writer
put there is dropped."""

from __future__ import annotations

import json
import math
import signal
from pathlib import Path

import numpy as np

from gan_tf.core import reading
from gan_tf.core.errors import Stopped, UserError
from gan_tf.runs.files import atomic_write_text


def parse_runs(text: str, choices) -> tuple[str, ...]:
    """--runs' comma-separated keys, each one of `choices`."""
    keys = tuple(k.strip() for k in text.split(",") if k.strip())
    bad = [k for k in keys if k not in choices]
    if bad or not keys:
        raise UserError(f"--runs: unknown {', '.join(bad)[:200] or 'empty list'}; choose "
                        f"from {', '.join(choices)}")
    return keys


# --- the checks of an entry: each is True or raises KeyError / TypeError on bad shape

def number(v) -> bool:
    """A measure as JSON gives it back: an int or a float (NaN: undefined, e.g. a
    reverse KL with no sample on a mode; written by json.dumps as NaN)."""
    return type(v) in (int, float)


def finite(v) -> bool:
    return number(v) and math.isfinite(v)


def count(v) -> bool:
    return type(v) is int and v >= 0


def list_of(v, check, length=None) -> bool:
    return (isinstance(v, list) and (length is None or len(v) == length)
            and all(check(x) for x in v))


def load_results(path: Path, protocol: str, run_ok=lambda run: True,
                 extra_ok=lambda out: True) -> dict:
    """A table's results.json ({"protocol", "runs": {key: run}}), or an empty one where
    there is none. Refused in one line if damaged: not JSON, too large or too deep
    (core/reading), another table's, or an entry run_ok (or the rest, extra_ok) does
    not accept, so no later step meets a missing key or a wrong type."""
    path = Path(path)
    fix = "move it away or pass another --run-dir"
    if not (path.exists() or path.is_symlink()):
        return {"protocol": protocol, "runs": {}}
    out = reading.read_json(path, fix)
    # Earlier versions wrote no protocol: such a file is taken as this table's, and its
    # entries are checked like any others.
    out.setdefault("protocol", protocol)
    if out["protocol"] != protocol:
        raise UserError(f"{path} is not this table's (its protocol is "
                        f"{str(out.get('protocol'))[:40]!r}, not {protocol!r}); {fix}")
    runs = out.get("runs")
    if not isinstance(runs, dict):
        raise UserError(f"{path} has no 'runs' object; {fix}")
    for key, run in runs.items():
        try:
            ok = isinstance(run, dict) and bool(run) and run_ok(run)
        except (KeyError, TypeError, IndexError, AttributeError, ValueError):
            ok = False
        if not ok:
            raise UserError(f"{path}: its entry {key[:60]!r} is damaged (not what this table "
                            f"writes); delete that entry to train it again, or {fix}")
    try:
        ok = extra_ok(out)
    except (KeyError, TypeError, IndexError, AttributeError, ValueError):
        ok = False
    if not ok:
        raise UserError(f"{path} is damaged (not the JSON this table writes); {fix}")
    return out


def merge_run(path: Path, protocol: str, run_ok, key: str, entry: dict,
              **top) -> dict:
    """results.json as it is on disk, with run `key` (and the top-level `top`) put in,
    written atomically; the merged whole is returned. Called under the folder's lock."""
    out = load_results(path, protocol, run_ok)
    if key is not None:
        out["runs"][key] = entry
    out.update(top)
    atomic_write_text(path, json.dumps(out, indent=1) + "\n")
    return out


def load_samples(path: Path, key: str, shape_ok, what: str):
    """A run's saved samples (an .npy the table wrote for its pictures), or one line
    naming the file and the fix: missing, far too large, damaged, pickled, or not the
    array `shape_ok` accepts (`what` describes it)."""
    fix = (f"delete the entry {key!r} from {Path(path).parent / 'results.json'} to train "
           f"it again, or restore the file")
    reading.check_file(path, fix, 256 * reading.MIB)
    try:
        array = np.load(path, allow_pickle=False)
    except Exception as e:   # a cut, altered or pickled file
        raise UserError(f"{path} is damaged ({reading.exception_line(e, 60)}); "
                        f"{fix}") from None
    if not (isinstance(array, np.ndarray) and np.issubdtype(array.dtype, np.floating)
            and shape_ok(array.shape)):
        raise UserError(f"{path} does not hold {what}; {fix}")
    return array


def stop_if_asked(stop, kept, lost: str) -> None:
    """After a unit of work: if `stop` (training.signals.StopRequests) caught SIGTERM or
    SIGINT, end the command with one line saying what results.json kept and what was
    lost (exit 128 + the signal)."""
    if stop.signum is not None:
        kept = ", ".join(kept) or "nothing yet"
        raise Stopped(f"stopped by {signal.Signals(stop.signum).name}: results.json keeps "
                      f"{kept}; lost: {lost}; run the same command again to continue",
                      stop.signum)
