"""`python -m gan_tf.paper`: parses its flags and calls studies/paper.py, whose
docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import PAPER, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.paper", library="gan_tf.studies.paper")
    p.add_argument("run", nargs="?", default="outputs/mnist-paper-seeds",
                   help="an evaluated run or sweep of experiments/mnist_paper.py "
                        "(default: %(default)s)")
    p.add_argument("--out", default=study_dir(PAPER), help="output folder")
    p.add_argument("--docs", help="also copy the pictures and the generator there and put "
                                  "the table into its page's section")
    p.add_argument("--keep-seed", type=cli.count(0, 2**31 - 1), help="the seed whose generator --docs keeps "
                                                 "(default: the first)")
    p.add_argument("--variant", action="append", default=[],
                   help="an evaluated run of the same model with some flags changed: a row "
                        "of its own (repeatable)")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    args = p.parse_args(argv)
    from gan_tf.studies.paper import paper_study
    return cli.run(lambda: paper_study(args.run, args.out, args.docs, args.keep_seed,
                                       args.data_dir, args.variant))


if __name__ == "__main__":
    sys.exit(main())
