"""Where things land under outputs/ by default: each experiment's run folder and each
study's folder, named once so that the commands that write them and the results
tables that read them agree."""

from __future__ import annotations

OUTPUTS = "outputs"
# Studies: their folder under outputs/, and the result file the docs' tables read.
SATURATION = "saturating-vs-nonsaturating"
GAUSSIAN_1D = "gaussian-1d"
MODE_COLLAPSE = "mode-collapse"
PACGAN_TABLE = "pacgan-table"
STACKED_MNIST = "stacked-mnist"
XY_GAME = "xy-game"
GAN_VS_VAE = "gan-vs-vae"
BENCH = "bench"
PAPER = "mnist-paper-study"
DCGAN = "mnist-dcgan-study"
WASSERSTEIN_CURVES = "wasserstein-curves"
INFO_CODES = "mnist-infogan-codes"
SEMI_SUPERVISED_TABLE = "semi-supervised-table"
STUDY_RESULTS = {"saturation": f"{SATURATION}/saturation.json",
                 "gaussian": f"{GAUSSIAN_1D}/metrics.json",
                 "modes": f"{MODE_COLLAPSE}/results.json"}


def default_run_dir(experiment: str | None, dataset: str | None) -> str:
    """outputs/EXPERIMENT (the bare command: outputs/, as the tutorial wrote to out/);
    a Fashion-MNIST run gets its own folder, never the MNIST run's."""
    if dataset == "fashion_mnist":
        return f"{OUTPUTS}/{experiment or 'vanilla'}-fashion-mnist"
    return f"{OUTPUTS}/{experiment}" if experiment else OUTPUTS


# The runs `python -m gan_tf.gan_vs_vae` compares by default (its --help shows them).
GAN_VS_VAE_RUNS = tuple(default_run_dir(name, None) for name in
                        ("mnist-vae", "mnist-vae-z20", "mnist-basic", "mnist-dcgan"))


def study_dir(name: str) -> str:
    return f"{OUTPUTS}/{name}"
