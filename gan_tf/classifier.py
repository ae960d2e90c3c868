"""`python -m gan_tf.classifier`: parses its flags and calls evaluation/classifier.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.core.config import DATASETS


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.classifier", library="gan_tf.evaluation.classifier")
    p.add_argument("--dataset", default="mnist", choices=sorted(DATASETS),
                   help="which dataset's classifier (default mnist)")
    p.add_argument("--data-dir", help="folder with the dataset's four IDX .gz files")
    p.add_argument("--epochs", type=cli.count(1, 1000), default=6, help="training epochs (default 6)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0, help="seed (default 0)")
    p.add_argument("--out", help="where to save (default gan_tf/assets/DATASET_classifier"
                                 ".keras)")
    p.add_argument("--overwrite", action="store_true", help="replace existing weights")
    args = p.parse_args(argv)
    command = " ".join(["python -m gan_tf.classifier", *(argv or sys.argv[1:])])
    return cli.run(lambda: _work(args, command))


def _work(args, command):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.classifier import make_classifier
    return make_classifier(args.dataset, args.data_dir, args.epochs, args.seed, args.out,
                           args.overwrite, command)


if __name__ == "__main__":
    sys.exit(main())
