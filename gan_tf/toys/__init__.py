"""The toy experiments' commands, `python -m gan_tf.toys.NAME`; each experiment
itself is gan_tf/studies/toys/NAME.py."""
