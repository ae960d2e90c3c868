"""How well an unsupervised code picks a digit (InfoGAN, Chen et al. 2016, section
7.1: "c1 ... captures drastic change in shape", 5% error when matched to classes).

Samples are drawn with each value of the categorical code in turn, read by the
committed classifier, and counted in a confusion matrix codes x classes. The code's
accuracy is that of the best one-to-one assignment of code values to classes (the
unsupervised-clustering accuracy: the assignment that maximises the matched
samples, found exactly by dynamic programming over the sets of classes used).
"""

from __future__ import annotations

import numpy as np


def confusion(codes: np.ndarray, classes: np.ndarray, n_codes: int, n_classes: int = 10):
    """counts[k, c]: samples made with code value k that the classifier reads as c."""
    out = np.zeros((n_codes, n_classes), np.int64)
    np.add.at(out, (np.asarray(codes), np.asarray(classes)), 1)
    return out


def best_assignment(counts: np.ndarray) -> tuple[list[int], int]:
    """(class of each code value, samples matched) for the one-to-one assignment of
    code values (rows) to classes (columns) that matches the most samples; needs
    rows <= columns <= 20 (2^columns states)."""
    rows, cols = counts.shape
    if not rows <= cols <= 20:
        raise ValueError(f"need code values <= classes <= 20, got {rows} x {cols}")
    # best[mask]: most samples matched by rows 0..popcount(mask)-1 using classes `mask`
    best = np.full(1 << cols, -1, np.int64)
    choice = np.zeros(1 << cols, np.int64)
    best[0] = 0
    for mask in range(1 << cols):
        if best[mask] < 0:
            continue
        r = bin(mask).count("1")
        if r == rows:
            continue
        for c in range(cols):
            if not mask >> c & 1:
                new = mask | 1 << c
                v = best[mask] + counts[r, c]
                if v > best[new]:
                    best[new], choice[new] = v, c
    full = [m for m in range(1 << cols) if bin(m).count("1") == rows and best[m] >= 0]
    mask = max(full, key=lambda m: best[m])
    total, assignment = int(best[mask]), []
    for _ in range(rows):
        c = int(choice[mask])
        assignment.append(c)
        mask &= ~(1 << c)
    return assignment[::-1], total


def code_accuracy(counts: np.ndarray) -> dict:
    """The best assignment's accuracy, the assignment, and each code value's purity
    (the share of its samples in its most frequent class)."""
    assignment, matched = best_assignment(counts)
    per = counts.sum(1)
    return {"accuracy": matched / counts.sum(), "assignment": assignment,
            "purity": (counts.max(1) / np.maximum(per, 1)).tolist(),
            "confusion": counts.tolist()}
