"""Command line: `python -m gan_tf.train [--experiment NAME] [--FIELD VALUE ...]`.

Parses flags and hands them to training.launch.launch(), which trains a run (or a
seed sweep) through training.run.train(config, run_dir). Every Config field is a
flag (`--batch-size 64`, `--no-xla`), and so is every family's parameter
(`--family dcgan --conv-width 32`); see --help.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys

from gan_tf.core import cli
from gan_tf.core.config import Config, param_fields
from gan_tf.core.experiments import experiment_names
from gan_tf.core.help import field_help
from gan_tf.runs.outputs import default_run_dir


def _sizes(text: str) -> tuple:
    """'256,128' -> (256, 128)."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 256,128, got "
                                         f"{text!r}") from None


def _fractions(text: str) -> tuple:
    """'0.8,0.5,0.5' -> (0.8, 0.5, 0.5); '' -> () (none)."""
    try:
        return tuple(float(v) for v in text.split(",")) if text.strip() else ()
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected probabilities like 0.8,0.5,0.5, got "
                                         f"{text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = cli.Parser("gan_tf.train", description=(
        "Train the TensorFlow tutorial's vanilla GAN on MNIST. Without --run-dir the run "
        "goes to outputs/ (or outputs/NAME with --experiment NAME). MNIST is read from "
        "--data-dir, $GAN_TF_DATA_DIR, data/mnist/ or ../shared/data/mnist/ (the four "
        "IDX .gz files), else downloaded once into ~/.cache/gan-tf/ (docs/data.md)."),
        argument_default=argparse.SUPPRESS, formatter_class=argparse.HelpFormatter)
    p.add_argument("--experiment", help="start from experiments/NAME.py "
                   f"({', '.join(experiment_names())}); default: the defaults below")
    p.add_argument("--run-dir", help="run folder for every output (default: outputs, or "
                   "outputs/NAME with --experiment)")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    p.add_argument("--resume", action="store_true", help="continue the run in --run-dir "
                   "from its last checkpoint (only --iters may change)")
    p.add_argument("--overwrite", action="store_true", help="replace the run already in "
                   "--run-dir instead of refusing")
    p.add_argument("--seeds", type=int, help="train N seeds (--seed, --seed + 1, ...) of "
                   "this config as a sweep: one run folder per seed under --run-dir "
                   "(default outputs/NAME-seeds); the MLP GANs train all seeds at once as "
                   "one program (docs/sweeps.md)")
    p.add_argument("--sequential", action="store_true", help="with --seeds: train the "
                   "seeds one after another instead of as one stack")
    defaults = Config()
    flags = [(f.name, getattr(defaults, f.name), f"(default: {getattr(defaults, f.name)})")
             for f in dataclasses.fields(Config) if f.name != "params"]
    # Then every family's parameters; a name several families share is one flag.
    for name, owners in param_fields().items():
        family, f = next(iter(owners.items()))
        flags.append((name, f.default, "(default: the family's)"))
    for name, default, default_text in flags:
        flag = "--" + name.replace("_", "-")
        help_text = f"{field_help()[name]} {default_text}"
        if isinstance(default, bool):
            p.add_argument(flag, dest=name, action=argparse.BooleanOptionalAction,
                           help=help_text)
        elif isinstance(default, tuple):
            p.add_argument(flag, dest=name, type=_fractions if name == "d_keep" else _sizes,
                           help=help_text)
        else:
            p.add_argument(flag, dest=name, type=type(default), help=help_text)
    # The flags that chose the model before the families (saved commands still work).
    p.add_argument("--arch", help=argparse.SUPPRESS)
    p.add_argument("--model", help=argparse.SUPPRESS)
    return p


def main(argv=None) -> int:
    # The parser lists every family's flags, so it imports the families, and TensorFlow
    # with them (about 4 s): its start-up chatter off first, and a Ctrl-C meanwhile
    # answered in one line, as later.
    cli.quiet_start()
    try:
        parser = build_parser()
    except KeyboardInterrupt:
        return cli.interrupted_exit("nothing was written")
    args = vars(parser.parse_args(argv))
    experiment = args.pop("experiment", None)
    seeds = args.pop("seeds", None)
    run_dir = args.pop("run_dir", None) or (default_run_dir(experiment, args.get("dataset"))
                                            + ("-seeds" if seeds is not None else ""))
    options = dict(seeds=seeds, sequential=args.pop("sequential", False),
                   resume=args.pop("resume", False), overwrite=args.pop("overwrite", False),
                   data_dir=args.pop("data_dir", None))
    # What is left are Config fields. A second Ctrl-C during training stops at once;
    # before training (imports, data) nothing is written yet.
    return cli.run(lambda: _launch(experiment, args, run_dir, options),
                   interrupted=f"files in {run_dir}, if any, are whole (continue with "
                               f"--resume if it has a checkpoint)")


def _launch(experiment, changes, run_dir, options):
    # lazy: imported after parsing, so --help waits only for the families' TensorFlow,
    # not also for the training stack and the evaluation's measures
    from gan_tf.evaluation.tracking import tracker
    from gan_tf.training.launch import launch
    return launch(experiment, changes, run_dir, measure=tracker, **options)


if __name__ == "__main__":
    sys.exit(main())
