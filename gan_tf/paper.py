"""`python -m gan_tf.paper`: parses its flags and calls studies/replications/paper.py, whose
docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import PAPER, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.paper", library="gan_tf.studies.replications.paper")
    cli.add_study_arguments(p, "outputs/mnist-paper-seeds", study_dir(PAPER),
                            "experiments/mnist_paper.py", "the table into its page's section")
    p.add_argument("--variant", action="append", default=[],
                   help="an evaluated run of the same model with some flags changed: a row "
                        "of its own (repeatable)")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.replications.paper import paper_study
    return paper_study(args.run, args.out, args.docs, args.keep_seed,
                       args.data_dir, args.variant)


if __name__ == "__main__":
    sys.exit(main())
