"""`python -m gan_tf.latent`: parses its flags and calls evaluation/latent.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.latent", library="gan_tf.evaluation.latent")
    p.add_argument("run_dir", help="a finished run folder (holds generator.keras)")
    p.add_argument("--pairs", type=cli.count(1, 100), default=6, help="interpolation rows (default 6)")
    p.add_argument("--steps", type=cli.count(2, 100), default=10, help="images per row (default 10)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0, help="seed of the z draws (default 0)")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.latent import latent_study
    return latent_study(args.run_dir, args.pairs, args.steps, args.seed)


if __name__ == "__main__":
    sys.exit(main())
