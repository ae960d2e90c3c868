"""Sample-quality measures: small functions of arrays that return dicts of numbers.

Every measure takes images as float arrays (N, 784) in [0, 1] (or what the
classifier made of them) and is applied identically to generated and real images,
so each generated number has a real-data number beside it.

  mnist_score       exp(E_x KL(p(y|x) || p(y))) on the classifier (Inception score)
  frechet_distance  between Gaussian fits of classifier features (FID's recipe)
  mode_coverage     the classifier's class histogram of the samples
  parzen            Goodfellow et al. 2014's Parzen-window log-likelihood
  nearest_neighbours  the closest training images to given samples, in pixels
  blur              how blurred the images are: the length of their structure, and
                    the share of grey among their ink
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NUM_CLASSES = 10
PARZEN_SIGMAS = np.logspace(-1, 0, 10)


# --- classifier-based

def mnist_score(probs: np.ndarray) -> dict:
    """The Inception-score formula over the whole set at once (averaging it over
    small splits biases it down: p(y) of a small split is too peaked)."""
    p = np.clip(probs.astype(np.float64), 1e-12, 1.0)
    p_y = p.mean(axis=0, keepdims=True)
    kl = (p * (np.log(p) - np.log(p_y))).sum(axis=1)
    return {"mnist_score": float(np.exp(kl.mean()))}


def gaussian_fit(features: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    f = features.astype(np.float64)
    return f.mean(axis=0), np.cov(f, rowvar=False)


def frechet_distance(mu1, cov1, mu2, cov2) -> float:
    """|mu1 - mu2|^2 + tr(C1 + C2 - 2 (C1 C2)^(1/2)).

    tr((C1 C2)^(1/2)) is computed as the sum of sqrt-eigenvalues of the symmetric
    PSD matrix C1^(1/2) C2 C1^(1/2), which has the same eigenvalues as C1 C2: no
    complex square roots, no scipy.
    """
    w, v = np.linalg.eigh(cov1)
    root1 = (v * np.sqrt(np.clip(w, 0, None))) @ v.T
    cross = np.linalg.eigvalsh(root1 @ cov2 @ root1)
    tr_sqrt = np.sqrt(np.clip(cross, 0, None)).sum()
    return float(((mu1 - mu2) ** 2).sum() + np.trace(cov1) + np.trace(cov2) - 2 * tr_sqrt)


def mode_coverage(probs: np.ndarray, reference_labels: np.ndarray) -> dict:
    """Which digits the samples are, by the classifier: the histogram, how many
    digits get at least 1%, KL(sample classes || reference classes), and the share
    classified with confidence above 0.9."""
    pred = probs.argmax(axis=1)
    hist = np.bincount(pred, minlength=NUM_CLASSES) / len(pred)
    ref = np.bincount(reference_labels, minlength=NUM_CLASSES) / len(reference_labels)
    nz = hist > 0
    return {"class_histogram": [round(float(h), 4) for h in hist],
            "modes_covered": int((hist >= 0.01).sum()),
            "class_kl": float((hist[nz] * np.log(hist[nz] / ref[nz])).sum()),
            "confident_share": float((probs.max(axis=1) > 0.9).mean())}


# --- Parzen window (Goodfellow et al. 2014, Table 1)

def parzen_log_likelihood(centres: np.ndarray, x: np.ndarray, sigma: float,
                          batch: int = 500) -> np.ndarray:
    """log p(x) for each row of x under the mixture of N(centre, sigma^2 I):
    logmeanexp_j(-|x - c_j|^2 / 2 sigma^2) - d/2 log(2 pi sigma^2), stably, in batches."""
    return _parzen_many(centres, x, np.array([sigma]), batch)[:, 0]


def _parzen_many(centres, x, sigmas, batch=500) -> np.ndarray:
    """(len(x), len(sigmas)) log-likelihoods; distances computed once for all sigmas."""
    c = centres.astype(np.float64)
    c_sq = (c ** 2).sum(axis=1)
    d = c.shape[1]
    out = np.empty((len(x), len(sigmas)))
    for i in range(0, len(x), batch):
        xb = x[i:i + batch].astype(np.float64)
        sq = np.maximum((xb ** 2).sum(axis=1)[:, None] + c_sq[None, :] - 2 * xb @ c.T, 0)
        for k, s in enumerate(sigmas):
            a = -sq / (2 * s * s)
            m = a.max(axis=1, keepdims=True)
            lme = m[:, 0] + np.log(np.exp(a - m).mean(axis=1))
            out[i:i + batch, k] = lme - 0.5 * d * np.log(2 * np.pi * s * s)
    return out


def best_sigma(centres: np.ndarray, validation: np.ndarray, sigmas=PARZEN_SIGMAS) -> float:
    """The sigma of `sigmas` with the highest mean log-likelihood of the validation
    images (parzen_ll.py's cross_validate_sigma: argmax, the first of equals)."""
    val_ll = _parzen_many(centres, validation, np.asarray(sigmas)).mean(axis=0)
    return float(sigmas[int(np.argmax(val_ll))])


def parzen(centres: np.ndarray, validation: np.ndarray, test: np.ndarray,
           sigmas=PARZEN_SIGMAS) -> dict:
    """The paper's protocol (goodfeli/adversarial, parzen_ll.py): sigma from
    logspace(-1, 0, 10) maximising the mean log-likelihood of the validation images
    (it passes the first 1,000, --limit_size), then the test images' mean
    log-likelihood, +- ll.std() / sqrt(N) (NumPy's std, ddof 0, as there). Its
    centres are 10,000 samples (--num_samples); evaluate draws them."""
    sigma = best_sigma(centres, validation, sigmas)
    ll = parzen_log_likelihood(centres, test, sigma)
    return {"parzen_ll": float(ll.mean()), "parzen_se": float(ll.std() / np.sqrt(len(ll))),
            "parzen_sigma": sigma}


# --- copying check

def nearest_neighbours(samples: np.ndarray, train: np.ndarray, k: int = 3,
                       batch: int = 5000) -> tuple[np.ndarray, np.ndarray]:
    """Indices (len(samples), k) of the k closest training images in pixel space
    (Euclidean), and their distances."""
    s = samples.astype(np.float64)
    best_d = np.full((len(s), k), np.inf)
    best_i = np.zeros((len(s), k), np.int64)
    s_sq = (s ** 2).sum(axis=1)[:, None]
    for start in range(0, len(train), batch):
        t = train[start:start + batch].astype(np.float64)
        d2 = np.maximum(s_sq + (t ** 2).sum(axis=1)[None, :] - 2 * s @ t.T, 0)
        d = np.concatenate([best_d, np.sqrt(d2)], axis=1)
        i = np.concatenate([best_i, np.arange(start, start + len(t))[None, :]
                            .repeat(len(s), 0)], axis=1)
        order = np.argsort(d, axis=1)[:, :k]
        best_d = np.take_along_axis(d, order, 1)
        best_i = np.take_along_axis(i, order, 1)
    return best_i, best_d


# --- blur (the tutorials' "VAEs tend to be more blurred")

def blur(images: np.ndarray, side: int = 28) -> dict:
    """Two measures of blur, each larger for blurrier images.

    blur_length (pixels): per image sqrt(sum x^2 / sum |grad x|^2), grad by forward
      differences, then the mean over images. By Parseval, sum |grad x|^2 / sum x^2 is
      the power-weighted mean of |frequency|^2 of the image, so this is its typical
      wavelength: a blur (a low-pass filter) removes high frequencies and can only
      lengthen it, while it does not depend on contrast or on how much ink there is.
      Blank images (no gradient) are left out.
    grey_share: of the pixels with ink (x > 0.1), the share that is neither
      background nor full ink, x < 0.9: blurred strokes are grey at their edges.
    """
    x = np.asarray(images, np.float64).reshape(-1, side, side)
    gx, gy = np.diff(x, axis=2), np.diff(x, axis=1)
    grad = (gx ** 2).sum(axis=(1, 2)) + (gy ** 2).sum(axis=(1, 2))
    energy = (x ** 2).sum(axis=(1, 2))
    ok = grad > 0
    ink = x > 0.1
    return {"blur_length": float(np.mean(np.sqrt(energy[ok] / grad[ok]))),
            "grey_share": float((ink & (x < 0.9)).sum() / max(1, ink.sum()))}


def gaussian_blur(images: np.ndarray, sigma: float, side: int = 28) -> np.ndarray:
    """Images (N, side*side) convolved with a Gaussian of std `sigma` pixels (zero
    padding): the reference blur the measures above are tested against."""
    r = int(np.ceil(3 * sigma))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / sigma) ** 2)
    k /= k.sum()
    x = np.asarray(images, np.float64).reshape(-1, side, side)
    x = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 2, x)
    x = np.apply_along_axis(lambda v: np.convolve(v, k, mode="same"), 1, x)
    return x.reshape(len(x), -1)


# --- how each measure is reported: the one table that evaluate's printout and the
# docs' results table (gan_tf.results) both read

@dataclass(frozen=True)
class Measure:
    key: str            # in metrics.json's 'generated' and 'real'
    label: str          # evaluate's printout ({title}: MNIST or Fashion-MNIST)
    fmt: str            # evaluate's printout
    column: str = ""    # results table header; "" for measures it leaves out
    cell: object = None  # results table: metrics dict -> text


def _fmt(key, fmt):
    return lambda m: fmt.format(m[key])


MEASURES = (
    Measure("mnist_score", "{title} score (max 10)", "{:.3f}", "score",
            _fmt("mnist_score", "{:.2f}")),
    Measure("frechet_distance", "Frechet distance (classifier)", "{:.3f}", "Fréchet dist.",
            _fmt("frechet_distance", "{:.2f}")),
    Measure("modes_covered", "classes with >= 1% of samples", "{}", "classes ≥1%",
            _fmt("modes_covered", "{}")),
    Measure("class_kl", "KL(classes || test classes)", "{:.4f}", "class KL",
            _fmt("class_kl", "{:.3f}")),
    Measure("confident_share", "share classified with p > 0.9", "{:.3f}", "p>0.9",
            _fmt("confident_share", "{:.3f}")),
    Measure("parzen_ll", "Parzen log-likelihood (nats)", "{:.1f}", "Parzen (nats)",
            lambda m: f"{m['parzen_ll']:.1f} ± {m['parzen_se']:.1f}"),
    Measure("parzen_se", "  its standard error", "{:.1f}"),
    Measure("parzen_sigma", "  sigma chosen", "{:.3f}"),
)
