"""`python -m gan_tf.info_codes`: parses its flags and calls
studies/reports/info_codes.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import INFO_CODES, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.info_codes", library="gan_tf.studies.reports.info_codes")
    p.add_argument("run", nargs="?", default="outputs/mnist-infogan-seeds",
                   help="a run or sweep of mnist-infogan (default: %(default)s)")
    p.add_argument("--out", default=study_dir(INFO_CODES), help="output folder")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.info_codes import study
    return study(args.run, args.out)


if __name__ == "__main__":
    sys.exit(main())
