"""`python -m gan_tf.sample` (`gan-tf sample`): parses its flags and calls
evaluation/sampling.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.sample", library="gan_tf.evaluation.sampling")
    p.add_argument("model", help="a run folder, a generator file NAME.keras or an exported "
                                 "SavedModel folder")
    p.add_argument("--n", type=cli.count(1, 10_000), default=64,
                   help="how many images (default 64)")
    p.add_argument("--seed", type=cli.count(0, 2**31 - 1), default=0,
                   help="seed of the z draw (default 0): the same seed, the same images")
    p.add_argument("--out", required=True,
                   help="samples.png (a grid), DIR/ (one PNG per image) or x.npz")
    p.add_argument("--label", type=cli.count(0, 9), default=None,
                   help="the digit a conditional G draws (default: 0 to 9 in turn)")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.evaluation.sampling import sample
    sample(args.model, args.n, args.seed, args.out, args.label)
    return 0


if __name__ == "__main__":
    sys.exit(main())
