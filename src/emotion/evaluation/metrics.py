"""Classification metrics: accuracy, macro-F1, per-class precision/recall, bootstrap intervals, the FER+ protocol."""

from __future__ import annotations

import numpy as np


def confusion(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int) -> np.ndarray:
    """Counts with true classes as rows and predictions as columns."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, int), np.asarray(y_pred, int)), 1)
    return matrix


def report(y_true: np.ndarray, y_pred: np.ndarray, classes: list[str]) -> dict:
    """Accuracy, macro-F1 and per-class precision / recall / F1 / support.

    A class with no true and no predicted sample gets F1 0 and still counts in
    the macro average, so a model that ignores rare classes is not flattered.
    """
    cm = confusion(y_true, y_pred, len(classes))
    tp = np.diag(cm).astype(float)
    support, predicted = cm.sum(axis=1), cm.sum(axis=0)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, support, out=np.zeros_like(tp), where=support > 0)
    denom = precision + recall
    f1 = np.divide(2 * precision * recall, denom, out=np.zeros_like(tp), where=denom > 0)
    return {
        "accuracy": float(tp.sum() / max(cm.sum(), 1)),
        "macro_f1": float(f1.mean()),
        "per_class": {
            c: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for c, p, r, f, s in zip(classes, precision, recall, f1, support)
        },
        "confusion_matrix": cm.tolist(),
        "classes": list(classes),
    }


def _accuracy_and_macro_f1(codes: np.ndarray, n_classes: int) -> tuple[float, float]:
    cm = np.bincount(codes, minlength=n_classes * n_classes).reshape(n_classes, n_classes).astype(float)
    tp, support, predicted = np.diag(cm), cm.sum(axis=1), cm.sum(axis=0)
    denom = support + predicted
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=denom > 0)
    return tp.sum() / max(cm.sum(), 1), f1.mean()


def bootstrap_interval(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int, resamples: int,
                       level: float = 0.95, seed: int = 0) -> dict[str, list[float]]:
    """Percentile bootstrap intervals of accuracy and macro-F1 (images resampled with replacement)."""
    codes = np.asarray(y_true, int) * n_classes + np.asarray(y_pred, int)
    if not len(codes) or resamples <= 0:
        return {}
    rng = np.random.default_rng(seed)
    values = np.array([_accuracy_and_macro_f1(codes[rng.integers(0, len(codes), len(codes))], n_classes)
                       for _ in range(resamples)])
    tail = (1 - level) / 2 * 100
    low, high = np.percentile(values, [tail, 100 - tail], axis=0)
    return {"accuracy": [float(low[0]), float(high[0])], "macro_f1": [float(low[1]), float(high[1])]}


def without_class(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str], dropped: str):
    """The FER+ paper's protocol: faces of class `dropped` left out, argmax over the other classes.

    Returns (y_true, y_pred, kept classes), with labels renumbered over the kept classes.
    """
    k = classes.index(dropped)
    kept = [c for c in classes if c != dropped]
    rows = np.asarray(y_true) != k
    columns = [i for i in range(len(classes)) if i != k]
    y_true = np.asarray(y_true)[rows]
    return np.where(y_true > k, y_true - 1, y_true), probabilities[rows][:, columns].argmax(axis=1), kept


def assess(y_true: np.ndarray, probabilities: np.ndarray, classes: list[str], resamples: int,
           seed: int = 0) -> dict:
    """`report` with bootstrap intervals and, when `uncertain` is a class, the FER+ paper's 8-class protocol."""
    rep = report(y_true, probabilities.argmax(axis=1), classes)
    rep["n"] = int(len(y_true))
    rep["interval"] = bootstrap_interval(y_true, probabilities.argmax(axis=1), len(classes), resamples, seed=seed)
    if "uncertain" in classes:
        true8, pred8, kept = without_class(y_true, probabilities, list(classes), "uncertain")
        rep["without_uncertain"] = {
            **{k: v for k, v in report(true8, pred8, kept).items() if k in ("accuracy", "macro_f1")},
            "n": int(len(true8)), "interval": bootstrap_interval(true8, pred8, len(kept), resamples, seed=seed),
        }
    return rep


def report_text(rep: dict) -> str:
    lines = [f"{'class':<12}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}"]
    for c, m in rep["per_class"].items():
        lines.append(f"{c:<12}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9d}")
    lines.append(f"accuracy {rep['accuracy']:.4f}{_interval(rep, 'accuracy')}   "
                 f"macro-F1 {rep['macro_f1']:.4f}{_interval(rep, 'macro_f1')}")
    if "without_uncertain" in rep:
        w = rep["without_uncertain"]
        lines.append(f"without uncertain ({w['n']} faces, argmax over the other classes): accuracy "
                     f"{w['accuracy']:.4f}{_interval(w, 'accuracy')}   macro-F1 {w['macro_f1']:.4f}")
    return "\n".join(lines)


def _interval(rep: dict, metric: str) -> str:
    low_high = rep.get("interval", {}).get(metric)
    return f" [95% {low_high[0]:.4f}-{low_high[1]:.4f}]" if low_high else ""
