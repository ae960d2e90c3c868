"""`python -m gan_tf.toys.pacgan_table`: parses its flags and calls
studies/replications/pacgan/pacgan_table.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import PACGAN_TABLE, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.toys.pacgan_table", library="gan_tf.studies.replications.pacgan.pacgan_table")
    p.add_argument("--epochs", type=cli.count(1, 4000), default=400,
                   help="epochs of 1,000 iterations per run (the paper's 400; at most 4000)")
    p.add_argument("--runs", help="comma-separated MIXTURE/METHOD, MIXTURE grid or ring, "
                   "METHOD gan, pacgan2, pacgan3, pacgan4, minibatch or unrolled5 "
                   "(default: all twelve)")
    cli.add_table_arguments(p, study_dir(PACGAN_TABLE), "pacgan")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args), "results.json keeps every run that finished")


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.replications.pacgan.pacgan_table import RUNS, pacgan_table, parse_runs
    keys = parse_runs(args.runs) if args.runs is not None else RUNS
    return pacgan_table(args.run_dir, keys, args.epochs, args.trials, args.docs,
                        args.report)


if __name__ == "__main__":
    sys.exit(main())
