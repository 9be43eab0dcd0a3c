"""Shared fixtures: the real models, FER-2013-shaped data made here, a real redis-server, headless chromium with a fake camera.

Helpers that bench/ uses too live in tests/support.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

# aiortc's SRTP library (pylibsrtp) crashes the interpreter (SIGSEGV) when it is first imported after
# TensorFlow, whose own TLS library clashes with it; the app never loads both, the suite does (training
# tests and WebRTC pages in one process). Imported first, it loads cleanly whatever the tests' order.
import cv2
import numpy as np
import pylibsrtp  # noqa: F401
import pytest

from emotion import Models, load_models
from tests.support.browser import CAMERA_PHOTOS, chromium_with_camera, require_browser
from tests.support.files import BUNDLED_TFLITE, fer_like_sample
from tests.support.redis_server import RedisProcess


@pytest.fixture(scope="session")
def models() -> Models:
    return load_models(BUNDLED_TFLITE)


@pytest.fixture(scope="session")
def redis_process(tmp_path_factory):
    """One real redis-server for the session's store tests; each room has a fresh code."""
    process = RedisProcess(tmp_path_factory.mktemp("redis")).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def browser(request, tmp_path_factory):
    """Headless chromium for a module's tests; its fake camera loops the module's CAMERA_PHOTOS (else the default pair)."""
    require_browser()
    photos = getattr(request.module, "CAMERA_PHOTOS", CAMERA_PHOTOS)
    with chromium_with_camera(tmp_path_factory.mktemp("camera"), photos) as chromium:
        yield chromium


@pytest.fixture(scope="session")
def fer_sample() -> dict[str, list[tuple[str, bytes]]]:
    """FER-2013's Kaggle layout in miniature, made from the committed photos: 6 JPEGs per class and split."""
    return fer_like_sample()


@pytest.fixture(scope="session")
def fer_faces(fer_sample) -> np.ndarray:
    """FER-2013-like faces (and a few non-faces) as the network takes them, (N, 48, 48, 1) in [0, 1]."""
    images = [cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) for _, data in fer_sample["test"]]
    return np.stack(images).astype(np.float32)[..., np.newaxis] / 255


@pytest.fixture(scope="session")
def tiny_fer_folder(tmp_path_factory, fer_sample) -> Path:
    """The Kaggle folder layout, 6 images per class and split."""
    root = tmp_path_factory.mktemp("fer_folder")
    for entries in fer_sample.values():
        for name, data in entries:
            (root / name).parent.mkdir(parents=True, exist_ok=True)
            (root / name).write_bytes(data)
    return root


@pytest.fixture(scope="session")
def tiny_fer_zip(tmp_path_factory, fer_sample) -> Path:
    """The same images as the Kaggle zip holds them."""
    path = tmp_path_factory.mktemp("fer_zip") / "fer2013.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for entries in fer_sample.values():
            for name, data in entries:
                archive.writestr(name, data)
    return path
