"""Small experiments that explain GAN training dynamics (GAN paper Figure 1, the xy
game of Salimans et al. 2016, mode collapse on 2-D mixtures); their commands are
gan_tf/toys/NAME.py, `python -m gan_tf.toys.NAME`."""
