"""The face finders behind emotion.detection's one interface: Haar, BlazeFace (short and full range), YuNet."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import cv2
import numpy as np
import pytest

from emotion import PipelineSettings, analyze_frame, load_models
from emotion.detection import DETECTOR_DIR, DETECTORS, DetectionSettings, DetectorError, default_detector
from emotion.detection.blazeface import FULL_RANGE, SHORT_RANGE, anchor_centres, weighted_suppression
from emotion.tracking import iou
from tests.support.files import BUNDLED_TFLITE, ROOT, photo_file, read_photo

PHOTO = DetectionSettings(scale_factor=1.1, min_neighbors=5, min_face=30, detect_width=None)
NEURAL = ("blazeface", "blazeface-full", "yunet")
MODEL_FILES = ("face_detection_short_range.tflite", "face_detection_full_range.tflite", "face_detection_yunet_2023mar.onnx")

# Faces each neural detector finds on the committed photos and the scenes made from them (tests/data/README.md).
EXPECTED = {
    "blazeface-full": {
        "facerec_obama.jpg": 1,
        "facerec_biden.jpg": 1,
        "facerec_two_people.jpg": 2,
        "group_of_three.png": 3,
        "group_of_six.png": 6,
        "crowd_of_24.png": 14,  # [24]: misses faces of every row
        "one_turned.png": 3,  # the turned face too
        "no_face.png": 0,
    },
    "yunet": {
        "facerec_obama.jpg": 1,
        "facerec_biden.jpg": 1,
        "facerec_two_people.jpg": 2,
        "group_of_three.png": 3,
        "group_of_six.png": 6,
        "crowd_of_24.png": 24,
        "one_turned.png": 3,
        "no_face.png": 0,
    },
    # Short range is made for a face at its own webcam: exact on portraits and small groups; it finds
    # none of the crowd's faces (the crowd is not listed).
    "blazeface": {
        "facerec_obama.jpg": 1,
        "facerec_biden.jpg": 1,
        "facerec_two_people.jpg": 2,
        "group_of_three.png": 3,
        "group_of_six.png": 6,
        "one_turned.png": 3,
        "no_face.png": 0,
    },
}


@pytest.mark.parametrize(("detector", "photo", "count"), [(d, p, n) for d, counts in EXPECTED.items() for p, n in counts.items()])
def test_faces_found_on_the_test_photos(models, detector, photo, count):
    assert len(models.detector(detector).detect(read_photo(photo), replace(PHOTO, detector=detector))) == count


@pytest.mark.parametrize("detector", list(DETECTORS))
def test_boxes_lie_inside_the_frame_largest_first(models, detector):
    image = read_photo("group_of_three.png")  # three faces of different sizes
    boxes = models.detector(detector).detect(image, replace(PHOTO, detector=detector))
    assert len(boxes) == 3 and boxes.dtype == np.int32
    assert (boxes[:, :2] >= 0).all() and (boxes[:, 2:] > 0).all()
    assert (boxes[:, 0] + boxes[:, 2] <= image.shape[1]).all() and (boxes[:, 1] + boxes[:, 3] <= image.shape[0]).all()
    areas = boxes[:, 2] * boxes[:, 3]
    assert (np.diff(areas) <= 0).all()


@pytest.mark.parametrize("detector", NEURAL)
def test_neural_boxes_are_framed_like_the_cascades(models, detector):
    """The emotion CNN learned from crops framed like the cascade's: each face's boxes overlap well."""
    overlaps = []
    for photo in ("group_of_three.png", "facerec_two_people.jpg", "facerec_obama.jpg", "facerec_biden.jpg"):
        image = read_photo(photo)
        haar = models.detector("haar").detect(image, PHOTO)
        other = models.detector(detector).detect(image, replace(PHOTO, detector=detector))
        overlaps += iou(other, haar).max(axis=1).tolist()
    assert len(overlaps) == 7 and np.median(overlaps) >= 0.75


@pytest.mark.parametrize("detector", list(DETECTORS))
def test_no_face_and_odd_frames(models, detector):
    settings = replace(PHOTO, detector=detector, min_face=20)
    face_finder = models.detector(detector)
    assert len(face_finder.detect(np.full((480, 640, 3), 128, np.uint8), settings)) == 0
    for shape in [(1, 1, 3), (7, 5, 3), (3, 2000, 3), (2000, 3, 3), (3000, 4000, 3), (480, 640), (480, 640, 4)]:
        boxes = face_finder.detect(np.zeros(shape, np.uint8), settings)
        assert boxes.shape == (0, 4)


@pytest.mark.parametrize("detector", NEURAL)
def test_grey_and_bgra_frames_find_the_same_face(models, detector):
    portrait = read_photo("facerec_obama.jpg")
    settings = replace(PHOTO, detector=detector)
    for image in (cv2.cvtColor(portrait, cv2.COLOR_BGR2GRAY), cv2.cvtColor(portrait, cv2.COLOR_BGR2BGRA)):
        assert len(models.detector(detector).detect(image, settings)) == 1


def test_the_pipeline_uses_the_chosen_detector(models):
    group = read_photo("crowd_of_24.png")
    counts = {}
    for name in ("yunet", "blazeface-full"):
        settings = PipelineSettings(detection=replace(PHOTO, detector=name), max_faces=50)
        counts[name] = len(analyze_frame(group, models, settings).faces)
    assert counts == {"yunet": 24, "blazeface-full": 14}
    with pytest.raises(ValueError, match="unknown face detector 'nope'"):
        models.detector("nope")


def test_blazeface_anchor_grids_are_mediapipes():
    short, full = anchor_centres(SHORT_RANGE), anchor_centres(FULL_RANGE)
    assert short.shape == (896, 2) and full.shape == (2304, 2)
    # Short range: 16x16 cells of 2 anchors, then 8x8 cells of 6 (three layers of stride 16 share the grid).
    np.testing.assert_allclose(short[:2], [[0.5 / 16, 0.5 / 16]] * 2)
    np.testing.assert_allclose(short[512:518], [[0.5 / 8, 0.5 / 8]] * 6)
    np.testing.assert_allclose(full[:2], [[0.5 / 48, 0.5 / 48], [1.5 / 48, 0.5 / 48]])


def test_weighted_suppression_merges_overlapping_boxes_by_score():
    boxes = np.array([[0, 0, 10, 10], [2, 0, 12, 10], [50, 50, 60, 60]], np.float64)
    merged = weighted_suppression(boxes, np.array([0.9, 0.6, 0.8]))
    np.testing.assert_allclose(merged, [[0.8, 0, 10.8, 10], [50, 50, 60, 60]])


def test_threads_share_a_detector_and_get_the_same_answer(models):
    image = read_photo("group_of_six.png")
    settings = replace(PHOTO, detector="blazeface-full")
    expected = models.detector("blazeface-full").detect(image, settings)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda _: models.detector("blazeface-full").detect(image, settings), range(16)))
    assert all(np.array_equal(found, expected) for found in results)


def test_model_files_are_the_recorded_ones():
    table = (DETECTOR_DIR / "README.md").read_text()
    recorded = dict(re.findall(r"^\| (\S+\.(?:tflite|onnx)) \|.*\| ([0-9a-f]{64}) \|$", table, re.M))
    assert set(recorded) == set(MODEL_FILES)
    for name, digest in recorded.items():
        assert hashlib.sha256((DETECTOR_DIR / name).read_bytes()).hexdigest() == digest, name


@pytest.mark.parametrize("file", MODEL_FILES)
@pytest.mark.parametrize("damage", ["missing", "truncated"])
def test_a_missing_or_broken_detector_file_is_an_error_at_start_up(tmp_path, file, damage):
    for other in DETECTOR_DIR.glob("face_detection_*"):
        (tmp_path / other.name).write_bytes(other.read_bytes())
    if damage == "missing":
        (tmp_path / file).unlink()
    else:
        (tmp_path / file).write_bytes((DETECTOR_DIR / file).read_bytes()[:2048])
    with pytest.raises(DetectorError, match=re.escape(file)):
        load_models(BUNDLED_TFLITE, detector_dir=tmp_path)


def test_the_server_default_comes_from_the_environment():
    assert default_detector({}) == "haar"
    assert default_detector({"EMOTION_DETECTOR": "yunet"}) == "yunet"
    with pytest.raises(ValueError, match="EMOTION_DETECTOR is 'fast'; choose one of haar, blazeface"):
        default_detector({"EMOTION_DETECTOR": "fast"})
    with pytest.raises(ValueError, match="EMOTION_DETECTOR"):
        default_detector({"EMOTION_DETECTOR": ["yunet"]})  # a list in secrets.toml


@pytest.mark.parametrize(("detector", "count"), [("haar", 2), ("blazeface-full", 3), ("yunet", 3)])
def test_command_line_detector_choice(detector, count, tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "emotion.annotate", str(photo_file("one_turned.png", tmp_path)), "--json", "--detector", detector],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert len(json.loads(result.stdout)["faces"]) == count


def test_the_face_finder_help_quotes_what_was_measured_at_the_photo_pages_own_minimum_face():
    from emotion.presets import PHOTO_MIN_FACE
    from webapp.widgets import detector_help

    recorded = json.loads((DETECTOR_DIR / "measured.json").read_text())["photo_faces"]
    assert all(f"min_face_{PHOTO_MIN_FACE}" in recorded[name] for name in DETECTORS), "re-record bench/detector_quality.py"
    at = {f"min_face_{PHOTO_MIN_FACE}": {"photos": 15, "exactly_right": 11}, "min_face_999": {"photos": 15, "exactly_right": 3}}
    shown = detector_help({"photo_faces": {name: at for name in DETECTORS}})
    assert shown.count("11 of 15") == len(DETECTORS) and "3 of 15" not in shown
