"""`python -m gan_tf.toys.mode_collapse`: parses its flags and calls studies/toys/mode_collapse.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import MODE_COLLAPSE, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.toys.mode_collapse", library="gan_tf.studies.toys.mode_collapse")
    p.add_argument("--iters", type=cli.count(1, 10**7), default=20000, help="iterations per run (20000)")
    p.add_argument("--seeds", type=cli.count(1, 100), default=5, help="seeds per method (default 5)")
    p.add_argument("--run-dir", default=study_dir(MODE_COLLAPSE))
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.toys.mode_collapse import mode_collapse_study
    return mode_collapse_study(args.run_dir, args.iters, args.seeds)


if __name__ == "__main__":
    sys.exit(main())
