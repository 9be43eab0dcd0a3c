"""Classification figures from true and predicted labels: plain numpy, so they can be checked by hand."""

from __future__ import annotations

import numpy as np

from emotion.labels import EMOTIONS


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, n_classes: int = len(EMOTIONS)) -> np.ndarray:
    """Counts (n_classes, n_classes): row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true), np.asarray(y_pred)), 1)
    return matrix


def classification_metrics(y_true: np.ndarray, y_pred: np.ndarray) -> dict:
    """Accuracy, balanced accuracy, macro/weighted F1, per-class precision/recall/F1/support, confusion matrix.

    A class absent from y_true is left out of the balanced accuracy and macro F1 (as scikit-learn
    does for balanced accuracy); its precision and recall count as 0 where undefined.
    """
    matrix = confusion_matrix(y_true, y_pred)
    support = matrix.sum(axis=1)
    predicted = matrix.sum(axis=0)
    hits = np.diag(matrix).astype(np.float64)
    precision = np.divide(hits, predicted, out=np.zeros_like(hits), where=predicted > 0)
    recall = np.divide(hits, support, out=np.zeros_like(hits), where=support > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros_like(hits), where=denominator > 0)
    present = support > 0
    n = int(support.sum())
    return {
        "n": n,
        "accuracy": float(hits.sum() / n) if n else 0.0,
        "balanced_accuracy": float(recall[present].mean()) if present.any() else 0.0,
        "macro_f1": float(f1[present].mean()) if present.any() else 0.0,
        "weighted_f1": float((f1 * support).sum() / n) if n else 0.0,
        "per_class": {
            name: {"precision": float(precision[i]), "recall": float(recall[i]), "f1": float(f1[i]), "support": int(support[i])}
            for i, name in enumerate(EMOTIONS)
        },
        "confusion_matrix": matrix.tolist(),
    }


def format_report(metrics: dict) -> str:
    lines = [
        f"model {metrics['model']} on {metrics['data']} ({metrics['n']} faces)",
        f"accuracy {metrics['accuracy']:.4f}  balanced accuracy {metrics['balanced_accuracy']:.4f}  "
        f"macro F1 {metrics['macro_f1']:.4f}  weighted F1 {metrics['weighted_f1']:.4f}",
        "",
        f"{'class':<10}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>10}",
    ]
    for name, row in metrics["per_class"].items():
        lines.append(f"{name:<10}{row['precision']:>10.3f}{row['recall']:>10.3f}{row['f1']:>10.3f}{row['support']:>10}")
    lines += ["", "confusion matrix (rows true, columns predicted): " + " ".join(name[:3] for name in EMOTIONS)]
    for name, row in zip(EMOTIONS, metrics["confusion_matrix"]):
        lines.append(f"{name[:3]:<10}" + "".join(f"{count:>6}" for count in row))
    return "\n".join(lines)
