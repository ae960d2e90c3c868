"""What every `python -m gan_tf.X` command shares: its parser, its start-up and its
one-line error tail.

A command module parses its arguments with `Parser` and hands the work to its
library function through `run`, which turns the errors a user can act on into one
line on stderr and an exit code, never a traceback:

    UserError, OSError (disk full, read-only folder...),
    MemoryError (a file far larger than a run writes)     exit 2
    TrainingDiverged (a loss became NaN or Inf)           exit 1
    Stopped (SIGINT, SIGTERM between units of work)       exit 128 + the signal
    Ctrl-C before the library's own handling               exit 130
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import os
import signal
import sys
from pathlib import Path
from typing import Callable

from gan_tf.core.errors import Stopped, TrainingDiverged, UserError, os_error_line


class Parser(argparse.ArgumentParser):
    """argparse with a one-line error (not the usage dump) and the description kept
    as written (the commands' docstrings are laid out by hand)."""

    def __init__(self, command: str, description: str | None = None, *,
                 library: str | None = None, **kwargs):
        """`library`: the module whose docstring is the description (library_doc)."""
        kwargs.setdefault("formatter_class", argparse.RawDescriptionHelpFormatter)
        if library is not None:
            description = library_doc(library)
        super().__init__(prog=f"python -m {command}", description=description, **kwargs)

    def error(self, message):
        self.exit(2, f"error: {message} (see --help)\n")


def count(low: int, high: int, what: str = ""):
    """An argparse type: an integer from `low` to `high`, else the one-line flag error
    ("argument --trials: must be an integer from 1 to 100, got 100000"). Every count
    flag has an upper bound, so no typo asks for days of work or terabytes."""
    def parse(text: str) -> int:
        try:
            value = int(text, 10)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"must be an integer from {low:,} to {high:,}{what}, got {text[:40]!r}")
        return value
    parse.__name__ = "count"
    return parse


def real(low: float, high: float, what: str = ""):
    """An argparse type: a finite number in the open interval (low, high)."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = float("nan")
        if not low < value < high:   # NaN fails every comparison
            raise argparse.ArgumentTypeError(
                f"must be a number between {low} and {high}{what}, got {text[:40]!r}")
        return value
    parse.__name__ = "real"
    return parse


def add_study_arguments(p: argparse.ArgumentParser, default_run: str, out: str,
                        experiment: str, docs_what: str) -> None:
    """The arguments of a study of a trained sweep (python -m gan_tf.dcgan, .paper):
    the sweep, --out, --docs and --keep-seed."""
    p.add_argument("run", nargs="?", default=default_run,
                   help=f"an evaluated run or sweep of {experiment} (default: %(default)s)")
    p.add_argument("--out", default=out, help="output folder")
    p.add_argument("--docs", help=f"also copy the pictures and the generator there and put "
                                  f"{docs_what}")
    p.add_argument("--keep-seed", type=count(0, 2**31 - 1),
                   help="the seed whose generator --docs keeps (default: the first)")


def add_table_arguments(p: argparse.ArgumentParser, run_dir: str, section: str) -> None:
    """The arguments of a re-run paper table (python -m gan_tf.stacked_mnist,
    gan_tf.toys.pacgan_table): --trials, --run-dir, --docs and --report."""
    p.add_argument("--trials", type=count(1, 100), default=10,
                   help="trials per run (the paper's 10; at most 100)")
    p.add_argument("--run-dir", default=run_dir)
    p.add_argument("--docs", help=f"also put the table into docs/toys.md's {section} "
                                  f"section and the pictures beside it")
    p.add_argument("--report", action="store_true", help="train nothing: the table and "
                   "pictures of every run results.json holds, whatever its budget")


def library_doc(module: str) -> str:
    """A library module's docstring, the --help text of its command, read from the
    source without importing the module (which may bring TensorFlow: --help answers
    at once)."""
    source = Path(importlib.util.find_spec(module).origin).read_text()
    return ast.get_docstring(ast.parse(source), clean=False) or ""


def quiet_start() -> None:
    """TensorFlow's C++ start-up chatter off, unless the user set a level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def run(work: Callable[[], object], interrupted: str = "") -> int:
    """work() with the one-line error tail; its exit code, if work returns an int
    (anything else, a library function's result, is 0). Called after parsing, so
    --help and flag errors answer before TensorFlow starts."""
    quiet_start()
    try:
        code = work()
    except UserError as e:
        return _fail(str(e), 2)
    except OSError as e:
        return _fail(os_error_line(e), 2)
    except TrainingDiverged as e:
        return _fail(str(e), 1)
    except Stopped as e:
        return _fail(str(e), 128 + e.signum)
    except MemoryError:
        # Every file the project writes is small; one read that fills the memory is a
        # file that is not what its name says.
        return _fail("out of memory: is one of the files read far larger than a run "
                     "writes (a damaged or replaced file)? check the files named in the "
                     "command, or free memory", 2)
    except KeyboardInterrupt:
        # Every file is written atomically: what a command wrote before is whole.
        return interrupted_exit(interrupted)
    return code if type(code) is int else 0


def interrupted_exit(message: str = "") -> int:
    """A Ctrl-C before any work began: the one line run() gives, and its exit code."""
    # A Ctrl-C that lands inside code run from a string (a dataclass's generated
    # __init__, a namedtuple's __new__: the imports are full of them) leaves CPython's
    # "unhandled KeyboardInterrupt" flag set even though it was caught here; under
    # `python -m` the interpreter then ends by killing itself with SIGINT instead of
    # returning this exit code (CPython's run_eval_code_obj sets the flag, Py_RunMain
    # reads it). Every string eval clears the flag as it starts, so one empty one
    # makes the exit code the one below.
    exec("pass")
    return _fail("interrupted" + (f"; {message}" if message else ""), 128 + signal.SIGINT)


def _fail(message: str, code: int) -> int:
    print(f"error: {message}", file=sys.stderr)
    return code
