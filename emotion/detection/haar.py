"""Face detection with OpenCV's Haar cascade, run on a downscaled grey frame for speed."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from emotion.detection import DetectionSettings, DetectorError, largest_first
from emotion.preprocess import to_gray
from emotion.tracking import iou

DEFAULT_CASCADE = Path(__file__).resolve().parents[2] / "haarcascade_frontalface_default.xml"
CASCADE_WINDOW = 24  # side of the frontal-face cascade's window: the smallest face it can see
# Pyramid steps either side of a known face's size that a search near it tries: the cascade's hits on
# one face, which groupRectangles merges, lie within about one step of its size, and a face at a
# webcam does not grow or shrink by a step (scale_factor) from one frame to the next. A face that
# does is lost in its window, which brings a full search at once (windows.py).
NEAR_SIZES = 1


def detection_scale(width: int, settings: DetectionSettings) -> float:
    """How much to shrink a frame before searching it: about detect_width wide, but exactly so that
    the minimum face is one of the window sizes the cascade tries (24 * scale_factor**k pixels).

    A plain shrink to 320 pixels put a 60 px minimum between two window sizes, so the smallest
    face searched was 69 px (and 48 px for a 40 px minimum). Where the minimum face needs a larger
    copy than detect_width, the copy is larger (never larger than the frame).
    """
    if not settings.detect_width or width <= settings.detect_width:
        return 1.0
    limit = settings.detect_width / width
    scale = CASCADE_WINDOW / settings.min_face
    while scale * settings.scale_factor <= limit:
        scale *= settings.scale_factor
    if scale < limit and scale * settings.scale_factor / limit < limit / scale:
        scale *= settings.scale_factor  # the larger neighbour is the nearer one
    return min(1.0, scale)


class HaarDetector:
    """The Haar cascade, one instance per thread.

    detectMultiScale is not const in OpenCV (opencv/opencv#4287): one cascade must not serve two
    threads at once. Each session's video thread gets its own copy, loaded on first use.
    """

    colour = False  # the cascade searches grey levels

    def __init__(self, cascade_path: str | Path = DEFAULT_CASCADE) -> None:
        self.cascade_path = str(cascade_path)
        self._local = threading.local()
        self.thread_cascade()  # load now, so that a missing or broken file is reported at start-up

    def thread_cascade(self) -> cv2.CascadeClassifier:
        """This thread's cascade."""
        cascade = getattr(self._local, "cascade", None)
        if cascade is None:
            cascade = cv2.CascadeClassifier(self.cascade_path)
            if cascade.empty():
                raise DetectorError(f"could not load the Haar cascade {self.cascade_path}")
            self._local.cascade = cascade
        return cascade

    def detect(self, image: np.ndarray, settings: DetectionSettings = DetectionSettings()) -> np.ndarray:
        """Face boxes (N, 4) as x, y, w, h in the coordinates of `image` (grey or BGR), largest first."""
        small, scale = self._shrunk(image, settings)
        return largest_first(self._search(small, (0, 0, small.shape[1], small.shape[0]), scale, image.shape, settings))

    def detect_near(
        self, image: np.ndarray, regions: np.ndarray, settings: DetectionSettings = DetectionSettings(),
        sides: np.ndarray | None = None,
    ) -> np.ndarray:
        """Face boxes found inside `regions` (x, y, w, h each) only, searched in the whole search's shrunk
        copy of the frame, so that a face is found there as a full search finds it; largest first, overlaps merged.

        With `sides` (the side of the face last seen in each region, frame pixels), a region is searched
        only at the cascade's window sizes within `NEAR_SIZES` pyramid steps of it: a face's size changes
        little between two webcam frames, and the small windows are most of a search's work.
        """
        small, scale = self._shrunk(image, settings)
        found = []
        for index, (x, y, w, h) in enumerate(np.asarray(regions, np.float64)):
            left, top = int(x * scale), int(y * scale)  # the region in the shrunk copy's pixels, grown to whole ones
            right, bottom = min(small.shape[1], int(np.ceil((x + w) * scale))), min(small.shape[0], int(np.ceil((y + h) * scale)))
            sizes = None if sides is None else _near_sizes(float(sides[index]) * scale, settings.scale_factor)
            found.append(self._search(small, (left, top, right - left, bottom - top), scale, image.shape, settings, sizes))
        boxes = np.concatenate(found) if found else np.empty((0, 4), np.int32)
        return largest_first(_without_repeats(boxes))

    @staticmethod
    def _shrunk(image: np.ndarray, settings: DetectionSettings) -> tuple[np.ndarray, float]:
        gray = to_gray(image)
        height, width = gray.shape[:2]
        scale = detection_scale(width, settings)
        if scale < 1.0:
            gray = cv2.resize(gray, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=cv2.INTER_AREA)
        return gray, scale

    def _search(
        self, small: np.ndarray, region: tuple[int, int, int, int], scale: float, shape: tuple[int, ...],
        settings: DetectionSettings, sizes: tuple[int, int] | None = None,
    ) -> np.ndarray:
        """Faces in `region` of the shrunk copy, as boxes in the frame's pixels (`shape`: the frame's);
        `sizes`: the smallest and largest window side to try there (shrunk copy's pixels), else all."""
        left, top, width, height = region
        part = small[top : top + height, left : left + width]
        min_side = max(CASCADE_WINDOW, round(settings.min_face * scale))
        max_side = min(part.shape[:2])
        if sizes is not None:
            min_side, max_side = max(min_side, sizes[0]), min(max_side, sizes[1])
        if not _window_size_between(min_side, max_side, settings.scale_factor):  # none, or the part is too small
            return np.empty((0, 4), dtype=np.int32)  # (OpenCV would search the nearest size below the range)
        found = self.thread_cascade().detectMultiScale(
            part,
            scaleFactor=settings.scale_factor,
            minNeighbors=settings.min_neighbors,
            minSize=(min_side, min_side),
            maxSize=(max_side, max_side),
        )
        if len(found) == 0:
            return np.empty((0, 4), dtype=np.int32)
        offset = np.array([left, top, 0, 0], np.float64)
        boxes = np.round((np.asarray(found, dtype=np.float64) + offset) / scale).astype(np.int32)
        boxes[:, 2] = np.minimum(boxes[:, 2], shape[1] - boxes[:, 0])
        boxes[:, 3] = np.minimum(boxes[:, 3], shape[0] - boxes[:, 1])
        return boxes


def _window_size_between(smallest: int, largest: int, scale_factor: float) -> bool:
    """Whether a window side of the cascade (round(24 * scale_factor**k), as OpenCV rounds it) is in [smallest, largest]."""
    factor = 1.0
    while (side := round(CASCADE_WINDOW * factor)) <= largest:
        if side >= smallest:
            return True
        factor *= scale_factor
    return False


def _near_sizes(side: float, scale_factor: float) -> tuple[int, int]:
    """The window sides within NEAR_SIZES pyramid steps of a face's `side` (shrunk copy's pixels)."""
    reach = scale_factor**NEAR_SIZES
    return int(side / reach), int(np.ceil(side * reach))


def _without_repeats(boxes: np.ndarray, same_iou: float = 0.5) -> np.ndarray:
    """One box per face where two searched regions overlapped and both found it (the larger kept)."""
    kept: list[np.ndarray] = []
    for box in largest_first(boxes):
        if not kept or iou(box[None], np.stack(kept)).max() < same_iou:
            kept.append(box)
    return np.stack(kept) if kept else boxes
