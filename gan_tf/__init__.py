"""gan-tf: the classic GAN tutorials on MNIST, reproduced faithfully in TensorFlow 2.

Layout: `config` (the one frozen Config), `data` (MNIST loading and checks),
`networks` (G and D), `losses` (pure loss functions), `loop` (the compiled training
loop), `snapshots` (frames, GIF, plots), `runs` (run folders, checkpoints, stats),
`train_lib` (a whole training run), `train` (the command line).
"""

__version__ = "0.1.0"
