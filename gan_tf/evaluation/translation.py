"""How well CycleGAN's generators (families/cyclegan.py) learned the map between its
domains, which is known: B = models/cycle.to_b(A) (rotated 90 degrees and inverted,
or either alone: the run's domain_map).

On the run split's test digits a (domain A) and their true images b = to_b(a):
  error              mean |G(a) - b| in [0, 1] pixel units (A -> B), and
                     mean |F(b) - a| (B -> A): the translation against the true map
  accuracy           the committed classifier's accuracy against the test labels on
                     to_a(G(a)), G's translation mapped back by the true inverse
                     (A -> B), and on F(b) (B -> A): is the translated digit still
                     the same digit (a CycleGAN can be cycle-consistent and still
                     swap digits, or draw them in another orientation)
  permuted_accuracy  the same under the best one-to-one relabelling of the digits
                     (evaluation/codes.best_assignment), with that relabelling
                     ('permutation', source digit -> the digit it becomes): how much
                     of what G does is a swap of whole digit classes, which the
                     cycle loss cannot tell from the true map
  cycle_error        mean |F(G(a)) - a| (A -> B -> A) and mean |G(F(b)) - b|
  cycle_accuracy     the classifier's accuracy on F(G(a)) and on to_a(G(F(b))): does
                     the round trip keep the digit
Beside them, two references: the identity (a as its own translation: the error of
not translating at all) and the true map (error 0; the classifier's own accuracy).
"""

from __future__ import annotations

import numpy as np

from gan_tf.evaluation.classifier import predict
from gan_tf.evaluation.codes import best_assignment, confusion
from gan_tf.models import cycle
from gan_tf.runs.pictures import save_rows

DIRECTIONS = ("a_to_b", "b_to_a")
COLUMNS = (("error", "translation error", "{:.4f}"),
           ("accuracy", "classifier accuracy", "{:.4f}"),
           ("permuted_accuracy", "... digits relabelled", "{:.4f}"),
           ("cycle_error", "cycle error", "{:.4f}"),
           ("cycle_accuracy", "... its accuracy", "{:.4f}"))


def _apply(model, x, batch=1000):
    return np.concatenate([model(x[i:i + batch], training=False).numpy()
                           for i in range(0, len(x), batch)])


def measure(G, F, test_images_u8: np.ndarray, test_labels: np.ndarray, classifier,
            domain_map: str = "rotate_invert") -> dict:
    """{'generators': {direction: {measure}}, 'identity': ..., 'true_map': ...,
    'domain_map': ...}; F None measures A -> B alone (a generator file on its own).
    domain_map: the map B = to_b(A) the run was trained on (models/cycle.DOMAIN_MAPS)."""

    def acc(images_pm1):
        probs, _ = predict(classifier, (np.asarray(images_pm1) + 1.0) / 2.0)
        return float((probs.argmax(1) == test_labels).mean())

    def relabelled(images_pm1):
        """The accuracy under the best one-to-one relabelling of the digits, and
        that relabelling (source digit -> the digit it is translated to)."""
        probs, _ = predict(classifier, (np.asarray(images_pm1) + 1.0) / 2.0)
        counts = confusion(test_labels, probs.argmax(1), 10)
        assignment, matched = best_assignment(counts)
        return {"permuted_accuracy": matched / len(test_labels), "permutation": assignment}

    def l1(x, y):   # mean absolute difference in [0, 1] units
        return float(np.abs(np.asarray(x, np.float64) - np.asarray(y, np.float64)).mean() / 2)
    a = test_images_u8.astype(np.float32) / 127.5 - 1.0
    b = cycle.to_b(a, domain_map).numpy()
    g_a = _apply(G, a)
    back = cycle.to_a(g_a, domain_map).numpy()
    out = {"a_to_b": {"error": l1(g_a, b), "accuracy": acc(back), **relabelled(back)}}
    if F is not None:
        f_b = _apply(F, b)
        round_trip = _apply(F, g_a)
        out["a_to_b"]["cycle_error"] = l1(round_trip, a)
        out["a_to_b"]["cycle_accuracy"] = acc(round_trip)
        round_trip = _apply(G, f_b)
        out["b_to_a"] = {"error": l1(f_b, a), "accuracy": acc(f_b), **relabelled(f_b),
                         "cycle_error": l1(round_trip, b),
                         "cycle_accuracy": acc(cycle.to_a(round_trip, domain_map).numpy())}
    true_acc = acc(a)
    return {"generators": out, "domain_map": domain_map,
            "identity": {"a_to_b": {"error": l1(a, b),
                                    "accuracy": acc(cycle.to_a(a, domain_map).numpy())},
                         "b_to_a": {"error": l1(b, a), "accuracy": acc(b)}},
            "true_map": {d: {"error": 0.0, "accuracy": true_acc} for d in DIRECTIONS}}


def format_table(result: dict) -> str:
    rows = [("CycleGAN", result["generators"]), ("identity", result["identity"]),
            ("true map", result["true_map"])]
    lines = [f"{'':>22}" + "".join(f"{name + ' ' + d.replace('_to_', '->').upper():>18}"
                                   for name, _ in rows[:1] for d in DIRECTIONS)
             + f"{'identity A->B':>16}{'true map':>12}"]
    for key, label, fmt in COLUMNS:
        cells = [fmt.format(result["generators"].get(d, {}).get(key)) if key in
                 result["generators"].get(d, {}) else "-" for d in DIRECTIONS]
        ident = result["identity"]["a_to_b"].get(key)
        true = result["true_map"]["a_to_b"].get(key)
        lines.append(f"{label:>22}" + "".join(f"{c:>18}" for c in cells)
                     + f"{'-' if ident is None else fmt.format(ident):>16}"
                     + f"{'-' if true is None else fmt.format(true):>12}")
    return "\n".join(lines)


def format_spread(results: list[dict]) -> str:
    """The generators' measures, mean ± std (ddof 1) over runs."""
    lines = [f"{'':>22}" + "".join(f"{d.replace('_to_', ' -> ').upper():>22}"
                                   for d in DIRECTIONS)]
    for key, label, fmt in COLUMNS:
        cells = []
        for d in DIRECTIONS:
            vals = [r["generators"].get(d, {}).get(key) for r in results]
            if any(v is None for v in vals):
                cells.append("-")
                continue
            v = np.array(vals, np.float64)
            sd = v.std(ddof=1) if len(v) > 1 else 0.0
            cells.append(f"{fmt.format(v.mean())} ± {fmt.format(sd)}")
        lines.append(f"{label:>22}" + "".join(f"{c:>22}" for c in cells))
    return "\n".join(lines)


PICTURE = "translated.png"   # beside metrics.json


def write_picture(G, F, test_images_u8: np.ndarray, path, count: int = 8,
                  domain_map: str = "rotate_invert") -> None:
    """The first `count` test digits, one per row: a, G(a), G(a) mapped back by the
    true inverse, the true b, and (with F) F(b)."""
    a = test_images_u8[:count].astype(np.float32) / 127.5 - 1.0
    b = cycle.to_b(a, domain_map).numpy()
    g_a = G(a, training=False).numpy()
    cols = [a, g_a, cycle.to_a(g_a, domain_map).numpy(), b]
    titles = ["a", "G(a)", "G(a) mapped back", "true b"]
    if F is not None:
        cols.append(F(b, training=False).numpy())
        titles.append("F(b)")
    save_rows((np.stack(cols, axis=1) + 1.0) / 2.0, path, column_titles=titles)
