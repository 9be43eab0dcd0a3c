"""The frame pipeline: one BGR frame in, the annotated frame and each face's emotion out.

The live stream, the photo mode and the command line all go through `analyze_frame`, so
they label faces identically and all of it can be tested without a browser.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emotion.classifier import DEFAULT_MODEL, EmotionClassifier
from emotion.detection import DETECTOR_DIR, DetectionSettings, FaceDetector, load_detectors
from emotion.detection.haar import DEFAULT_CASCADE
from emotion.detection.windows import WindowedSearch
from emotion.drawing import draw_faces
from emotion.labels import EMOTIONS
from emotion.preprocess import face_to_input, to_bgr, to_gray
from emotion.tracking import FaceTracker


@dataclass(frozen=True)
class PipelineSettings:
    detection: DetectionSettings = DetectionSettings()
    max_faces: int = 20  # bounds the work per frame; the largest faces are kept
    show_probabilities: bool = False
    draw: bool = True
    number_faces: bool = False  # each face's number (its place in FrameAnalysis.faces, from 1) beside its box


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # x, y, w, h in frame pixels
    probabilities: np.ndarray  # (7,), FER-2013 order; smoothed when the face is tracked
    track_id: int | None = None

    @property
    def label(self) -> str:
        return EMOTIONS[int(np.argmax(self.probabilities))]

    @property
    def confidence(self) -> float:
        return float(np.max(self.probabilities))

    def to_json(self) -> dict:
        return {
            "box": [int(v) for v in self.box],
            "label": self.label,
            "confidence": round(self.confidence, 4),
            "probabilities": {name: round(float(p), 4) for name, p in zip(EMOTIONS, self.probabilities)},
        }


@dataclass(frozen=True)
class FrameAnalysis:
    image: np.ndarray  # the annotated frame (the input itself when drawing is off)
    faces: list[Face] = field(default_factory=list)
    skipped_faces: int = 0  # faces found beyond settings.max_faces, left unlabelled
    drawn: bool = False  # labels were drawn (on `image`, which may be the input itself: draw_in_place)
    classified_faces: int = 0  # faces the classifier read in this frame; the others kept their track's last reading

    def to_json(self) -> dict:
        return {"faces": [face.to_json() for face in self.faces], "skipped_faces": self.skipped_faces}


@dataclass(frozen=True)
class Models:
    detectors: Mapping[str, FaceDetector]  # by name, as emotion.detection.DETECTORS lists them
    classifier: EmotionClassifier

    def detector(self, name: str = "haar") -> FaceDetector:
        try:
            return self.detectors[name]
        except KeyError:
            raise ValueError(f"unknown face detector {name!r}; choose one of {', '.join(self.detectors)}") from None


def load_models(
    model_path: str | Path = DEFAULT_MODEL, cascade_path: str | Path = DEFAULT_CASCADE, detector_dir: str | Path = DETECTOR_DIR
) -> Models:
    """Every face detector and the emotion classifier; a missing or broken file raises ModelError or
    DetectorError (a FileNotFoundError) now, not at the first frame."""
    return Models(load_detectors(cascade_path, detector_dir), EmotionClassifier(model_path))


def crop_faces(gray: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """The network's inputs (N, 48, 48, 1) for the boxed faces of a grey frame."""
    if len(boxes) == 0:
        return np.empty((0, 48, 48, 1), np.float32)
    return np.stack([face_to_input(gray[y : y + h, x : x + w]) for x, y, w, h in boxes])


def analyze_frame(
    frame: np.ndarray,
    models: Models,
    settings: PipelineSettings = PipelineSettings(),
    tracker: FaceTracker | None = None,
    *,
    draw_in_place: bool = False,
    now_ms: float | None = None,
    search: WindowedSearch | None = None,
) -> FrameAnalysis:
    """Detect, classify (the faces due, in one batch) and draw. Without a tracker each frame stands alone
    and every face is classified; with one, the tracker says which faces are due at `now_ms` (the
    frame's time, ms; the monotonic clock by default) and the others keep their last reading. A live
    stream's `search` looks for faces where they were, and in the whole frame every few frames.

    The labels go on a copy of `frame` unless `draw_in_place` is set and it is BGR already (the
    live stream's own frame: a copy would cost a frame-sized allocation and its page faults, every frame).
    """
    gray = to_gray(frame)
    detector = models.detector(settings.detection.detector)
    searched = frame if detector.colour else gray
    if search is None:
        boxes = detector.detect(searched, settings.detection)
    else:
        boxes = search.detect(detector, searched, settings.detection)
    skipped = max(0, len(boxes) - settings.max_faces)
    boxes = boxes[: settings.max_faces]
    track_ids: Sequence[int | None] = [None] * len(boxes)
    if tracker is None:
        probabilities = models.classifier.predict(crop_faces(gray, boxes))
        classified = len(boxes)
    else:
        now = time.monotonic() * 1000 if now_ms is None else now_ms
        track_ids, due = tracker.match(boxes, now)
        fresh = models.classifier.predict(crop_faces(gray, boxes[np.array(due, bool)]))
        probabilities = tracker.smooth(track_ids, due, fresh, now)
        classified = len(fresh)
    faces = [
        Face((int(x), int(y), int(w), int(h)), probs, track_id)
        for (x, y, w, h), probs, track_id in zip(boxes, probabilities, track_ids)
    ]
    image = frame
    drawn = settings.draw and bool(faces)
    if drawn:
        image = frame if draw_in_place and frame.ndim == 3 and frame.shape[2] == 3 else to_bgr(frame)
        draw_faces(
            image,
            [(face.box, face.probabilities) for face in faces],
            show_probabilities=settings.show_probabilities,
            numbers=range(1, len(faces) + 1) if settings.number_faces else None,
        )
    return FrameAnalysis(image, faces, skipped, drawn, classified)
