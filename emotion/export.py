"""LiteRT export: the app serves a .tflite file so that it needs no TensorFlow at run time."""

from __future__ import annotations

from pathlib import Path

import keras


def export_tflite(model: keras.Model, path: str | Path) -> Path:
    """Write `model` as a float32 .tflite file (input 48x48x1, any batch size)."""
    path = Path(path)
    model.export(str(path), format="litert", verbose=False)
    return path
