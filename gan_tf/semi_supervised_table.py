"""`python -m gan_tf.semi_supervised_table`: parses its flags and calls
studies/reports/semi_supervised_table.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import SEMI_SUPERVISED_TABLE, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.semi_supervised_table",
                   library="gan_tf.studies.reports.semi_supervised_table")
    p.add_argument("runs", nargs="+", help="semi-supervised GAN run folders trained with "
                                           "--eval-every")
    p.add_argument("--out", default=study_dir(SEMI_SUPERVISED_TABLE), help="output folder")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.semi_supervised_table import study
    return study(args.runs, args.out)


if __name__ == "__main__":
    sys.exit(main())
