"""Finding faces: several detectors behind one small interface, frame in, boxes out.

Every detector returns boxes (N, 4) as x, y, w, h in the frame's pixels, inside the frame, the
largest first, framed like the Haar cascade's boxes (the framing the emotion CNN's crops expect).

    haar            OpenCV's Haar cascade (haar.py): the design's default for live video
    blazeface       MediaPipe BlazeFace, short range (blazeface.py): a face at its own webcam
    blazeface-full  BlazeFace, full range: groups and faces further away
    yunet           YuNet on OpenCV's FaceDetectorYN (yunet.py): photos, groups, turned faces

bench/README.md measures each one's speed and the faces it finds on the shared photos.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

DETECTOR_DIR = Path(__file__).resolve().parents[2] / "model" / "detectors"
MEASURED_FIGURES = DETECTOR_DIR / "measured.json"  # written by bench/detector_quality.py and bench/pipeline_latency.py


@dataclass(frozen=True)
class DetectionSettings:
    scale_factor: float = 1.2  # Haar: image pyramid step; smaller finds more faces, slower
    min_neighbors: int = 5  # Haar: overlapping hits needed; higher means fewer false faces
    # Smallest face side in pixels of the full frame, for every detector. Live video's default: a
    # student up to about 1.2 m from a 640x480 webcam; smaller faces cost the cascade most.
    min_face: int = 70
    detect_width: int | None = 320  # Haar and YuNet: wider frames are searched on a copy about this wide; None: never
    detector: str = "haar"  # one of DETECTORS
    min_score: float | None = None  # neural detectors: the confidence a face needs; None: the model's own


class DetectorError(FileNotFoundError):
    """A detector's model file is missing or unusable; the message names the file.

    A FileNotFoundError, as the cascade's error always was, so callers catch one kind for every detector.
    """


class FaceDetector(Protocol):
    """What the pipeline needs of a detector. `colour`: it wants the BGR frame, not its grey copy."""

    colour: bool

    def detect(self, image: np.ndarray, settings: DetectionSettings = ...) -> np.ndarray: ...


DETECTORS: dict[str, str] = {
    "haar": "Haar cascade",
    "blazeface": "BlazeFace (short range)",
    "blazeface-full": "BlazeFace (full range)",
    "yunet": "YuNet",
}


def default_detector(settings: Mapping[str, Any]) -> str:
    """The server's and the command line's face finder: EMOTION_DETECTOR (emotion.settings), else the Haar cascade."""
    name = settings.get("EMOTION_DETECTOR") or "haar"
    if not isinstance(name, str) or name not in DETECTORS:
        raise ValueError(f"EMOTION_DETECTOR is {name!r}; choose one of {', '.join(DETECTORS)}")
    return name


@dataclass(frozen=True)
class BoxFit:
    """How a detector's boxes map onto the cascade's framing: each side scaled, the centre moved down
    by a share of the height. Fitted on the shared photos by bench/detector_quality.py."""

    width: float = 1.0
    height: float = 1.0
    centre_down: float = 0.0


def frame_boxes(corners: np.ndarray, fit: BoxFit, frame_width: int, frame_height: int, min_face: int) -> np.ndarray:
    """Boxes (N, 4) x0, y0, x1, y1 (floats, frame pixels) as the detectors return them: refitted, inside
    the frame, whole pixels, at least min_face on their shorter side, largest first."""
    corners = np.asarray(corners, dtype=np.float64).reshape(-1, 4)
    if len(corners) == 0:
        return np.empty((0, 4), dtype=np.int32)
    centre_x = (corners[:, 0] + corners[:, 2]) / 2
    centre_y = (corners[:, 1] + corners[:, 3]) / 2
    width = (corners[:, 2] - corners[:, 0]) * fit.width
    height = (corners[:, 3] - corners[:, 1]) * fit.height
    centre_y = centre_y + fit.centre_down * height
    x0 = np.clip(np.round(centre_x - width / 2), 0, frame_width)
    y0 = np.clip(np.round(centre_y - height / 2), 0, frame_height)
    x1 = np.clip(np.round(centre_x + width / 2), 0, frame_width)
    y1 = np.clip(np.round(centre_y + height / 2), 0, frame_height)
    boxes = np.stack([x0, y0, x1 - x0, y1 - y0], axis=1).astype(np.int32)
    boxes = boxes[np.minimum(boxes[:, 2], boxes[:, 3]) >= max(1, min_face)]
    return largest_first(boxes)


def largest_first(boxes: np.ndarray) -> np.ndarray:
    return boxes[np.argsort(-(boxes[:, 2] * boxes[:, 3]), kind="stable")]


def load_detectors(cascade_path: str | Path | None = None, model_dir: str | Path = DETECTOR_DIR) -> Mapping[str, FaceDetector]:
    """Every detector, loaded now, so that a missing or broken file is reported at start-up."""
    from emotion.detection.blazeface import FULL_RANGE, SHORT_RANGE, BlazeFaceDetector
    from emotion.detection.haar import DEFAULT_CASCADE, HaarDetector
    from emotion.detection.yunet import YuNetDetector

    model_dir = Path(model_dir)
    return {
        "haar": HaarDetector(cascade_path or DEFAULT_CASCADE),
        "blazeface": BlazeFaceDetector(model_dir, SHORT_RANGE),
        "blazeface-full": BlazeFaceDetector(model_dir, FULL_RANGE),
        "yunet": YuNetDetector(model_dir),
    }
