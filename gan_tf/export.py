"""`python -m gan_tf.export` (`gan-tf export`): parses its flags and calls
evaluation/export.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.export", library="gan_tf.evaluation.export")
    p.add_argument("model", help="a run folder or a generator file NAME.keras")
    p.add_argument("--format", required=True, choices=("savedmodel", "tflite"),
                   help="savedmodel (a folder) or tflite (a NAME.tflite file)")
    p.add_argument("out", help="where: a new folder (savedmodel) or NAME.tflite")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.export import export
    export(args.model, args.format, args.out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
