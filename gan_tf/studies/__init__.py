"""Studies built on the layers below, by kind:

  reports/       what gan-tf's own runs show: GAN versus VAE, the saturating G loss,
                 the DCGAN's quality curves
  benchmarks/    speed, side by side: the training loops, the DCGAN, its profile, and
                 the baselines they are measured against
  replications/  a paper's experiment re-run by its protocol, one folder each where it
                 has code of its own: the GAN paper's Table 1 (paper.py), the PacGAN
                 paper's Tables 1 and 2 (pacgan/)
  toys/          the tutorials' toy experiments on 1-D and 2-D data
A study imports no other study's module, except inside its own folder.
"""
