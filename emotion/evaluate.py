"""Score a model on a FER-2013 split: `python -m emotion.evaluate --data PATH [--split test|val] [--model FILE] [--json FILE]`.

Takes the bundled LiteRT model by default, or any .keras or .tflite file, so the export
can be checked to score the same as the Keras model it came from.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

import numpy as np

from emotion.classifier import DEFAULT_MODEL, EmotionClassifier, ModelError
from emotion.data import SPLITS, DatasetError, load_split
from emotion.preprocess import EMOTIONS


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


def predict_probabilities(model_path: str | Path, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probabilities (N, 7) for uint8 48x48 images, from a .tflite or a .keras model."""
    model_path = Path(model_path)
    inputs = images.astype(np.float32)[..., np.newaxis] / 255.0
    if model_path.suffix == ".keras":
        if not model_path.is_file():
            raise ModelError(f"model file {model_path} not found")
        import keras

        import emotion.model  # noqa: F401 - registers the custom layers the saved model uses

        model = keras.models.load_model(model_path, compile=False)
        return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0))
    classifier = EmotionClassifier(model_path, num_threads=os.cpu_count() or 1)
    return np.concatenate([classifier.predict(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])


def evaluate(model_path: str | Path, data: str | Path, split: str = "test") -> dict:
    dataset = load_split(data, split)
    probabilities = predict_probabilities(model_path, dataset.images)
    metrics = classification_metrics(dataset.labels, probabilities.argmax(axis=1))
    return {"model": str(model_path), "data": dataset.source, "split": split, **metrics}


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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.evaluate", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="fer2013.zip, its extracted folder, or fer2013.csv")
    parser.add_argument(
        "--split",
        choices=SPLITS,
        default="test",
        help="test: the test/ folder of a zip or folder (PublicTest), or a CSV's PrivateTest rows; val: PublicTest rows",
    )
    parser.add_argument("--model", default=str(DEFAULT_MODEL), help="a .tflite or .keras file (default: the bundled model)")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    args = parser.parse_args(argv)
    try:
        metrics = evaluate(args.model, args.data, args.split)
    except (DatasetError, ModelError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(format_report(metrics))
    if args.json:
        args.json.write_text(json.dumps(metrics, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
