"""`python -m gan_tf.gan_vs_vae`: parses its flags and calls studies/reports/gan_vs_vae.py,
whose docstring is this command's --help."""

from __future__ import annotations

import sys

from gan_tf.core import cli
from gan_tf.runs.outputs import GAN_VS_VAE, GAN_VS_VAE_RUNS, study_dir


def main(argv=None) -> int:
    p = cli.Parser("gan_tf.gan_vs_vae", library="gan_tf.studies.reports.gan_vs_vae")
    p.add_argument("runs", nargs="*", default=list(GAN_VS_VAE_RUNS),
                   help="evaluated run folders, VAEs and GANs (default: %(default)s)")
    p.add_argument("--out", default=study_dir(GAN_VS_VAE), help="output folder")
    p.add_argument("--docs", help="also copy the pictures here as gan-vs-vae-NAME.png "
                                  "and put the table into its page's section")
    p.add_argument("--data-dir", help="folder with the four MNIST IDX .gz files")
    args = p.parse_args(argv)
    return cli.run(lambda: _work(args))


def _work(args):
    # lazy: imported after parsing, so --help answers without TensorFlow
    from gan_tf.studies.reports.gan_vs_vae import compare
    return compare(args.runs, args.out, args.docs, args.data_dir)


if __name__ == "__main__":
    sys.exit(main())
