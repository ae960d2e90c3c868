"""Salimans et al. 2016's semi-supervised GAN on MNIST with 100 labels (Table 1: 93 ±
6.5 test errors), as openai/improved-gan's train_mnist_feature_matching.py trains it
(families/semi_supervised.py cites each line): all 60,000 training images (T:97-98,
split 'all'), batches of 100 (T:17), z of 100 (T:29), Adam lr 0.003 and beta1 0.5
(T:122, N:26), 300 epochs of 600 batches (T:123, T:139). Every epoch, as the authors'
loop: a snapshot and checkpoint, one stats record, and the test errors of the
averaged D and of D itself (T:150-154; eval_every)."""

from gan_tf.core.config import Config

EPOCH = 600     # 60,000 images / batches of 100 (T:104)


def get_config() -> Config:
    return Config.of(family="semi_supervised", split="all", batch_size=100, z_dim=100,
                     lr=0.003, beta1=0.5, beta2=0.999, iters=300 * EPOCH,
                     snapshot_every=EPOCH, log_every=EPOCH, eval_every=EPOCH)
