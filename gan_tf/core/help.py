"""The train flags' one-line helps: the run options' (this table), then every family's
parameters' (their dataclass fields' `help`)."""

from __future__ import annotations

import dataclasses

from gan_tf.core.config import Config, param_fields
from gan_tf.core.params import FAMILY_PARAMS


def help_table(text: str) -> dict:
    """A table of 'name  help...' entries, continuation lines indented, as a dict of
    one-line helps."""
    out, name = {}, None
    for line in text.strip("\n").splitlines():
        if line[:1] != " ":
            name, _, line = line.partition(" ")
            out[name] = ""
        out[name] = (out[name] + " " + line.strip()).strip()
    return out


RUN_HELP = help_table("""
family            the model family, each a file of gan_tf/families/ with parameters
                  of its own (the flags after the run's): 'mlp' (the tutorials' MLP
                  GAN, or their cGAN), 'dcgan', 'dcgan_tutorial' (TensorFlow's DCGAN
                  tutorial), 'maxout' (the GAN paper's MNIST model), 'pacgan' (the
                  MLP GAN with a packed D), 'lsgan' (least squares), 'wgan' and
                  'wgan_dcgan' (the Wasserstein critic, clipped or
                  gradient-penalised, on the MLP or the DCGAN), 'acgan' (the
                  auxiliary classifier GAN), 'infogan' (InfoGAN's codes),
                  'semi_supervised' (Salimans et al.'s K+1-class D), 'srgan' (4x
                  super-resolution of 7x7 digits), 'cyclegan' (unpaired translation
                  to rotated, inverted digits), 'vae' (Kingma & Welling's VAE)
params            the family's parameters (its Params dataclass); None: its defaults
dataset           training data: 'mnist' or 'fashion_mnist' (same format, 10 classes
                  of clothing)
z_dim             size of the generator's noise vector z
split             training images: 'tutorial' (the first 55,000, the last 5,000 for
                  validation), 'paper' (the first 50,000, the last 10,000 for
                  validation, as the GAN paper) or 'all' (all 60,000, no validation
                  set, as Salimans et al.'s semi-supervised GAN)
iters             training iterations (one D step, then one G step, each)
batch_size        minibatch size
seed              seed of every random stream: init, z, data order, sample noise
xla               compile the training loop with XLA (jit_compile); much faster
precision         'float32' (the tutorials') or 'mixed_bfloat16' (Keras' mixed
                  policy: bfloat16 matmuls and convolutions, float32 weights,
                  optimizer state and losses; fast on CPUs with bfloat16 units, e.g.
                  AMX)
tf32              let NVIDIA GPUs (Ampere and later) compute float32 matmuls and
                  convolutions in TensorFloat-32 (10-bit mantissas: faster, less
                  exact); off, float32 is float32 there too. No effect on a CPU
strategy          tf.distribute strategy: 'default' (one device), 'mirrored' (all
                  local GPUs, or --devices) or 'multiworker' (processes/machines
                  from TF_CONFIG)
devices           for strategy 'mirrored': comma-separated devices, e.g.
                  /gpu:0,/gpu:1 (default: all local GPUs)
snapshot_every    iterations between sample frames, 'Iter:' lines and checkpoints
log_every         iterations between stats.jsonl records (divides snapshot_every);
                  also how often a stop request is noticed
fresh_sample_noise draw new z for every frame, as the tutorial did, instead of 16
                  fixed z for the whole run
gif_fps           frames per second of training.gif
tensorboard       also write losses and frames as TensorBoard events
parzen_every      iterations between quick Parzen estimates during training (2,000
                  samples, sigma chosen on 500 validation images, reported on 500
                  others) into stats.jsonl and parzen.png; a multiple of log_every;
                  0: none
eval_every        iterations between quality measures during training (the
                  classifier's score, Frechet distance to the validation images,
                  confident share and class KL, of 5,000 samples) into stats.jsonl,
                  quality.png and TensorBoard; the best G by that distance is saved
                  as generator-best.keras (the semi-supervised GAN: the test errors
                  of its classifier and of D); a multiple of log_every; 0: none
""")


def _owners(owners: list) -> str:
    """'[acgan, dcgan] ' for a parameter of a few families; none for one of them all."""
    rest = sorted(set(FAMILY_PARAMS) - set(owners))
    if not rest:
        return ""
    if len(rest) < len(owners):
        return f"[all but {', '.join(rest)}] "
    return f"[{', '.join(owners)}] "


def field_help() -> dict:
    """Every flag's help: Config's run options, then every family's parameters (a name
    that several families share is one flag)."""
    out = {f.name: RUN_HELP[f.name] for f in dataclasses.fields(Config)
           if f.name != "params"}
    for name, fields in param_fields().items():
        owners = sorted(fields)
        out[name] = _owners(owners) + fields[owners[0]].metadata.get("help", "")
    return out
