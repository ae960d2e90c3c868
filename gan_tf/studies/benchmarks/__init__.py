"""Speed, side by side: bench (the MLP GANs' loops), bench_dcgan, profile_dcgan, and
baselines (the TF1-style and PyTorch loops, FLOP counts, matmul ceilings)."""
