"""Searching a live stream's frames where the faces were, and the whole frame only every few frames.

A face moves little from one webcam frame to the next, so the Haar cascade, the
Live page's face finder, need not search the whole frame each time: between full searches it searches
a window around each face of the last frame (the box and a margin for motion, at the full search's
scale, and only at window sizes near the face's: emotion/detection/haar.py's NEAR_SIZES). A full search
comes every `full_every` frames, and at once when a window search loses a face. A newcomer elsewhere in
the frame is found by the next full search, and so is the first face in a frame where none was: an
empty frame is searched whole every `full_every` frames, not in every one. bench/moving_faces.py
measures the boxes against a full search in every frame.

A neural face finder (BlazeFace, YuNet) costs the same whatever part of the frame it reads, so it has no
window search; it is run every other frame while nobody moves instead: when its last two searches found
the same faces in the same places (`still`), the next frame keeps the last one's boxes. A face that starts
to move is a frame behind for one frame at most. The browser's pipeline (static/ondevice/pipeline.js)
runs BlazeFace by the same rule, with the same constant.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from emotion.detection import DetectionSettings, FaceDetector
from emotion.tracking import iou

FULL_EVERY = 5  # frames: a third of a second at 15 fps before a new face is found
MARGIN = 0.25  # of a face's side, on each side of its box: a face at a webcam moves far less in a frame
REMEMBER = 2  # frames a face missed by the cascade keeps its window
STILL_IOU = 0.9  # a box that overlaps one of the search before by this much: that face has not moved


def windows_around(boxes: np.ndarray, width: int, height: int, margin: float = MARGIN) -> np.ndarray:
    """Each box grown by `margin` of its side on every side, cut at the frame's edges (x, y, w, h)."""
    grow = np.round(boxes[:, 2:] * margin).astype(np.int32)
    corner = np.maximum(boxes[:, :2] - grow, 0)
    far = np.minimum(boxes[:, :2] + boxes[:, 2:] + grow, (width, height))
    return np.concatenate([corner, far - corner], axis=1).astype(np.int32)


def still(boxes: np.ndarray, before: np.ndarray, still_iou: float = STILL_IOU) -> bool:
    """As many faces as before, each where one was (IoU at least `still_iou`): nobody came, went or moved."""
    return len(boxes) == len(before) and (not len(boxes) or bool(iou(boxes, before).max(axis=1).min() >= still_iou))


@dataclass
class WindowedSearch:
    """One stream's face search: full every `full_every` frames, windows around the recent faces between.

    A face the cascade misses in one frame (it flickers on turned or dim faces) keeps its window for
    `remember` frames, so that the next frame looks for it again rather than waiting for a full search.
    A face finder without a window search is run in full, but only every other frame while its last two
    searches were `still`.
    """

    full_every: int = FULL_EVERY
    margin: float = MARGIN
    remember: int = REMEMBER
    full_searches: int = 0  # counted, for the benchmark
    _recent: list[tuple[np.ndarray, int]] = field(default_factory=list)  # (box, frames since it was found)
    _since_full: int | None = None  # frames since the last full search; None: none yet
    _detector: FaceDetector | None = None  # the face finder of the last frame: another one starts afresh
    _searched: list[np.ndarray] = field(default_factory=list)  # the last two full searches' boxes, oldest first
    _searched_in: tuple[int, ...] = ()  # the frame size of the last full search: boxes are kept only in one as large
    _kept: bool = False  # the last frame kept the boxes of the frame before

    def detect(self, detector: FaceDetector, image: np.ndarray, settings: DetectionSettings) -> np.ndarray:
        """This frame's face boxes, largest first, as `detector.detect` gives them."""
        if detector is not self._detector:
            self._detector, self._searched, self._recent, self._since_full = detector, [], [], None
        height, width = image.shape[:2]
        recent = np.array([box for box, _ in self._recent], np.int32).reshape(-1, 4)
        windows = windows_around(recent, width, height, self.margin)
        near = getattr(detector, "detect_near", None)
        same_size = image.shape[:2] == self._searched_in
        if near is None and same_size and not self._kept and len(self._searched) == 2 and still(*reversed(self._searched)):
            self._kept = True  # nobody moved: this frame keeps the boxes of the last
            return self._searched[-1]
        if near is None or self._since_full is None or self._since_full + 1 >= self.full_every:
            return self._full(detector, image, settings)
        if not len(windows):  # nobody in view: the next full search finds a newcomer, as it would beside a face
            self._since_full += 1
            return recent
        boxes = near(image, windows, settings, recent[:, 2:].max(axis=1))
        last_seen = np.array([box for box, age in self._recent if age == 0], np.int32).reshape(-1, 4)
        if len(last_seen) and (not len(boxes) or iou(last_seen, boxes).max(axis=1).min() < 0.3):
            return self._full(detector, image, settings)  # a face of the last frame lost: look everywhere, now
        self._since_full += 1
        self._remember(boxes)
        return boxes

    def _full(self, detector: FaceDetector, image: np.ndarray, settings: DetectionSettings) -> np.ndarray:
        boxes = detector.detect(image, settings)
        self._since_full, self._kept, self._searched_in = 0, False, image.shape[:2]
        self._searched = [*self._searched[-1:], boxes]
        self.full_searches += 1
        self._remember(boxes)
        return boxes

    def _remember(self, boxes: np.ndarray) -> None:
        kept = [(box, 0) for box in boxes]
        for box, age in self._recent:
            unmatched = not len(boxes) or iou(box[None], boxes).max() < 0.3
            if unmatched and age < self.remember:
                kept.append((box, age + 1))
        self._recent = kept
