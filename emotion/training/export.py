"""LiteRT export: the app serves a .tflite file so that it needs no TensorFlow at run time.

    python -m emotion.training.export             # model/emotion_cnn.keras -> model/emotion_cnn.tflite

The export stores the weights as int8 (dynamic-range quantization): one byte a weight instead of four,
and faster a batch on one core (bench/README.md times both), for a change in PublicTest accuracy
that model/metrics.json records (it scores the Keras file and the export). Full int8 quantization was
tried too: as fast, but lower in balanced accuracy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import keras


def export_tflite(model: keras.Model, path: str | Path, *, quantize: bool = True) -> Path:
    """Write `model` as a .tflite file (input 48x48x1, any batch size), with int8 weights unless told not to."""
    import tensorflow as tf

    path = Path(path)
    options = {"optimizations": [tf.lite.Optimize.DEFAULT]} if quantize else {}
    model.export(str(path), format="litert", verbose=False, **options)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emotion.training.export", description="Export a trained Keras model for LiteRT."
    )
    parser.add_argument("--model", default=Path("model/emotion_cnn.keras"), type=Path)
    parser.add_argument("--out", type=Path, help="the .tflite file (default: beside --model)")
    parser.add_argument("--float", action="store_true", help="keep float32 weights (four bytes each, not one: larger, slower)")
    args = parser.parse_args(argv)
    import emotion.training.model  # noqa: F401 - registers the custom layers a flip-averaged model uses

    try:
        model = keras.models.load_model(args.model, compile=False)
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.model}: {error}", file=sys.stderr)
        return 2
    out = export_tflite(model, args.out or args.model.with_suffix(".tflite"), quantize=not args.float)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
