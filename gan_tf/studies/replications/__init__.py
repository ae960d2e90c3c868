"""Papers' experiments re-run by their protocols: paper (the GAN paper's Table 1),
pacgan/ (the PacGAN paper's Tables 1 and 2), and tables (what the re-run tables
share: --runs, results.json)."""
