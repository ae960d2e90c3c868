"""`python -m gan_tf.evaluate`: parses its flags and calls evaluation/evaluate.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.evaluate", library="gan_tf.evaluation.evaluate")
    p.add_argument("run_dir", nargs="+",
                   help="a finished run folder (holds generator.keras), a seed sweep's "
                        "folder (every seed, then mean ± std), or a generator file "
                        "NAME.keras; several are evaluated one after another")
    p.add_argument("--ensemble", action="store_true",
                   help="semi-supervised runs only: also the test errors of their "
                        "classifiers as one ensemble (mean of their probabilities)")
    p.add_argument("--num-samples", type=cli.count(100, 100_000), default=10_000,
                   help="samples to draw (default 10000, the protocol's size)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0, help="seed of the samples' z (default 0)")
    p.add_argument("--data-dir", help="folder with the four IDX .gz files of the run's "
                                      "dataset (MNIST or Fashion-MNIST)")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.evaluate import evaluate_folders
    return evaluate_folders(args.run_dir, args.num_samples, args.seed, args.data_dir,
                            ensemble_too=args.ensemble)


if __name__ == "__main__":
    sys.exit(main())
