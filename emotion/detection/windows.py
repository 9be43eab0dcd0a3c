"""Searching a live stream's frames where the faces were, and the whole frame only every few frames.

A face moves little from one webcam frame to the next, so the Haar cascade, the
Live page's face finder, need not search the whole frame each time: between full searches it searches
a window around each face of the last frame (the box and a margin for motion, at the full search's
scale, and only at window sizes near the face's: emotion/detection/haar.py's NEAR_SIZES). A full search
comes every `full_every` frames, and at once when a window search loses a face. A newcomer elsewhere in
the frame is found by the next full search, and so is the first face in a frame where none was: an
empty frame is searched whole every `full_every` frames, not in every one; so is a frame of another size
(a turned phone) or one searched with other settings. bench/moving_faces.py measures the boxes against a
full search in every frame.

A face whose pixels have not changed since a search found it (`unchanged`: a thumbnail of its box, each
cell within `UNCHANGED_LEVELS` of then) keeps its box without a window search: the cascade would find it
there again. A camera's noise stays well inside that bound, and a move of a pixel goes outside it. Without
the rule, a still face that the cascade finds in the full frame and not in a window around it (its hits
depend on where the window's scan grid falls) brought a full search in every frame.

The full search that finds newcomers is the cascade's dearest work (a profile of the server at four streams
put it at about a third of the server's time): where nothing in the whole frame has changed since the last
full search (its thumbnail, `FRAME_THUMBNAIL` cells a side, within `UNCHANGED_LEVELS`), nobody can have come,
and the search due is skipped, `STILL_FRAME_SKIPS` times in a row at most: a still scene is searched whole
every second rather than three times a second, which still gives a face the cascade missed a new chance.

A neural face finder (BlazeFace, YuNet) costs the same whatever part of the frame it reads, so it has no
window search: between its full searches, every `full_every` frames, a frame in which every face of the
last frame is unchanged keeps their boxes, and any other frame is searched whole, as is every frame while a
face that a search missed is remembered (it may be moving). A newcomer is found by the next full search,
as with the cascade. The browser's pipeline (static/ondevice/pipeline.js, StillFaces)
runs BlazeFace by the same rule, with the same constants.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from emotion.detection import DetectionSettings, FaceDetector, largest_first
from emotion.tracking import iou

FULL_EVERY = 5  # frames: a third of a second at 15 fps before a new face is found
MARGIN = 0.25  # of a face's side, on each side of its box: a face at a webcam moves far less in a frame
REMEMBER = 2  # frames a face missed by the cascade keeps its window
THUMBNAIL = 8  # cells a side of the thumbnail that tells whether a face's pixels changed
FRAME_THUMBNAIL = 32  # cells a side of the whole frame's thumbnail: a newcomer of the minimum face covers several
STILL_FRAME_SKIPS = 2  # full searches due that an unchanged frame may skip in a row: one search a second at 15 fps
# Of 255: a webcam's noise (4 levels) moves a cell of a face 60 px or larger by under 2, a face moved by a pixel,
# by 5 or more. A smaller face's cells average less of the noise: it is more often searched, never kept wrongly.
UNCHANGED_LEVELS = 3.0


def windows_around(boxes: np.ndarray, width: int, height: int, margin: float = MARGIN) -> np.ndarray:
    """Each box grown by `margin` of its side on every side, cut at the frame's edges (x, y, w, h)."""
    grow = np.round(boxes[:, 2:] * margin).astype(np.int32)
    corner = np.maximum(boxes[:, :2] - grow, 0)
    far = np.minimum(boxes[:, :2] + boxes[:, 2:] + grow, (width, height))
    return np.concatenate([corner, far - corner], axis=1).astype(np.int32)


def thumbnail(image: np.ndarray, box: np.ndarray, side: int = THUMBNAIL) -> np.ndarray:
    """The box's pixels (its part inside the frame) averaged into side x side cells, per channel, as floats;
    NaN where nothing of it is in the frame, which no thumbnail equals."""
    x, y, w, h = (int(v) for v in box)
    part = image[max(y, 0) : max(y + h, 0), max(x, 0) : max(x + w, 0)]
    if not part.size:
        return np.full((side, side, *image.shape[2:]), np.nan, np.float32)
    return cv2.resize(part, (side, side), interpolation=cv2.INTER_AREA).astype(np.float32)


def unchanged(image: np.ndarray, box: np.ndarray, before: np.ndarray, levels: float = UNCHANGED_LEVELS) -> bool:
    """Whether the box's thumbnail in `image` is `before` (its thumbnail when found), every cell within `levels`."""
    return bool(np.abs(thumbnail(image, box, before.shape[0]) - before).max() <= levels)


def whole(image: np.ndarray) -> np.ndarray:
    """The frame's own box (x, y, w, h), for its thumbnail."""
    return np.array([0, 0, image.shape[1], image.shape[0]])


@dataclass
class _Face:
    """A face of the recent frames: its box, the frames since a search or a still check last saw it, and its
    thumbnail when a search last found it (the still check compares against that frame, not the last)."""

    box: np.ndarray
    age: int
    found_as: np.ndarray

    def still_in(self, image: np.ndarray) -> bool:
        """Seen in the last frame, and its pixels in `image` unchanged since a search found it."""
        return self.age == 0 and unchanged(image, self.box, self.found_as)


@dataclass
class WindowedSearch:
    """One stream's face search: full every `full_every` frames, windows around the recent faces between.

    A face the cascade misses in one frame (it flickers on turned or dim faces) keeps its window for
    `remember` frames, so that the next frame looks for it again rather than waiting for a full search.
    A face seen in the last frame whose pixels are `unchanged` since a search found it keeps its box
    without a search. A face finder without a window search runs in full in a frame where any face changed.
    """

    full_every: int = FULL_EVERY
    margin: float = MARGIN
    remember: int = REMEMBER
    still_frame_skips: int = STILL_FRAME_SKIPS
    full_searches: int = 0  # counted, for the benchmark and the tests
    window_searches: int = 0  # windows searched, counted as above
    _recent: list[_Face] = field(default_factory=list)
    _since_full: int | None = None  # frames since the last full search; None: none yet
    _detector: FaceDetector | None = None  # the face finder of the last frame: another one starts afresh
    _searched_in: tuple[int, ...] = ()  # the frame size of the last full search: its boxes are kept only in a frame this size
    _searched_with: DetectionSettings | None = None  # the settings of the last full search: others search afresh
    _frame_found_as: np.ndarray | None = None  # the whole frame's thumbnail at the last full search
    _skipped: int = 0  # full searches due skipped in a row, the frame unchanged

    def detect(self, detector: FaceDetector, image: np.ndarray, settings: DetectionSettings) -> np.ndarray:
        """This frame's face boxes, largest first, as `detector.detect` gives them."""
        if detector is not self._detector:
            self._detector, self._recent, self._since_full = detector, [], None
        if image.shape[:2] != self._searched_in:  # a turned phone, another resolution: the boxes were of another frame
            self._recent, self._since_full = [], None
        near = getattr(detector, "detect_near", None)
        if self._since_full is None or settings != self._searched_with:
            return self._full(detector, image, settings)
        if self._since_full + 1 < self.full_every:
            self._since_full += 1
        elif near is not None and self._skipped < self.still_frame_skips and self._frame_found_as is not None \
                and unchanged(image, whole(image), self._frame_found_as):
            self._since_full, self._skipped = 0, self._skipped + 1  # nothing in view changed: nobody came
        else:
            return self._full(detector, image, settings)
        if near is None:  # no window search: the last frame's faces kept where none changed and none was missed
            if all(face.still_in(image) for face in self._recent):
                return np.array([face.box for face in self._recent], np.int32).reshape(-1, 4)
            return self._full(detector, image, settings)
        if not self._recent:  # nobody in view: the next full search finds a newcomer, as it would beside a face
            return np.empty((0, 4), np.int32)
        is_still = [face.still_in(image) for face in self._recent]
        still_faces = [face for face, kept in zip(self._recent, is_still) if kept]
        looked_for = [face for face, kept in zip(self._recent, is_still) if not kept]
        boxes = np.empty((0, 4), np.int32)
        if looked_for:
            recent = np.array([face.box for face in looked_for], np.int32)
            height, width = image.shape[:2]
            boxes = near(image, windows_around(recent, width, height, self.margin), settings, recent[:, 2:].max(axis=1))
            self.window_searches += len(looked_for)
            last_seen = np.array([face.box for face in looked_for if face.age == 0], np.int32).reshape(-1, 4)
            if len(last_seen) and (not len(boxes) or iou(last_seen, boxes).max(axis=1).min() < 0.3):
                return self._full(detector, image, settings)  # a face of the last frame lost: look everywhere, now
            if still_faces and len(boxes):  # a window that reached over a still face found it again: once
                boxes = boxes[iou(boxes, np.array([face.box for face in still_faces])).max(axis=1) < 0.3]
        self._remember(image, boxes, still_faces, looked_for)
        return largest_first(np.concatenate([np.array([face.box for face in still_faces], np.int32).reshape(-1, 4), boxes]))

    def _full(self, detector: FaceDetector, image: np.ndarray, settings: DetectionSettings) -> np.ndarray:
        boxes = detector.detect(image, settings)
        self._since_full, self._searched_in, self._searched_with, self._skipped = 0, image.shape[:2], settings, 0
        if getattr(detector, "detect_near", None) is not None:  # only the cascade's searches are skipped
            self._frame_found_as = thumbnail(image, whole(image), FRAME_THUMBNAIL)
        self.full_searches += 1
        self._remember(image, boxes, [], self._recent)
        return boxes

    def _remember(self, image: np.ndarray, found: np.ndarray, still_faces: list[_Face], looked_for: list[_Face]) -> None:
        """This frame's faces: those found (with a new thumbnail), those still (with their old one), and those
        looked for and missed for fewer than `remember` frames (their windows are searched again)."""
        seen = np.concatenate([found, np.array([face.box for face in still_faces], np.int32).reshape(-1, 4)])
        recent = [_Face(box, 0, thumbnail(image, box)) for box in found] + [_Face(f.box, 0, f.found_as) for f in still_faces]
        for face in looked_for:
            if face.age < self.remember and (not len(seen) or iou(face.box[None], seen).max() < 0.3):
                recent.append(_Face(face.box, face.age + 1, face.found_as))
        self._recent = recent
