"""The models, as Keras models and pure functions: G and D of every experiment
(networks), the losses of logits (losses), the VAE's encoder and decoder (vae)."""
