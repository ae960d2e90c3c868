"""gan-tf: the classic GAN tutorials on MNIST, reproduced faithfully in TensorFlow 2.

Every module directly in this folder (and in toys/) is a command, `python -m
gan_tf.NAME`, that only parses its arguments and calls its library function. The
library is in layers; each imports only from the layers above it in this list
(tests/test_layering.py keeps it so):

    core/        the Config, the errors, the commands' shared scaffold
    data/        MNIST and Fashion-MNIST: IDX files, checksums, download
    models/      network blocks, layers, losses, packing, the VAE's models
    families/    the model families, one file each behind one seam (base.py)
    runs/        the run folder and the sweep folder, what a run writes, atomic
                 files, pictures
    training/    the compiled loop, the seed stack, tf.distribute, one run, sweeps
    evaluation/  the measures, the classifier, evaluate, latent, likelihood, results
    studies/     by kind: reports/, benchmarks/, replications/ (one folder a paper
                 where it has code of its own), toys/
"""

__version__ = "0.1.0"

# The families package names every model family to the Config (core/config.py); a
# family's own module, and TensorFlow with it, is imported when it is first needed.
from gan_tf import families as _families  # noqa: E402,F401
