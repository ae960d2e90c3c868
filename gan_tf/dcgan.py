"""`python -m gan_tf.dcgan`: parses its flags and calls studies/dcgan.py, whose
docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import DCGAN, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.dcgan", library="gan_tf.studies.dcgan")
    p.add_argument("run", nargs="?", default="outputs/mnist-dcgan-seeds",
                   help="an evaluated sweep of experiments/mnist_dcgan.py "
                        "(default: %(default)s)")
    p.add_argument("--out", default=study_dir(DCGAN), help="output folder")
    p.add_argument("--docs", help="also copy the pictures and the generator there and put "
                                  "the tables into docs/dcgan.md's section")
    p.add_argument("--keep-seed", type=cli.count(0, 2**31 - 1), help="the seed whose generator --docs keeps "
                                                 "(default: the first)")
    p.add_argument("--headline", default="ema", help="the generator the targets are "
                   "checked on and --docs keeps: final, ema or best (default: ema)")
    p.add_argument("--ablation", action="append", default=[],
                   help="a sweep of the same recipe with one flag changed, compared seed "
                        "by seed at its last iteration (repeatable)")
    p.add_argument("--reference", help="a run or sweep of the first recipe (the DCGAN "
                   "guidelines' networks): its curve drawn beside, and the ablations "
                   "made on it paired with it")
    args = p.parse_args(argv)
    from gan_tf.studies.dcgan import dcgan_study
    return cli.run(lambda: dcgan_study(args.run, args.out, args.docs, args.keep_seed,
                                       args.ablation, args.headline, args.reference))


if __name__ == "__main__":
    sys.exit(main())
