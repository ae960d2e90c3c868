"""The PacGAN paper (Lin et al. 2018), re-run from its authors' code (fjxmlzn/PacGAN):
  protocol.py       its 2-D experiments' protocol: the mixtures, the packed D, the
                    remedies it is compared with (minibatch discrimination, unrolling)
  pacgan_table.py   its Table 1 from that protocol (python -m gan_tf.toys.pacgan_table)
  stacked_dcgan.py  its Stacked MNIST DCGAN, packed, and its data
  stacked_mnist.py  its Table 2 from that DCGAN (python -m gan_tf.stacked_mnist)
Packing is models/packing.pack; the mode measures are evaluation/modes.py's.
"""
