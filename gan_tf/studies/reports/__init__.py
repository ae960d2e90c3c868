"""Reports on gan-tf's own runs: gan_vs_vae, saturation, dcgan (the DCGAN's quality
curves, generators and ablations)."""
