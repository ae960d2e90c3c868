"""Command line: `python -m gan_tf.train [--experiment NAME] [--FIELD VALUE ...]`.

Parses flags into a Config and calls train_lib.train(config, run_dir). Every Config
field is a flag (`--batch-size 64`, `--no-xla`); see --help.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import signal
import sys

from gan_tf.config import Config, field_help, load_experiment, override, experiment_names
from gan_tf.errors import TrainingDiverged, UserError


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, not argparse's usage dump
        self.exit(2, f"error: {message} (see --help)\n")


def _sizes(text: str) -> tuple:
    """'256,128' -> (256, 128)."""
    try:
        return tuple(int(v) for v in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected layer sizes like 256,128, got "
                                         f"{text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="python -m gan_tf.train", description=(
        "Train the TensorFlow tutorial's vanilla GAN on MNIST. Without --run-dir the run "
        "goes to outputs/ (or outputs/NAME with --experiment NAME). MNIST is read from "
        "--data-dir, $GAN_TF_DATA_DIR, data/mnist/ or ../shared/data/mnist/ (the four "
        "IDX .gz files), else downloaded once into ~/.cache/gan-tf/ (README: Data)."),
        argument_default=argparse.SUPPRESS)
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
                   "one program (README: Seed sweeps)")
    p.add_argument("--sequential", action="store_true", help="with --seeds: train the "
                   "seeds one after another instead of as one stack")
    defaults = Config()
    for f in dataclasses.fields(Config):
        flag = "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        help_text = f"{field_help()[f.name]} (default: {default})"
        if isinstance(default, bool):
            p.add_argument(flag, dest=f.name, action=argparse.BooleanOptionalAction,
                           help=help_text)
        elif isinstance(default, tuple):
            p.add_argument(flag, dest=f.name, type=_sizes, help=help_text)
        else:
            p.add_argument(flag, dest=f.name, type=type(default), help=help_text)
    return p


def default_run_dir(experiment: str | None, dataset: str | None) -> str:
    """outputs/EXPERIMENT (the bare command: outputs/, as the tutorial wrote to out/);
    a Fashion-MNIST run gets its own folder, never the MNIST run's."""
    if dataset == "fashion_mnist":
        return f"outputs/{experiment or 'vanilla'}-fashion-mnist"
    return f"outputs/{experiment}" if experiment else "outputs"


def main(argv=None) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TF's C++ start-up chatter
    args = vars(build_parser().parse_args(argv))
    experiment = args.pop("experiment", None)
    seeds = args.pop("seeds", None)
    sequential = args.pop("sequential", False)
    run_dir = args.pop("run_dir", None) or (default_run_dir(experiment, args.get("dataset"))
                                            + ("-seeds" if seeds is not None else ""))
    data_dir = args.pop("data_dir", None)
    resume = args.pop("resume", False)
    overwrite = args.pop("overwrite", False)
    try:
        from gan_tf import train_lib  # after parsing: --help and flag errors stay instant
        if resume and overwrite:
            raise UserError("--resume and --overwrite contradict each other; pick one")
        if sequential and seeds is None:
            raise UserError("--sequential is for a seed sweep; add --seeds N")
        if seeds is not None or (resume and _is_sweep(run_dir)):
            return _sweep(experiment, args, run_dir, seeds, sequential, resume, overwrite,
                          data_dir)
        if resume:
            cfg = train_lib.resume_config(run_dir, args)
        else:
            cfg = override(load_experiment(experiment) if experiment else Config(), args)
        summary = train_lib.train(cfg, run_dir, resume=resume, overwrite=overwrite,
                                  data_dir=data_dir)
    except UserError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except TrainingDiverged as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        # Before training (imports, data) nothing is written yet; a second Ctrl-C
        # during training stops at once, and every file is whole (atomic writes).
        print(f"error: interrupted; files in {run_dir}, if any, are whole (continue "
              f"with --resume if it has a checkpoint)", file=sys.stderr)
        return 128 + signal.SIGINT
    if "signal" in summary:
        return 128 + summary["signal"]
    return 0


def _is_sweep(run_dir) -> bool:
    from gan_tf.sweep import is_sweep
    return is_sweep(run_dir)


def _sweep(experiment, args, run_dir, seeds, sequential, resume, overwrite, data_dir) -> int:
    """--seeds N: the sweep (errors are raised to main's handlers)."""
    from gan_tf import sweep
    if resume:
        cfg, saved = sweep.resume_config(run_dir, args)
        if seeds is not None and seeds != len(saved):
            raise UserError(f"{run_dir} is a sweep of {len(saved)} seeds, not {seeds}; "
                            f"leave out --seeds to resume it")
        seeds = saved
    else:
        cfg = override(load_experiment(experiment) if experiment else Config(), args)
        seeds = sweep.seeds_of(cfg, seeds)
    summary = sweep.train_sweep(cfg, seeds, run_dir, resume=resume, overwrite=overwrite,
                                sequential=True if sequential else None, data_dir=data_dir)
    if "signal" in summary:
        return 128 + summary["signal"]
    return 1 if summary["diverged"] else 0   # as a single run that diverged


if __name__ == "__main__":
    sys.exit(main())
