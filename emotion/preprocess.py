"""The one preprocessing step shared by training, evaluation and the app.

FER-2013 images are 48x48 grey levels; every face the app sees is turned into exactly that,
so the network meets the same kind of input it was trained on.
"""

from __future__ import annotations

import cv2
import numpy as np

from emotion.labels import EMOTIONS

# Kaggle's image folders by name, to FER-2013's index (their alphabetical order is not it).
FOLDER_TO_INDEX: dict[str, int] = {name.lower(): i for i, name in enumerate(EMOTIONS)}
INPUT_SIZE = 48


def to_gray(image: np.ndarray) -> np.ndarray:
    """Grey levels of a BGR, BGRA or already grey uint8 image."""
    if image.ndim == 2:
        return image
    if image.ndim == 3 and image.shape[2] == 1:
        return image[:, :, 0]
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    raise ValueError(f"expected a grey, BGR or BGRA image, got shape {image.shape}")


def to_bgr(image: np.ndarray) -> np.ndarray:
    """A BGR copy of a grey, BGR or BGRA uint8 image, to draw on in colour."""
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2BGR)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    return image.copy()


def face_to_input(face: np.ndarray) -> np.ndarray:
    """A face crop (any size, grey or BGR, uint8) as the network's 48x48x1 float32 input in [0, 1]."""
    gray = to_gray(face)
    if gray.shape != (INPUT_SIZE, INPUT_SIZE):
        shrinking = gray.shape[0] > INPUT_SIZE or gray.shape[1] > INPUT_SIZE
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        gray = cv2.resize(gray, (INPUT_SIZE, INPUT_SIZE), interpolation=interpolation)
    return (gray.astype(np.float32) / 255.0)[:, :, np.newaxis]
