"""Small experiments that explain GAN training dynamics (GAN paper Figure 1, the xy
game of Salimans et al. 2016, mode collapse on 2-D mixtures). Each module is one
experiment with its own `python -m gan_tf.toys.NAME` command."""
