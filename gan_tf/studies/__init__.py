"""Studies built on the layers below: GAN versus VAE (gan_vs_vae), the saturating G
loss (saturation), the speed benchmark and its baselines (bench, baselines), and the
toy experiments (toys/)."""
