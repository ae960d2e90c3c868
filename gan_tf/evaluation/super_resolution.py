"""How well a super-resolution G (families/srgan.py) upscales the test digits.

Each of the run split's test digits I_HR is reduced to 7x7 as in training
(models/super_resolution.downsample) and brought back to 28x28 by G and, as the
baseline, by bicubic interpolation. Each method's 28x28 images are measured
against the originals:
  psnr               10 log10(1 / MSE) per image in [0, 1], mean over images (dB);
                     what the paper's Table 2 reports first, and what the MSE
                     content alone maximises
  ssim               the structural similarity (Wang et al. 2004; tf.image.ssim,
                     11x11 Gaussian window), mean over images
  accuracy           the committed classifier's accuracy on the upscaled digits
                     against the test labels: is the digit still itself
  blur_length        evaluation/metrics.blur's typical wavelength (pixels), the
                     project's blur measure: the paper's complaint about MSE
                     solutions is that they are too smooth
  frechet_distance   between the classifier features of the upscaled digits and of
                     the originals: a perceptual distance in the spirit of the
                     paper's MOS test, which a small-data task has no raters for
The originals' own accuracy and blur sit beside them ('hr').
"""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from gan_tf.evaluation import metrics
from gan_tf.evaluation.classifier import predict
from gan_tf.models.super_resolution import downsample, upsample_bicubic, upsample_nearest
from gan_tf.runs.pictures import save_rows

METHODS = ("generator", "bicubic", "hr")
COLUMNS = (("psnr", "PSNR (dB)", "{:.2f}"), ("ssim", "SSIM", "{:.4f}"),
           ("accuracy", "classifier accuracy", "{:.4f}"),
           ("blur_length", "blur length (px)", "{:.4f}"),
           ("frechet_distance", "Frechet distance", "{:.3f}"))


def psnr(images: np.ndarray, reference: np.ndarray) -> float:
    """Mean over images of 10 log10(1 / mean squared error), both in [0, 1]; an image
    identical to its reference counts as 100 dB (its own would be infinite)."""
    err = ((np.asarray(images, np.float64) - np.asarray(reference, np.float64)) ** 2).mean(1)
    return float(np.mean(10.0 * np.log10(1.0 / np.maximum(err, 1e-10))))


def ssim(images: np.ndarray, reference: np.ndarray) -> float:
    """Mean SSIM (tf.image.ssim, max value 1, its 11x11 window of std 1.5)."""
    a = tf.reshape(tf.constant(images, tf.float32), [-1, 28, 28, 1])
    b = tf.reshape(tf.constant(reference, tf.float32), [-1, 28, 28, 1])
    return float(tf.reduce_mean(tf.image.ssim(a, b, max_val=1.0)).numpy())


def upscale(G, hr_unit: np.ndarray, batch: int = 1000) -> dict:
    """{'generator', 'bicubic', 'hr'}: images in [0, 1] from the originals in [0, 1]."""
    out = {"generator": [], "bicubic": []}
    for i in range(0, len(hr_unit), batch):
        lr = downsample(hr_unit[i:i + batch] * 2.0 - 1.0)
        out["generator"].append((G(lr, training=False).numpy() + 1.0) / 2.0)
        out["bicubic"].append((upsample_bicubic(lr).numpy() + 1.0) / 2.0)
    return {**{k: np.concatenate(v).astype(np.float32) for k, v in out.items()},
            "hr": hr_unit.astype(np.float32)}


def measure(G, test_images_u8: np.ndarray, test_labels: np.ndarray, classifier) -> dict:
    """Each method's measures on the test digits: {method: {measure: value}}."""
    hr = test_images_u8.astype(np.float32) / 255.0
    images = upscale(G, hr)
    probs, feats = {}, {}
    for name, x in images.items():
        probs[name], feats[name] = predict(classifier, x)
    hr_fit = metrics.gaussian_fit(feats["hr"])
    out = {}
    for name, x in images.items():
        row = {"accuracy": float((probs[name].argmax(1) == test_labels).mean()),
               "blur_length": metrics.blur(x)["blur_length"],
               "frechet_distance": (0.0 if name == "hr" else
                                    metrics.frechet_distance(*metrics.gaussian_fit(feats[name]),
                                                             *hr_fit))}
        if name != "hr":
            row.update(psnr=psnr(x, hr), ssim=ssim(x, hr))
        out[name] = row
    return out


def format_table(result: dict) -> str:
    lines = [f"{'':>22}" + "".join(f"{m:>12}" for m in METHODS)]
    for key, label, fmt in COLUMNS:
        cells = [fmt.format(result[m][key]) if key in result[m] else "-" for m in METHODS]
        lines.append(f"{label:>22}" + "".join(f"{c:>12}" for c in cells))
    return "\n".join(lines)


def format_spread(results: list[dict]) -> str:
    """Each method's measures as mean ± std (ddof 1) over runs."""
    lines = []
    for key, label, fmt in COLUMNS:
        cells = []
        for m in METHODS:
            if not all(key in r[m] for r in results):
                cells.append("-")
                continue
            v = np.array([r[m][key] for r in results], np.float64)
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            cells.append(f"{fmt.format(v.mean())} ± {fmt.format(sd)}")
        lines.append(f"{label:>22}" + "".join(f"{c:>22}" for c in cells))
    return f"{'':>22}" + "".join(f"{m:>22}" for m in METHODS) + "\n" + "\n".join(lines)


PICTURE = "upscaled.png"   # beside metrics.json


def write_picture(G, test_images_u8: np.ndarray, path, count: int = 8) -> None:
    """The first `count` test digits, one per row: the 7x7 input (as 4x4 blocks),
    bicubic, G's, the original."""
    hr = test_images_u8[:count].astype(np.float32) / 255.0
    images = upscale(G, hr)
    blocks = (upsample_nearest(downsample(hr * 2.0 - 1.0)).numpy() + 1.0) / 2.0
    rows = np.stack([blocks, images["bicubic"], images["generator"], images["hr"]], axis=1)
    save_rows(rows, path, column_titles=["7x7 input", "bicubic", "G", "original"])
