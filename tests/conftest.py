"""Shared fixtures: the real data beside the checkout, and small datasets the tests write themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = Path(os.environ.get("EMOTION_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES = SHARED_DATA / "faces"
FER_ZIP = SHARED_DATA / "fer2013.zip"
FER_CSV_HEAD = SHARED_DATA / "fer2013-head.csv"
BUNDLED_TFLITE = ROOT / "model" / "emotion_cnn.tflite"
BUNDLED_KERAS = ROOT / "model" / "emotion_cnn.keras"
CLASS_FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")


def run_probe(source: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `source` in a fresh Python process from the project root; its standard output.

    For what must not share the test process: memory settings that last for the whole process, or
    imports that clash with ones already made (aiortc after TensorFlow crashes).
    """
    result = subprocess.run([sys.executable, "-c", source, *args], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return result.stdout


def need(path: Path) -> Path:
    if not path.exists():
        pytest.skip(f"{path} is missing (the shared test data beside the checkout)")
    return path


@pytest.fixture(scope="session")
def faces_dir() -> Path:
    return need(FACES)


def read_photo(name: str) -> np.ndarray:
    image = cv2.imread(str(need(FACES / name)))
    assert image is not None, name
    return image


@pytest.fixture(scope="session")
def models():
    from emotion.annotate import load_models

    return load_models(BUNDLED_TFLITE)


@pytest.fixture(scope="session")
def real_fer_sample() -> dict[str, list[tuple[str, bytes]]]:
    """A few real FER-2013 JPEGs per class and split, read from the shared Kaggle zip."""
    sample: dict[str, list[tuple[str, bytes]]] = {}
    with zipfile.ZipFile(need(FER_ZIP)) as archive:
        counts: dict[tuple[str, str], int] = {}
        for name in archive.namelist():
            split, folder = name.split("/")[:2]
            if counts.get((split, folder), 0) < 6:
                counts[(split, folder)] = counts.get((split, folder), 0) + 1
                sample.setdefault(split, []).append((name, archive.read(name)))
    return sample


@pytest.fixture(scope="session")
def tiny_fer_folder(tmp_path_factory, real_fer_sample) -> Path:
    """The Kaggle folder layout, 6 real images per class and split."""
    root = tmp_path_factory.mktemp("fer_folder")
    for entries in real_fer_sample.values():
        for name, data in entries:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    return root


@pytest.fixture(scope="session")
def tiny_fer_zip(tmp_path_factory, real_fer_sample) -> Path:
    path = tmp_path_factory.mktemp("fer_zip") / "fer2013.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for entries in real_fer_sample.values():
            for name, data in entries:
                archive.writestr(name, data)
    return path
