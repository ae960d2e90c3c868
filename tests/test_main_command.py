"""`python -m gan_tf COMMAND ARGS...` (gan_tf/__main__.py): its list is every command
module on disk, read without TensorFlow, and a command run through it is the command
run as `python -m gan_tf.COMMAND ARGS...`: the same output, the same exit code."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ENV, REPO

PACKAGE = REPO / "gan_tf"
MAIN_BLOCK = re.compile(r"""^if __name__ == ["']__main__["']:""", re.M)
# TensorFlow's C++ start-up lines (absl logging), stamped with the time and process id:
# where a command imports TensorFlow they differ between any two runs.
TF_LOG = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\)|"
                    r"[IWEF]\d{4} [\d:.]+ +\d+ |"
                    r"To enable the following instructions:).*\n?", re.M)


def python(*args: str) -> subprocess.CompletedProcess:
    # COLUMNS: the width --help lays its lines out for, whatever the terminal.
    return subprocess.run([sys.executable, *args], cwd=REPO, env={**ENV, "COLUMNS": "100"},
                          capture_output=True, text=True, timeout=300)


def on_disk(root: Path = PACKAGE) -> set[str]:
    """The command names, found here without gan_tf/__main__.py: every module directly
    in gan_tf/ or gan_tf/toys/ that runs as __main__."""
    def found(folder):
        return {p.stem for p in folder.glob("*.py")
                if not p.stem.startswith("_") and MAIN_BLOCK.search(p.read_text())}
    top = found(root)
    return top | {t if t not in top else f"toys.{t}" for t in found(root / "toys")}


def listed(text: str) -> set[str]:
    """The command names in the --help text (the indented lines)."""
    return {m.group(1) for m in re.finditer(r"^  (\S+)  ", text, re.M)}


def test_help_lists_every_command_without_tensorflow():
    done = python("-m", "gan_tf", "--help")
    assert done.returncode == 0, done.stderr
    names = listed(done.stdout)
    assert {"train", "evaluate", "results", "latent", "xy_game", "gaussian1d"} <= names
    # Each has its one line: a sentence of what its --help says, not its own name again.
    lines = [line for line in done.stdout.splitlines() if line.startswith("  ")]
    assert len(lines) == len(names)
    assert all(re.fullmatch(r"  \S+ +[A-Z][^`]*\S.*", line) and "python -m" not in line
               and len(line) < 100 for line in lines), lines
    # The same, run in this interpreter as python -m runs it: nothing heavy imported.
    probe = python("-c", """if True:
        import runpy, sys
        sys.argv = ["gan_tf", "-h"]
        try:
            runpy.run_module("gan_tf", run_name="__main__", alter_sys=True)
        except SystemExit as e:
            assert e.code == 0, e.code
        heavy = sorted(m for m in sys.modules if m.split(".")[0] in ("tensorflow", "keras"))
        assert heavy == [], heavy
        print("light")""")
    assert probe.returncode == 0 and probe.stdout.endswith("light\n"), probe.stderr[-3000:]
    assert listed(probe.stdout) == names


def test_no_command_lists_them_and_exits_2():
    done = python("-m", "gan_tf")
    assert done.returncode == 2
    assert "train" in listed(done.stdout)
    assert done.stderr.count("\n") == 1 and done.stderr.startswith("error: "), done.stderr


@pytest.mark.parametrize("args, module", [
    (["train", "--help"], "gan_tf.train"),
    (["results", "--help"], "gan_tf.results"),
    (["xy-game", "--help"], "gan_tf.toys.xy_game"),       # a toy, by its hyphenated name
    (["train", "--no-such-flag", "1"], "gan_tf.train"),   # a flag error: exit 2, stderr
    (["evaluate"], "gan_tf.evaluate"),                    # a missing argument
])
def test_a_command_runs_as_python_dash_m_runs_it(args, module):
    through = python("-m", "gan_tf", *args)
    direct = python("-m", module, *args[1:])
    prog = re.compile(r"python -m gan_tf[ .](toys\.)?" + re.escape(args[0]))
    same = lambda text: prog.sub(f"python -m {module}", TF_LOG.sub("", text))  # noqa: E731
    assert (through.returncode, same(through.stdout), same(through.stderr)) == \
        (direct.returncode, same(direct.stdout), same(direct.stderr))
    assert direct.stdout or direct.stderr      # the command did answer


@pytest.mark.parametrize("typed, close", [("trian", "train"), ("xy-gam", "xy_game"),
                                          ("evalute", "evaluate")])
def test_an_unknown_command_is_one_line_naming_the_closest(typed, close):
    done = python("-m", "gan_tf", typed, "--help")
    assert done.returncode == 2 and done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    assert repr(typed) in lines[0] and close in lines[0], lines[0]


def test_the_list_is_the_command_modules_on_disk():
    from gan_tf.__main__ import commands
    found = commands()
    assert set(found) == on_disk()
    assert len(found) >= 18
    for name, command in found.items():
        assert command.path.is_file()
        assert command.path == PACKAGE.joinpath(*command.module.split(".")[1:]) \
            .with_suffix(".py"), (name, command)


def test_a_new_command_module_appears_by_itself(tmp_path):
    """The list is scanned, not written down: a module added to toys/ is listed with its
    docstring's first sentence; a module that does not run as __main__ is not."""
    from gan_tf.__main__ import commands, description
    root = tmp_path / "gan_tf"
    (root / "toys").mkdir(parents=True)
    for p in [*PACKAGE.glob("*.py"), *(PACKAGE / "toys").glob("*.py")]:
        shutil.copy(p, root / p.relative_to(PACKAGE))
    (root / "toys" / "new_toy.py").write_text(
        '"""A planted toy. It has a second sentence."""\n\n'
        'def main():\n    return 0\n\n\nif __name__ == "__main__":\n    main()\n')
    (root / "helper.py").write_text('"""Not a command."""\n\nX = 1\n')
    (root / "toys" / "train.py").write_text(
        '"""A toy named like a command."""\n\nif __name__ == "__main__":\n    pass\n')
    found = commands(root)
    assert set(found) == on_disk(root) == on_disk() | {"new_toy", "toys.train"}
    assert found["new_toy"].module == "gan_tf.toys.new_toy"
    assert found["toys.train"].module == "gan_tf.toys.train"
    assert found["train"].module == "gan_tf.train"
    assert description(found["new_toy"]) == "A planted toy."
