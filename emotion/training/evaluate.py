"""Score a model on a FER-2013 split.

    python -m emotion.training.evaluate --data PATH [--split test|val] [--model FILE] [--json FILE]

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
from emotion.training.data import SPLITS, DatasetError, load_split, model_inputs
from emotion.training.metrics import classification_metrics, format_report


def predict_probabilities(model_path: str | Path, images: np.ndarray, batch_size: int = 256) -> np.ndarray:
    """Probabilities (N, 7) for uint8 48x48 images, from a .tflite or a .keras model."""
    model_path = Path(model_path)
    inputs = model_inputs(images)
    if model_path.suffix == ".keras":
        if not model_path.is_file():
            raise ModelError(f"model file {model_path} not found")
        import keras

        import emotion.training.model  # noqa: F401 - registers the custom layers the saved model uses

        model = keras.models.load_model(model_path, compile=False)
        return np.asarray(model.predict(inputs, batch_size=batch_size, verbose=0))
    classifier = EmotionClassifier(model_path, num_threads=os.cpu_count() or 1)
    return np.concatenate([classifier.predict(inputs[i : i + batch_size]) for i in range(0, len(inputs), batch_size)])


def evaluate(model_path: str | Path, data: str | Path, split: str = "test") -> dict:
    dataset = load_split(data, split)
    probabilities = predict_probabilities(model_path, dataset.images)
    metrics = classification_metrics(dataset.labels, probabilities.argmax(axis=1))
    return {"model": str(model_path), "data": dataset.source, "split": split, **metrics}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.training.evaluate", description=__doc__.splitlines()[0])
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
