"""Every fix a refusal of the train command suggests is one the command then accepts
(issue 50's class check): each scenario below is refused in one line; the flags that
line suggests ("add --resume", "add --no-conditional", "--iters 40 or more", "pass
--data-dir DIR") are read out of the line itself, not written into the test, applied
to the refused command one alternative at a time, and the command is run again, which
must then succeed. A message reworded to suggest a flag the command refuses, or one it
does not have, fails here."""

from __future__ import annotations

import re
import shlex

import pytest

from conftest import one_line_error

# Words a suggestion may use for a value the user fills in.
PLACEHOLDERS = {"N": "2"}


def _takes_value(parser, flag: str) -> bool:
    action = parser._option_string_actions[flag]
    return action.nargs != 0


def _without(args: list, flag: str, parser) -> list:
    """args with every occurrence of flag (and its value) removed; --no-X counts as X."""
    names = {flag, "--no-" + flag[2:]} | ({"--" + flag[5:]} if flag.startswith("--no-") else set())
    out, skip = [], False
    for a in args:
        if skip:
            skip = False
            continue
        if a in names:
            skip = _takes_value(parser, a) if a in parser._option_string_actions else False
            continue
        out.append(a)
    return out


SUGGESTION = re.compile(r"\b(add|with|pass|drop|without|or|,) (--[a-z][a-z0-9-]*)"
                        r"(?: instead of (--[a-z][a-z0-9-]*))?(?: ([^\s,;()]+))?")


def suggestions(line: str, args: list, parser, values: dict) -> list:
    """The commands the error `line` suggests, as argument lists: args with each
    suggested flag added (its value, if it takes one, the word after it; a placeholder
    filled in from PLACEHOLDERS and `values`; "--x instead of --y" also drops --y), or
    each flag it says to drop (or to go without) removed. Every flag named must be one
    the parser has."""
    fixes = []
    for m in SUGGESTION.finditer(line):
        verb, flag, instead, value = m.groups()
        for named in (flag, instead):
            assert named is None or named in parser._option_string_actions, \
                f"suggests {named}, not a flag: {line}"
        if verb in ("drop", "without"):
            fixes.append(_without(args, flag, parser))
            continue
        new = [flag]
        if _takes_value(parser, flag):
            assert value, f"suggests {flag} without its value: {line}"
            value = value.replace(",", "")
            new.append(values.get(value, PLACEHOLDERS.get(value, value)))
        rest = _without(args, instead, parser) if instead else args
        fixes.append(_without(rest, flag, parser) + new)
    for key in re.findall(r"\bdrop ([a-z][a-z0-9_]*)\b", line):   # a parameter's name
        flag = "--" + key.replace("_", "-")
        assert flag in parser._option_string_actions, f"suggests dropping {key}: {line}"
        fixes.append(_without(args, flag, parser))
    assert fixes, f"the refusal suggests no flag: {line}"
    return fixes


@pytest.fixture(scope="module")
def parser():
    from gan_tf.train import build_parser
    return build_parser()


def _tiny(mnist_dir, run, *args):
    return ["--iters", "4", "--snapshot-every", "2", "--log-every", "2", "--no-tensorboard",
            "--eval-every", "0", "--data-dir", str(mnist_dir), "--run-dir", str(run), *args]


# (name, how to set the folder up (args of earlier runs), the refused args, the words
# its line holds); "{run}" is the scenario's run folder. The fast lane keeps the MLP
# scenarios; the convolutional families' tiny runs are marked slow.
SMALL_CONV = ["--width", "2", "--blocks", "1", "--d-width", "2"]


def case(name, setup, refused, words, slow=False):
    return pytest.param(name, setup, refused, words, id=name,
                        marks=[pytest.mark.slow] if slow else [])


SCENARIOS = [
    case("an existing run", [[]], [], ["already holds a run"]),
    case("resume below the checkpoint", [[]], ["--resume", "--iters", "2"], ["past --iters"]),
    case("sequential without seeds", [], ["--sequential"], ["--sequential"]),
    case("an existing seed sweep", [["--seeds", "2"]], ["--seeds", "2"],
         ["already holds a seed sweep"]),
    case("another family's parameter", [], ["--gp-weight", "10"], ["gp_weight"]),
    case("resume of nothing", [], ["--resume"], ["nothing to resume"]),
    case("no data", [], ["--data-dir", "{empty}"], ["--data-dir"]),
    case("VBN in a conditional DCGAN", [], ["--experiment", "mnist-cdcgan", "--g-vbn",
                                            "--conv-width", "2", "--dcgan-fc", "8"],
         ["g_vbn"], slow=True),
    case("SRGAN with an MLP's init", [],
         ["--experiment", "mnist-srgan", *SMALL_CONV, "--init", "uniform"], ["init"],
         slow=True),
    case("CycleGAN with an MLP's init", [],
         ["--experiment", "mnist-cyclegan", *SMALL_CONV, "--init", "uniform"], ["init"],
         slow=True),
]


@pytest.mark.parametrize("name, setup, refused, words", SCENARIOS)
def test_each_suggested_fix_is_accepted(name, setup, refused, words, parser, mnist_dir,
                                        tmp_path, capsys):
    from gan_tf.train import main
    empty = tmp_path / "empty"
    empty.mkdir()
    values = {"DIR": str(mnist_dir), "{empty}": str(empty)}
    run = tmp_path / "run"
    for args in setup:
        assert main(_tiny(mnist_dir, run, *args)) == 0
    # (a flag given twice takes its last value: the data scenario's empty --data-dir)
    args = _tiny(mnist_dir, run, *[values.get(a, a) for a in refused])
    capsys.readouterr()
    assert main(args) == 2, f"{name}: not refused"
    line = one_line_error(capsys, *words)
    for i, fixed in enumerate(suggestions(line, args, parser, values)):
        if i:   # each alternative from the folder as the refusal left it
            import shutil
            shutil.rmtree(run, ignore_errors=True)
            for before in setup:
                assert main(_tiny(mnist_dir, run, *before)) == 0
        capsys.readouterr()
        assert main(fixed) == 0, (f"{name}: the suggested {shlex.join(fixed)} was refused: "
                                  f"{capsys.readouterr().err.strip()} (suggested by: {line})")


@pytest.mark.parametrize("state", ["without its generator", "empty"])
def test_the_train_command_evaluate_suggests_is_accepted(state, mnist_dir, tmp_path, capsys):
    """evaluate of a run that has no generator names the train command that makes one
    (finish the run, or train one into an empty folder); that command, read out of the
    line, runs and leaves the generator evaluate asked for."""
    from gan_tf.evaluate import main as evaluate
    from gan_tf.train import main as train
    run = tmp_path / "run"
    if state == "empty":
        run.mkdir()
    else:
        assert train(_tiny(mnist_dir, run)) == 0
        (run / "generator.keras").unlink()
    capsys.readouterr()
    assert evaluate([str(run)]) == 2
    line = one_line_error(capsys, "no generator")
    command = re.search(r"python -m gan_tf\.train ([^()]+)\)", line)
    assert command, f"names no train command: {line}"
    args = shlex.split(command[1])
    # the machine's own data folder (a user's is found without the flag) and the tiny
    # run's length; the fix itself is what the line says
    extra = [] if "--resume" in args else ["--iters", "4", "--no-tensorboard"]
    assert train([*args, *extra, "--data-dir", str(mnist_dir)]) == 0, \
        f"the suggested train command was refused: {capsys.readouterr().err.strip()}"
    assert (run / "generator.keras").is_file()


@pytest.mark.parametrize("command", ["gan_tf.semi_supervised_table", "gan_tf.wasserstein_curves"])
def test_a_report_given_no_run_folder_does_not_suggest_resuming(command, tmp_path, capsys):
    """A report command given a path the train command never wrote (a shell glob that
    caught a run's .log file) said "nothing to resume ... without --resume, or
    --overwrite instead of --resume", flags the report does not take; it says the
    path is not a run."""
    import importlib
    main = importlib.import_module(command).main
    log = tmp_path / "labels-100-seed-1.log"
    log.write_text("Iter: 600\n")
    assert main([str(log), "--out", str(tmp_path / "out")]) == 2
    line = one_line_error(capsys, str(log))
    assert re.search(r"is not a (trained )?run", line), line
    assert "--resume" not in line and "--overwrite" not in line
    assert not (tmp_path / "out").exists()
