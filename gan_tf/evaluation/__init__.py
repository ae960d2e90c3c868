"""Measuring a trained generator: the measures (metrics), the committed classifiers
(classifier), a run's or a sweep's evaluation (evaluate), latent walks and
arithmetic (latent), a VAE's likelihood (likelihood), and the docs' result tables
(results)."""
