"""`python -m gan_tf.stacked_mnist`: parses its flags and calls
studies/replications/pacgan/stacked_mnist.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import STACKED_MNIST, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.stacked_mnist", library="gan_tf.studies.replications.pacgan.stacked_mnist")
    p.add_argument("--runs", default="dcgan,pacdcgan2",
                   help="comma-separated: dcgan, pacdcgan2, pacdcgan3, pacdcgan4")
    p.add_argument("--iters", type=cli.count(1, 1_000_000), default=100_000,
                   help="iterations per trial (the paper's 50 epochs of 2,000)")
    p.add_argument("--eval-every", type=cli.count(1, 1_000_000), default=2000,
                   help="measure modes and KL every N iterations (the paper: each epoch)")
    p.add_argument("--precision", default="float32", choices=("float32", "mixed_bfloat16"),
                   help="the convolutions' and matmuls' arithmetic (bfloat16: ~1.4x "
                        "faster on a CPU with bfloat16 units)")
    cli.add_table_arguments(p, study_dir(STACKED_MNIST), "stacked-mnist")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args), "results.json keeps every trial that finished")


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.replications.pacgan.stacked_mnist import parse_runs, stacked_mnist
    return stacked_mnist(args.run_dir, parse_runs(args.runs), args.trials, args.iters,
                         args.eval_every, args.precision, args.docs, args.report)


if __name__ == "__main__":
    sys.exit(main())
