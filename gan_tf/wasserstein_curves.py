"""`python -m gan_tf.wasserstein_curves`: parses its flags and calls
studies/reports/wasserstein_curves.py, whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import WASSERSTEIN_CURVES, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.wasserstein_curves",
                   library="gan_tf.studies.reports.wasserstein_curves")
    p.add_argument("runs", nargs="*", help="runs or sweeps trained with the quality curve "
                   "(default: mnist-wgan, mnist-wgan-dcgan, mnist-wgan-gp and "
                   "mnist-wgan-gp-dcgan's, and "
                   "mnist-dcgan's seeds)")
    p.add_argument("--out", default=study_dir(WASSERSTEIN_CURVES), help="output folder")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.wasserstein_curves import study
    return study(args.runs, args.out)


if __name__ == "__main__":
    sys.exit(main())
