"""LiteRT export: the app serves a .tflite file so that it needs no TensorFlow at run time.

    python -m emotion.training.export             # model/emotion_cnn.keras -> model/emotion_cnn.tflite
    python -m emotion.training.export --batch 1 --out static/models/emotion_cnn_b1.tflite   # the browser's copy

The export stores the weights as int8 (dynamic-range quantization): one byte a weight instead of four,
and faster a batch on one core (bench/README.md times both), for a change in PublicTest accuracy
that model/metrics.json records (it scores the Keras file and the export). Full int8 quantization was
tried too: as fast, but lower in balanced accuracy.

`--batch N` fixes the batch size: LiteRT.js, which runs the model in the students' browsers, takes
no model with a dynamic batch. The model is traced with an N x 48x48x1 input (same weights, same
quantization), so the graph has no run-time shape ops left. Rebuilding the Keras model on a
fixed-batch Input is not enough: Keras exports its batch dimension as dynamic all the same.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import keras


def export_tflite(model: keras.Model, path: str | Path, *, quantize: bool = True, batch: int | None = None) -> Path:
    """Write `model` as a .tflite file (input 48x48x1, any batch size or exactly `batch`), int8 weights unless told not to."""
    import tensorflow as tf

    path = Path(path)
    options: dict = {"optimizations": [tf.lite.Optimize.DEFAULT]} if quantize else {}
    if batch is not None:
        if batch < 1:
            raise ValueError(f"batch must be at least 1, not {batch}")
        options["input_signature"] = [tf.TensorSpec((batch, *model.input_shape[1:]), tf.float32, name=model.inputs[0].name)]
    path.parent.mkdir(parents=True, exist_ok=True)
    model.export(str(path), format="litert", verbose=False, **options)
    return path


def export_where_possible(model: keras.Model, path: Path, saved_as: Path) -> None:
    """Keras exports .tflite from TensorFlow only: on JAX (the accelerator) say how to make it afterwards.

    `saved_as` is the .keras file of `model`, which the export command then reads.
    """
    if keras.backend.backend() != "tensorflow":
        path.unlink(missing_ok=True)  # an older export beside the new model would not match it
        print(
            f"the {keras.backend.backend()} backend does not export .tflite: make {path} on a machine with "
            f"TensorFlow with `python -m emotion.training.export --model {saved_as}`",
            flush=True,
        )
        return
    export_tflite(model, path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emotion.training.export", description="Export a trained Keras model for LiteRT."
    )
    parser.add_argument("--model", default=Path("model/emotion_cnn.keras"), type=Path)
    parser.add_argument("--out", type=Path, help="the .tflite file (default: beside --model)")
    parser.add_argument("--float", action="store_true", help="keep float32 weights (four bytes each, not one: larger, slower)")
    parser.add_argument("--batch", type=int, help="a fixed batch size, not any (LiteRT.js needs one; default out: *_bN.tflite)")
    args = parser.parse_args(argv)
    if args.batch is not None and args.batch < 1:
        parser.error("--batch must be at least 1")
    import emotion.training.model  # noqa: F401 - registers the custom layers a flip-averaged model uses

    try:
        model = keras.models.load_model(args.model, compile=False)
    except (OSError, ValueError) as error:
        print(f"error: cannot read {args.model}: {error}", file=sys.stderr)
        return 2
    default = args.model.with_suffix(".tflite")
    if args.batch is not None:
        default = default.with_name(f"{args.model.stem}_b{args.batch}.tflite")
    out = export_tflite(model, args.out or default, quantize=not args.float, batch=args.batch)
    print(f"wrote {out} ({out.stat().st_size / 2**20:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
