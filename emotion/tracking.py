"""Following faces from frame to frame so that their labels do not flicker.

Each face is matched to the previous frame's faces by box overlap (IoU); a matched face keeps
its id and shows the mean of its last few probability vectors instead of the raw one.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

import numpy as np


def iou(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Intersection over union of every box in `a` (N, 4) with every box in `b` (M, 4), as x, y, w, h."""
    a = a.astype(np.float64)[:, None, :]
    b = b.astype(np.float64)[None, :, :]
    left = np.maximum(a[..., 0], b[..., 0])
    top = np.maximum(a[..., 1], b[..., 1])
    right = np.minimum(a[..., 0] + a[..., 2], b[..., 0] + b[..., 2])
    bottom = np.minimum(a[..., 1] + a[..., 3], b[..., 1] + b[..., 3])
    inter = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
    union = a[..., 2] * a[..., 3] + b[..., 2] * b[..., 3] - inter
    return np.where(union > 0, inter / np.maximum(union, 1e-9), 0.0)


@dataclass
class _Track:
    box: np.ndarray
    history: deque
    missed: int = 0


@dataclass
class FaceTracker:
    window: int = 5  # frames averaged: about a third of a second at 15 fps
    min_iou: float = 0.3
    max_missed: int = 5  # frames a face may vanish (a blink of the detector) and keep its id
    _tracks: dict[int, _Track] = field(default_factory=dict)
    _next_id: int = 0

    def update(self, boxes: np.ndarray, probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
        """Track ids and smoothed probabilities for this frame's faces, in the order given."""
        ids = list(self._tracks)
        overlaps = iou(boxes, np.stack([self._tracks[i].box for i in ids])) if ids and len(boxes) else np.zeros((len(boxes), 0))
        assigned: list[int] = [-1] * len(boxes)
        # Greedy matching, best overlap first: plenty for the few faces of a webcam frame. Ties go to
        # the earlier face, then the older track (a stable sort), as the browser's tracker.js does.
        for flat in np.argsort(-overlaps, axis=None, kind="stable"):
            face, track = np.unravel_index(flat, overlaps.shape)
            if overlaps[face, track] < self.min_iou:
                break
            if assigned[face] == -1 and ids[track] not in assigned:
                assigned[face] = ids[track]
        smoothed = np.empty_like(probabilities)
        for face, track_id in enumerate(assigned):
            if track_id == -1:
                track_id = assigned[face] = self._next_id
                self._next_id += 1
                self._tracks[track_id] = _Track(boxes[face], deque(maxlen=self.window))
            track = self._tracks[track_id]
            track.box, track.missed = boxes[face], 0
            track.history.append(probabilities[face])
            smoothed[face] = np.mean(track.history, axis=0)
        for track_id in [i for i in self._tracks if i not in assigned]:
            self._tracks[track_id].missed += 1
            if self._tracks[track_id].missed > self.max_missed:
                del self._tracks[track_id]
        return assigned, smoothed
