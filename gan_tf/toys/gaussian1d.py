"""`python -m gan_tf.toys.gaussian1d`: parses its flags and calls studies/toys/gaussian1d.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import GAUSSIAN_1D, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.toys.gaussian1d", library="gan_tf.studies.toys.gaussian1d")
    p.add_argument("--iters", type=cli.count(1, 10**7), default=15000, help="iterations (default 15000)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0)
    p.add_argument("--run-dir", default=study_dir(GAUSSIAN_1D))
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.toys.gaussian1d import gaussian_study
    return gaussian_study(args.run_dir, args.iters, args.seed)


if __name__ == "__main__":
    sys.exit(main())
