"""640x480 benchmark frames built from the real photos in ../shared/data/faces/."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np

from emotion.detection import MEASURED_FIGURES, DetectionSettings
from emotion.detection.haar import HaarDetector
from tests.support.browser import letterbox
from tests.support.files import FACES


def photo(name: str) -> np.ndarray:
    image = cv2.imread(str(FACES / name))
    if image is None:
        raise SystemExit(f"missing {FACES / name}: the benchmarks use the shared photos beside the checkout")
    return image


def face_crops(names: tuple[str, ...], size: int) -> list[np.ndarray]:
    """Every face the cascade finds in the photos, with a margin, as size x size crops."""
    detector, crops = HaarDetector(), []
    for name in names:
        image = photo(name)
        for x, y, w, h in detector.detect(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), DetectionSettings(1.1, 6, 40, None)):
            m = w // 4
            crop = image[max(0, y - m) : y + h + m, max(0, x - m) : x + w + m]
            crops.append(cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA))
    return crops


def scenario_frames() -> dict[str, np.ndarray]:
    """Frames with 0, 1, 3 and 12 faces, as a webcam would send them."""
    crops = face_crops(("facerec_two_people.jpg", "dlib_2008_004176.jpg", "dlib_2008_007676.jpg", "dlib_2008_002470.jpg"), 160)
    grid = np.vstack([np.hstack(crops[row * 4 : row * 4 + 4]) for row in range(3)])
    return {
        # upside down: a real scene in which the cascade finds no face
        "0 faces": letterbox(photo("facerec_two_people.jpg"))[::-1].copy(),
        "1 face": letterbox(photo("facerec_obama.jpg")),
        "3 faces": letterbox(photo("dlib_2008_002506.jpg")),
        "12 faces": grid,
    }


def record(key: str, figures: dict, path: Path = MEASURED_FIGURES) -> None:
    """Keep `figures` under `key` in model/detectors/measured.json (the app's help text reads it)."""
    measured = json.loads(path.read_text()) if path.exists() else {}
    measured[key] = figures
    path.write_text(json.dumps(measured, indent=2) + "\n")
    print(f"recorded {key} in {path}")
