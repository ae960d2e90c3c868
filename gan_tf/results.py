"""`python -m gan_tf.results`: parses its flags and calls evaluation/results.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.results", library="gan_tf.evaluation.results")
    p.add_argument("runs", nargs="*", help="run or sweep folders (default: every "
                                           "outputs/**/metrics.json)")
    p.add_argument("--docs", default="docs", help="the docs folder whose pages hold the "
                                                  "tables (default docs)")
    p.add_argument("--print", action="store_true", help="print the table, change nothing")
    p.add_argument("--outputs", default="outputs", help="where the runs are (default outputs)")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.results import publish
    return publish(args.runs, args.docs, args.outputs, args.print)


if __name__ == "__main__":
    sys.exit(main())
