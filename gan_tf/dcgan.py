"""`python -m gan_tf.dcgan`: parses its flags and calls studies/reports/dcgan.py, whose
docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import DCGAN, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.dcgan", library="gan_tf.studies.reports.dcgan")
    cli.add_study_arguments(p, "outputs/mnist-dcgan-seeds", study_dir(DCGAN),
                            "experiments/mnist_dcgan.py", "the tables into docs/dcgan.md's "
                                                          "section")
    p.add_argument("--headline", default="ema", help="the generator the targets are "
                   "checked on and --docs keeps: final, ema or best (default: ema)")
    p.add_argument("--ablation", action="append", default=[],
                   help="a sweep of the same recipe with one flag changed, compared seed "
                        "by seed at its last iteration (repeatable)")
    p.add_argument("--reference", help="a run or sweep of the first recipe (the DCGAN "
                   "guidelines' networks): its curve drawn beside, and the ablations "
                   "made on it paired with it")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.dcgan import dcgan_study
    return dcgan_study(args.run, args.out, args.docs, args.keep_seed,
                       args.ablation, args.headline, args.reference)


if __name__ == "__main__":
    sys.exit(main())
