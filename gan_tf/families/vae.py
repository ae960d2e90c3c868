"""Kingma & Welling's variational autoencoder (2014) at the tutorials' GAN scale: the
family the GANs are measured against (studies/reports/gan_vs_vae.py).

Encoder d_hidden (ReLU) -> (mu, logvar); decoder g_hidden (ReLU) -> 784 Bernoulli
logits; its saved generator maps the GAN's U(-1, 1) noise to N(0, I) first, so
frames, evaluate and latent use it as any G. The networks are models/vae.py's, its
step training/vae.py's (the trainer this family names). It trains on one device,
as an MLP with a sigmoid output, unconditional: the GAN-only options are refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from gan_tf.core.config import MlpParams, register_params
from gan_tf.families.base import Family


@register_params
@dataclass(frozen=True)
class Params(MlpParams):
    FAMILY = "vae"

    def problems(self, cfg) -> list:
        out = super().problems(cfg)
        # The VAE is the tutorials' MLP scale on one device; the GAN-only options
        # would be silently ignored, so they are refused.
        odd = {"g_output": "sigmoid", "strategy": "default", "d_steps": 1,
               "noise": "uniform", "update": "alternating", "d_loss_scale": 1.0,
               "parzen_every": 0, "eval_every": 0, "g_ema": 0.0, "real_label": 1.0,
               "d_lr": 0.0}
        bad = [f"{k}={getattr(cfg, k)!r}" for k, v in odd.items() if getattr(cfg, k) != v]
        if bad:
            out.append(f"family 'vae' needs the defaults of {', '.join(bad)} (an MLP with "
                       f"a sigmoid output, unconditional, one device)")
        return out


class Vae(Family):
    name, Params = "vae", Params
    trainer = "vae"

    def describe_loss(self, cfg) -> str:
        return f"a VAE with z_dim {cfg.z_dim}"


FAMILY = Vae()
