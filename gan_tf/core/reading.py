"""Every file the project reads back goes through here: whatever its bytes, size, type
or depth, it is either returned or refused in one line (a UserError: exit 2), before
the command has written anything.

A run folder, a study folder or a generator file can be shared, unpacked, hand-edited
or replaced, so a read is bounded in every way a file can make a reader misbehave:
  size      a file far larger than gan-tf ever writes under that name is refused
            before it is read (the cap is a multiple of the largest such file a run
            writes, so a real one never meets it); a FIFO, device or folder in its
            place is refused without opening it (a FIFO would block forever);
  bytes     not UTF-8, not JSON: one line naming the file and the fix;
  depth     JSON nested deeper than any file gan-tf writes (Python's parser raises
            RecursionError on ~100,000 brackets, and a value nested a few hundred
            deep breaks json.dumps and deep comparisons later): refused;
  types     the caller checks the shape it needs; `kind` is the top-level type.
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from gan_tf.core.errors import UserError

KIB, MIB, GIB = 1 << 10, 1 << 20, 1 << 30
# The largest JSON files a run writes are the paper tables' results.json (the PacGAN
# table at the paper's 400 epochs x 10 trials x 12 runs is ~3 MB); every other JSON file
# is a few KB. 64 MB is 20x the largest.
JSON_LIMIT = 64 * MIB
# The deepest JSON gan-tf writes is a results.json: runs -> key -> curve -> epoch ->
# measure -> trial, 6 levels (metrics.json: 4). 32 leaves room for any later file.
JSON_DEPTH = 32


def _size_text(n: int) -> str:
    for unit, size in (("GB", GIB), ("MB", MIB), ("KB", KIB)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n} bytes"


def check_file(path, fix: str, limit: int) -> int:
    """`path` is a regular file of at most `limit` bytes (its size), or one line."""
    path = Path(path)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise UserError(f"{path} does not exist; {fix}") from None
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror or e}; {fix}") from None
    if not stat.S_ISREG(st.st_mode):
        kind = "a folder" if stat.S_ISDIR(st.st_mode) else "not a regular file"
        raise UserError(f"{path} is {kind}, where gan-tf expects a file it wrote; {fix}")
    if st.st_size > limit:
        raise UserError(f"{path} is {_size_text(st.st_size)}, far larger than gan-tf writes "
                        f"such a file (at most {_size_text(limit)}): it is damaged or "
                        f"another file; {fix}")
    return st.st_size


def read_bytes(path, fix: str, limit: int = JSON_LIMIT) -> bytes:
    """The bytes of a regular file of at most `limit` bytes, or one line (missing, not a
    file, too large, unreadable)."""
    path = Path(path)
    check_file(path, fix, limit)
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)   # a file that grew since the check is still capped
    except OSError as e:
        raise UserError(f"cannot read {path}: {e.strerror or e}; {fix}") from None
    if len(data) > limit:
        raise UserError(f"{path} is larger than {_size_text(limit)}, far larger than gan-tf "
                        f"writes such a file: it is damaged or another file; {fix}")
    return data


def decode_text(data: bytes, what: str, fix: str) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{what} is not UTF-8 text (byte {e.start}); {fix}") from None


def read_text(path, fix: str, limit: int = JSON_LIMIT) -> str:
    return decode_text(read_bytes(path, fix, limit), str(path), fix)


def depth(value) -> int:
    """How deeply `value` nests lists and dicts (a scalar: 0), without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        v, d = stack.pop()
        if isinstance(v, dict):
            v = v.values()
        elif not isinstance(v, list):
            continue
        deepest = max(deepest, d)
        stack.extend((x, d + 1) for x in v)
    return deepest


_KINDS = {dict: "a JSON object", list: "a JSON list"}


def parse_json(text: str, what: str, fix: str, kind: type = dict, holding: str = ""):
    """`text` as JSON whose top level is a `kind`, or one line naming `what` is wrong
    with it and `fix`. `holding` says what the object holds, for the message."""
    try:
        value = json.loads(text)
    except RecursionError:
        raise UserError(f"{what} is nested far deeper than any file gan-tf writes (Python's "
                        f"JSON parser gave up); {fix}") from None
    except ValueError as e:   # JSONDecodeError, and integers of thousands of digits
        raise UserError(f"{what} is not valid JSON ({str(e)[:100]}); {fix}") from None
    levels = depth(value)
    if levels > JSON_DEPTH:
        raise UserError(f"{what} nests {levels} levels deep, where gan-tf writes at "
                        f"most {JSON_DEPTH}; {fix}")
    if kind is not None and not isinstance(value, kind):
        raise UserError(f"{what} must be {_KINDS.get(kind, kind.__name__)}{holding}, got "
                        f"{_json_type(value)}; {fix}")
    return value


def _json_type(value) -> str:
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean",
            int: "a number", float: "a number", type(None): "null"}.get(type(value),
                                                                        type(value).__name__)


def read_json(path, fix: str, kind: type = dict, holding: str = "",
              limit: int = JSON_LIMIT):
    """A JSON file gan-tf wrote, read back: parse_json of read_text, one line if not."""
    return parse_json(read_text(path, fix, limit), str(path), fix, kind, holding)


def exception_line(e: BaseException, limit: int = 120) -> str:
    """An exception from a library as one line of at most about `limit` characters:
    its lines joined, cut at a word with an ellipsis (never mid-word, never a newline
    in the user's one-line error)."""
    text = " ".join(str(e).split())
    if len(text) > limit:
        cut = text[:limit].rsplit(" ", 1)[0]
        text = (cut if len(cut) > limit // 2 else text[:limit]) + " ..."
    return f"{type(e).__name__}: {text}" if text else type(e).__name__
