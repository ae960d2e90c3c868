"""`python -m gan_tf COMMAND [ARGS...]`: one entry point for every command.

`python -m gan_tf COMMAND ARGS...` runs exactly what `python -m gan_tf.COMMAND ARGS...`
runs (the toys: `python -m gan_tf.toys.COMMAND`): the same module as `__main__`, the
same arguments, the same exit code. `python -m gan_tf --help` lists the commands.

The list is not written down here: it is every module directly in gan_tf/ and in
gan_tf/toys/ that runs as `__main__` (has an `if __name__ == "__main__":` block), so a
new command module appears by itself. Each one's line is the first sentence of the
description its --help shows, read from the sources with `ast`, never by importing
them: the list answers at once, without TensorFlow.
"""

from __future__ import annotations

import ast
import difflib
import pkgutil
import re
import runpy
import shutil
import sys
import textwrap
from dataclasses import dataclass
from pathlib import Path

PACKAGE = "gan_tf"
ROOT = Path(__file__).resolve().parent
# The folders whose modules are commands: (subpackage, title in the list).
FOLDERS = (("", "commands"), ("toys", "toys (gan_tf.toys.NAME)"))
USAGE = "usage: python -m gan_tf [-h] COMMAND [ARGS...]"


@dataclass(frozen=True)
class Command:
    name: str       # what the user types: train, xy_game (or xy-game)
    module: str     # what `python -m` would run: gan_tf.train, gan_tf.toys.xy_game
    path: Path
    group: str      # its title in the list


def commands(root: Path = ROOT) -> dict[str, Command]:
    """Every command module on disk under `root` (the gan_tf folder), by the name
    `python -m gan_tf NAME` takes. A module of toys/ whose name a top-level command
    already has is `toys.NAME`."""
    found: dict[str, Command] = {}
    for sub, group in FOLDERS:
        folder, prefix = root / sub, ".".join(filter(None, (PACKAGE, sub)))
        for info in pkgutil.iter_modules([str(folder)]):
            if info.ispkg or info.name.startswith("_"):
                continue
            path = folder / f"{info.name}.py"
            if not path.is_file() or not _runs_as_main(path):
                continue
            name = info.name if info.name not in found else f"{sub}.{info.name}"
            found[name] = Command(name, f"{prefix}.{info.name}", path, group)
    return found


def _runs_as_main(path: Path) -> bool:
    """The module has a top-level `if __name__ == "__main__":` block."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (OSError, SyntaxError, ValueError):
        return False
    return any(isinstance(node, ast.If) and re.fullmatch(
                   r"__name__ == ['\"]__main__['\"]", ast.unparse(node.test))
               for node in tree.body)


def description(command: Command) -> str:
    """The first sentence of what `--help` describes the command with: the parser's
    description= where the source writes it out, else the docstring of its library=
    module (core/cli.py's Parser), else the command module's own docstring. '' where
    the sources cannot be read: the list never fails for one command."""
    try:
        return _first_sentence(_help_text(command))
    except (OSError, SyntaxError, ValueError):
        return ""


def _help_text(command: Command) -> str:
    tree = ast.parse(command.path.read_text(encoding="utf-8"), str(command.path))
    text = None
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and ast.unparse(node.func).endswith("Parser"):
            words = {k.arg: k.value for k in node.keywords}
            if _text(words.get("description")):
                text = _text(words["description"])
            elif _text(words.get("library")):
                root = command.path.parents[command.module.count(".") - 1]
                text = _docstring_of(_text(words["library"]), root)
            break
    return text or ast.get_docstring(tree) or ""


def _text(node) -> str | None:
    return node.value if isinstance(node, ast.Constant) and isinstance(node.value, str) \
        else None


def _docstring_of(module: str, root: Path) -> str:
    """A gan_tf module's docstring from its source file under root, the gan_tf folder
    ('' where there is none)."""
    base = root.parent.joinpath(*module.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    return ""


def _first_sentence(text: str) -> str:
    """The first paragraph's first sentence on one line, without the `python -m ...`
    that names the command again."""
    text = " ".join(text.strip().split("\n\n", 1)[0].split())
    text = re.sub(r"^(Command line: )?`python -m [^`]*`[:.]?\s*", "", text)
    text = re.sub(r"\s*\([^()]*`python -m [^()]*\)", "", text)
    text = re.split(r"(?<=[.!?])\s+(?=[A-Z`(\"])", text, maxsplit=1)[0]
    return text[:1].upper() + text[1:]


def listing() -> str:
    """The --help text: the usage, then each group of commands with its line."""
    found = commands()
    width = max(len(c.name) for c in found.values()) + 4 if found else 10
    columns = max(60, shutil.get_terminal_size((100, 24)).columns) - 1
    lines = [USAGE, "",
             "Runs `python -m gan_tf.COMMAND ARGS...` (the toys: gan_tf.toys.COMMAND);",
             "`python -m gan_tf COMMAND --help` shows a command's own flags. Hyphens",
             "may stand for underscores (xy-game).", ""]
    for _, group in FOLDERS:
        members = [c for c in found.values() if c.group == group]
        if not members:
            continue
        lines.append(f"{group}:")
        for c in sorted(members, key=lambda c: c.name):
            text = description(c)
            if width + len(text) > columns:
                text = textwrap.shorten(text, columns - width, placeholder=" ...")
            lines.append(f"  {c.name:<{width - 2}}{text}".rstrip())
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def find(name: str, found: dict[str, Command]) -> Command | None:
    """The command NAME stands for: its module name, with - for _ allowed, and a toy
    also as toys.NAME."""
    key = name.replace("-", "_").replace("/", ".")
    if key in found:
        return found[key]
    return next((c for c in found.values() if c.module == f"{PACKAGE}.{key}"), None)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if not argv:
        print(listing(), end="")
        print("error: no command given (python -m gan_tf COMMAND [ARGS...])",
              file=sys.stderr)
        return 2
    name, args = argv[0], argv[1:]
    if name in ("-h", "--help"):
        print(listing(), end="")
        return 0
    if name.startswith("-"):
        print(f"error: unknown option {name}: the command comes first "
              f"(python -m gan_tf COMMAND [ARGS...]; see --help)", file=sys.stderr)
        return 2
    found = commands()
    command = find(name, found)
    if command is None:
        close = difflib.get_close_matches(name.replace("-", "_"), list(found), n=3)
        hint = f"; did you mean {' or '.join(close)}?" if close else ""
        print(f"error: no command {name!r}{hint} (python -m gan_tf --help lists them)",
              file=sys.stderr)
        return 2
    # What `python -m gan_tf.COMMAND ARGS...` runs: the module as __main__, sys.argv
    # holding ARGS (runpy puts the module's file in sys.argv[0], as python -m does).
    # The command's own sys.exit(main()) ends the process with its exit code.
    sys.argv = [sys.argv[0], *args]
    runpy.run_module(command.module, run_name="__main__", alter_sys=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
