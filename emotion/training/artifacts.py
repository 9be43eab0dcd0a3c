"""The files a training run writes to its --out folder (model/ for the bundled model).

Kept apart from train.py so that what only reads them (the model card, the app, the accelerator
driver) imports no TensorFlow or Keras.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

MODEL_FILE = "emotion_cnn.keras"
TFLITE_FILE = "emotion_cnn.tflite"
LOG_FILE = "training_log.csv"
CONFIG_FILE = "training_config.json"
METRICS_FILE = "metrics.json"
COMPARISONS_FILE = "comparisons.json"  # figures the card quotes that evaluation does not produce
LATENCY_FILE = "latency.json"  # ms a face of each model, recorded by bench/model_latency.py


def log_column(log_text: str, key: str) -> list[str]:
    """One column of a training log's text, a value per epoch logged."""
    return [row[key] for row in csv.DictReader(io.StringIO(log_text)) if row.get(key)]


def read_log_column(log_path: Path, key: str) -> list[str]:
    """One column of a run's training log (none when there is no log yet)."""
    return log_column(log_path.read_text(), key) if log_path.exists() else []
