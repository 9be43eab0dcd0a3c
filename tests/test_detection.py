"""Haar detection on the shrunk copy live video uses: the minimum face size set is the one searched."""

from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from emotion.detection import DetectionSettings
from emotion.detection.haar import CASCADE_WINDOW, detection_scale
from tests.support.files import read_photo

MIN_FACE_60 = DetectionSettings(min_face=60)


def on_a_pyramid_level(size: float, scale_factor: float) -> bool:
    level = math.log(size / CASCADE_WINDOW) / math.log(scale_factor)
    return abs(level - round(level)) < 1e-9


@pytest.mark.parametrize("scale_factor", [1.1, 1.2, 1.3])
@pytest.mark.parametrize("min_face", [40, 60, 100, 240])
def test_the_minimum_face_is_one_of_the_window_sizes_searched(scale_factor, min_face):
    settings = DetectionSettings(scale_factor=scale_factor, min_face=min_face)
    scale = detection_scale(640, settings)
    assert on_a_pyramid_level(min_face * scale, scale_factor)
    # the copy is as near 320 px wide as the pyramid allows, or larger where the minimum face needs it
    assert 320 / scale_factor <= 640 * scale <= max(320 * scale_factor, 640 * CASCADE_WINDOW / min_face)


def test_small_frames_and_tiny_minimum_faces_are_never_enlarged():
    assert detection_scale(320, MIN_FACE_60) == 1.0
    assert detection_scale(640, DetectionSettings(min_face=20)) == 1.0
    assert detection_scale(640, DetectionSettings(detect_width=None)) == 1.0


def face_of_side(side: int, models) -> np.ndarray:
    """A grey 640x480 frame holding one real face whose detected box is about `side` pixels."""
    portrait = cv2.cvtColor(read_photo("facerec_obama.jpg"), cv2.COLOR_BGR2GRAY)
    (x, y, w, h) = models.detector().detect(portrait, DetectionSettings(1.1, 5, 30, None))[0]
    crop = portrait[max(0, y - h // 2) : y + h + h // 2, max(0, x - w // 2) : x + w + w // 2]
    zoom = side / w
    crop = cv2.resize(crop, None, fx=zoom, fy=zoom, interpolation=cv2.INTER_AREA)
    frame = np.full((480, 640), 90, np.uint8)
    frame[100 : 100 + crop.shape[0], 200 : 200 + crop.shape[1]] = crop
    return frame


def test_faces_just_above_the_minimum_size_are_found(models):
    # A plain shrink to 320 px searched 69 px windows and up for a 60 px minimum: it found none of
    # these faces (the first at 72 px). Haar misses the odd size, so most, not all, are asked for.
    sides = range(58, 72, 2)
    found = [models.detector().detect(face_of_side(side, models), MIN_FACE_60) for side in sides]
    assert sum(len(boxes) == 1 for boxes in found) >= 4
    assert all(0.9 * side <= boxes[0][2] <= 1.3 * side for side, boxes in zip(sides, found) if len(boxes))
