"""The project's files and the shared data beside the checkout (../shared/data, or EMOTION_SHARED_DATA)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
SHARED_DATA = Path(os.environ.get("EMOTION_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES = SHARED_DATA / "faces"
FER_ZIP = SHARED_DATA / "fer2013.zip"
FER_CSV_HEAD = SHARED_DATA / "fer2013-head.csv"
BUNDLED_TFLITE = ROOT / "model" / "emotion_cnn.tflite"
BUNDLED_KERAS = ROOT / "model" / "emotion_cnn.keras"


def need(path: Path) -> Path:
    """`path`, or a skip where the shared data is missing; under CI a failure, so CI cannot pass on skips."""
    if not path.exists():
        message = f"{path} is missing (the shared test data beside the checkout; EMOTION_SHARED_DATA names another place)"
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run every test, but {message}")
        pytest.skip(message)
    return path


def read_photo(name: str) -> np.ndarray:
    image = cv2.imread(str(need(FACES / name)))
    assert image is not None, name
    return image


def write_large_png(path: Path, width: int = 12000, height: int = 9000, mode: str = "RGB") -> Path:
    """A photo-sized PNG (a smooth ramp per band, so the file stays small): the upload of finding 9."""
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((width, height))
    turns = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_180]
    bands = [ramp if turn is None else ramp.transpose(turn) for turn in turns[: len(mode)]]
    Image.merge(mode, bands).save(path, compress_level=1)
    return path


def run_probe(source: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `source` in a fresh Python process from the project root; its standard output.

    For what must not share the test process: memory settings that last for the whole process, or
    imports that clash with ones already made (aiortc after TensorFlow crashes).
    """
    result = subprocess.run([sys.executable, "-c", source, *args], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return result.stdout
