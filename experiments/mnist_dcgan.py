"""The DCGAN of mnist-dcgan-10-epochs (Radford et al.'s guidelines and training recipe
at MNIST size: Adam 2e-4, beta1 0.5, batch 128, N(0, 0.02) weights, batch norm), with
what the measured ablations support (docs/dcgan.md):
  * a fully connected layer of 1,024 units in both nets (dcgan_fc), as InfoGAN's
    MNIST networks (Chen et al. 2016, appendix C.1): G z -> 1024 -> 7x7x128 -> 14x14x64 -> 28x28, D 28x28 -> 14x14x64 ->
    7x7x128 -> 1024 -> 1. On seed 0 it reached in 860 iterations the validation
    Frechet distance the guidelines' nets reached after 6,450 (22.4 against 24.0),
    where those had flattened;
  * an exponential moving average of G's weights (decay 0.999, Yazici et al. 2019)
    draws the frames and is saved as generator-ema.keras beside the raw G,
  * the quality curve every half epoch (eval_every: score and Frechet distance of
    5,000 samples to the validation images) keeps the best G as generator-best.keras,
  * bfloat16 compute (Keras' mixed_bfloat16: float32 weights, optimizer state and
    losses), for the bfloat16 units of the CPUs it was measured on: 1.63x the
    float32 loop on a 2-core AMD EPYC with AVX512_BF16 (5.45 against 3.35 it/s), 1.47x
    on an AMX host (docs/speed.md). On a CPU without them (AVX2 only) bfloat16 is
    the slower one (1.66 against 2.05 it/s): train then prints a note and
    --precision float32 is the faster choice,
  * 16 epochs (6,880 iterations, about 25 min a seed on the AVX512_BF16 host): the 6
    epochs of the first three seeds ended with every quality curve still falling
    about 12% per half epoch (docs/dcgan.md).
"""

from gan_tf.core.config import Config, override

from gan_tf.core.experiments import load_experiment

ITERS_PER_EPOCH = 430   # ceil(55,000 / 128)
EPOCHS = 16


def get_config() -> Config:
    return override(load_experiment("mnist-dcgan-10-epochs"), dict(
        dcgan_fc=1024, iters=EPOCHS * ITERS_PER_EPOCH, g_ema=0.999,
        eval_every=ITERS_PER_EPOCH // 2, precision="mixed_bfloat16"))
