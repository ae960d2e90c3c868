"""`python -m gan_tf.toys.xy_game`: parses its flags and calls studies/toys/xy_game.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import XY_GAME, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.toys.xy_game", library="gan_tf.studies.toys.xy_game")
    p.add_argument("--eta", type=cli.real(0, 10), default=0.1, help="SGD step size (default 0.1)")
    p.add_argument("--steps", type=cli.count(1, 10**6), default=200, help="updates (default 200)")
    p.add_argument("--run-dir", default=study_dir(XY_GAME), help="output folder")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.toys.xy_game import xy_study
    return xy_study(args.run_dir, args.eta, args.steps)


if __name__ == "__main__":
    sys.exit(main())
