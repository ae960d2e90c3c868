"""Salimans et al. 2016's semi-supervised GAN on MNIST with 100 labels (Table 1: 93 ±
6.5 test errors), as openai/improved-gan's train_mnist_feature_matching.py trains it
(families/semi_supervised.py cites each line): batches of 100 (T:17), z of 100
(T:29), Adam lr 0.003 and beta1 0.5 (T:122, N:26), 300 epochs of 600 batches
(T:123). A snapshot every epoch of its 55,000 images."""

from gan_tf.core.config import Config


def get_config() -> Config:
    return Config.of(family="semi_supervised", batch_size=100, z_dim=100, lr=0.003,
                  beta1=0.5, beta2=0.999, iters=300 * 600, snapshot_every=550,
                  log_every=550)
