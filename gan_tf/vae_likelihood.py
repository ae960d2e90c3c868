"""`python -m gan_tf.vae_likelihood`: parses its flags and calls evaluation/likelihood.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.vae_likelihood", library="gan_tf.evaluation.likelihood")
    p.add_argument("run_dir", help="a finished VAE run folder (model 'vae')")
    p.add_argument("--k", type=cli.count(1, 100_000), default=1000,
                   help="importance samples per image (default 1000)")
    p.add_argument("--num-images", type=cli.count(1, 10_000), default=10_000,
                   help="test images, from the first (default all 10000)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0, help="seed of the samples (default 0)")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.likelihood import run_likelihood
    return run_likelihood(args.run_dir, args.k, args.num_images, args.seed,
                          args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
