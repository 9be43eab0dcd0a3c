"""On-device recognition's groundwork (issue #14): the files static/ serves, and the browser's pipeline
(static/ondevice/) against the Python one, in real chromium on the real models."""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys

import cv2
import numpy as np
import pytest

from emotion.classifier import EmotionClassifier
from emotion.detection import DETECTOR_DIR
from scripts.fetch_litertjs import LOCAL_IMPORT, SERVED
from tests.support.files import BUNDLED_KERAS, BUNDLED_TFLITE, ROOT

STATIC = ROOT / "static"
BROWSER_MODEL = STATIC / "models" / "emotion_cnn_b1.tflite"
BROWSER_DETECTOR = STATIC / "models" / "face_detection_short_range.tflite"


def recorded_hashes(readme: str) -> dict[str, str]:
    """file -> sha256 from a README's table rows that end in a sha256."""
    return dict(re.findall(r"^\| (\S+) \|.*\| ([0-9a-f]{64}) \|$", readme, re.M))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def fer_faces(real_fer_sample) -> np.ndarray:
    """Real FER-2013 faces as the network takes them, (N, 48, 48, 1) in [0, 1]."""
    images = [cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) for _, data in real_fer_sample["test"]]
    return np.stack(images).astype(np.float32)[..., np.newaxis] / 255


def test_the_served_litert_files_are_the_recorded_ones():
    recorded = recorded_hashes((STATIC / "litert" / "README.md").read_text())
    recorded = {name: digest for name, digest in recorded.items() if not name.startswith("@")}  # not the tarballs' rows
    assert set(recorded) == set(SERVED)
    for name, digest in recorded.items():
        assert sha256(STATIC / "litert" / name) == digest, name
    assert LOCAL_IMPORT in (STATIC / "litert" / "index.js").read_text()
    assert "Apache License\n                           Version 2.0" in (STATIC / "litert" / "LICENSE").read_text()


def test_the_browser_models_are_the_recorded_ones():
    recorded = recorded_hashes((STATIC / "README.md").read_text())
    assert set(recorded) == {BROWSER_MODEL.name, BROWSER_DETECTOR.name}
    for name, digest in recorded.items():
        assert sha256(STATIC / "models" / name) == digest, name


def test_the_browser_runs_the_servers_face_detector():
    assert BROWSER_DETECTOR.read_bytes() == (DETECTOR_DIR / BROWSER_DETECTOR.name).read_bytes()


def test_the_browser_emotion_model_gives_the_served_probabilities(fer_faces):
    browser, served = EmotionClassifier(BROWSER_MODEL), EmotionClassifier(BUNDLED_TFLITE)
    assert browser.fixed_batch and not served.fixed_batch
    assert np.allclose(browser.predict(fer_faces), served.predict(fer_faces), atol=1e-6)


def test_a_fixed_batch_export_classifies_any_number_of_faces(tmp_path, fer_faces):
    out = tmp_path / "b2.tflite"
    command = [sys.executable, "-m", "emotion.training.export", "--model", str(BUNDLED_KERAS), "--batch", "2", "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    fixed, served = EmotionClassifier(out), EmotionClassifier(BUNDLED_TFLITE)
    assert fixed.fixed_batch
    five = fer_faces[:5]  # two full batches and one padded
    assert np.allclose(fixed.predict(five), served.predict(five), atol=1e-6)
    assert fixed.predict(five[:0]).shape == (0, 7)
