"""`python -m gan_tf.saturation`: parses its flags and calls studies/reports/saturation.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import SATURATION, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.saturation", library="gan_tf.studies.reports.saturation")
    p.add_argument("--iters", type=cli.count(1, 10**7), default=5000, help="iterations per run (5000)")
    p.add_argument("--seeds", type=cli.count(1, 100), default=5, help="seeds per G loss, trained at "
                                                        "once as one stack (default 5)")
    p.add_argument("--run-dir", default=study_dir(SATURATION))
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    p.add_argument("--overwrite", action="store_true", help="replace earlier runs")
    p.add_argument("--ahead-steps", type=cli.count(0, 10**6), default=2000,
                   help="steps of D alone against a fixed G for the critic-ahead part, a "
                        "multiple of 50 (default 2000; 0: skip it)")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.saturation import saturation_study
    return saturation_study(args.run_dir, args.iters, args.seeds,
                            args.data_dir, args.overwrite, args.ahead_steps)


if __name__ == "__main__":
    sys.exit(main())
