"""Following faces from frame to frame so that their labels do not flicker, and reading each one's
emotion no more often than it can change.

Each face is matched to the previous frame's faces by box overlap (IoU); a matched face keeps
its id and shows the mean of its last few probability vectors instead of the raw one.

A live tracker (`classify_every_ms` > 0) also says which faces to classify: a new face at once, a
tracked face when its last reading is `classify_every_ms` old or when its box has moved off the box it
was read in (IoU below `moved_iou`); in between, the face's last reading stands for it. The faces whose
reading is old are renewed a share a frame, and at most `renew_per_frame` of them: a crowd's faces are read
in turn, each a little less often, rather than making each frame longer than the camera's. Real-time face
systems do the same (MediaPipe's pipelines, human's skipFrames/skipTime): a face's expression does not
change from one webcam frame to the next, and the smoothing window averages over several frames anyway.
static/ondevice/tracker.js applies the same rule with the same constants (browser_settings()).
"""

from __future__ import annotations

import math
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


# The live paths' rule (server and browser): chosen with bench/label_rate.py, whose figures are in bench/README.md.
CLASSIFY_EVERY_MS = 200.0
MOVED_IOU = 0.6
# Old readings renewed in one frame at most (new and moved faces are read besides): twelve faces in view are
# each read every six frames (400 ms at 15 fps), and a frame costs detection and two readings, not four.
RENEW_PER_FRAME = 2


@dataclass
class _Track:
    box: np.ndarray
    history: deque
    missed: int = 0
    last: np.ndarray | None = None  # its latest reading (probabilities), None until it is first classified
    read_box: np.ndarray | None = None  # where it was when last classified
    read_at: float = -math.inf  # when, in ms


@dataclass
class FaceTracker:
    window: int = 5  # frames averaged: about a third of a second at 15 fps
    min_iou: float = 0.3
    max_missed: int = 5  # frames a face may vanish (a blink of the detector) and keep its id
    classify_every_ms: float = 0.0  # 0: every face in every frame (photos, video files); live: CLASSIFY_EVERY_MS
    moved_iou: float = MOVED_IOU
    renew_per_frame: int = RENEW_PER_FRAME
    _tracks: dict[int, _Track] = field(default_factory=dict)
    _next_id: int = 0
    _last_frame_at: float | None = None  # `now_ms` of the last match

    def __post_init__(self) -> None:
        if self.renew_per_frame < 1:
            raise ValueError(f"renew_per_frame must be at least 1, not {self.renew_per_frame}: readings would never renew")

    def update(self, boxes: np.ndarray, probabilities: np.ndarray) -> tuple[list[int], np.ndarray]:
        """Track ids and smoothed probabilities for this frame's faces, in the order given, every face classified."""
        ids, _ = self.match(boxes)
        return ids, self.smooth(ids, [True] * len(ids), probabilities)

    def match(self, boxes: np.ndarray, now_ms: float = 0.0) -> tuple[list[int], list[bool]]:
        """Track ids for this frame's faces, in the order given, and which of them to classify now.

        A new face and a moved one are due at once. Of the faces whose reading is `classify_every_ms` old,
        only this frame's share is read, the oldest first: the faces times the time since the last frame
        over `classify_every_ms`, at least one and at most `renew_per_frame`. Many faces' readings so spread
        over the frames instead of falling due in the same frame, and a slow frame does not make the next
        one read more.
        """
        ids = self._assign(boxes)
        reasons = [self._due(self._tracks[track_id], now_ms) for track_id in ids]
        due = [reason in ("new", "moved") for reason in reasons]
        old = [face for face, reason in enumerate(reasons) if reason == "old"]
        if old:
            share = len(old)
            if self._last_frame_at is not None:
                share = max(1, math.ceil(len(ids) * (now_ms - self._last_frame_at) / self.classify_every_ms - 1e-9))
                share = min(share, self.renew_per_frame)
            for face in sorted(old, key=lambda face: self._tracks[ids[face]].read_at)[:share]:
                due[face] = True
        self._last_frame_at = now_ms
        return ids, due

    def smooth(self, ids: list[int], due: list[bool], probabilities: np.ndarray, now_ms: float = 0.0) -> np.ndarray:
        """Smoothed probabilities of the faces `match` gave ids; `probabilities` has a row for each face due, in order."""
        fresh = iter(probabilities)
        smoothed = np.empty((len(ids), probabilities.shape[-1]), probabilities.dtype)
        for face, track_id in enumerate(ids):
            track = self._tracks[track_id]
            if due[face]:
                track.last, track.read_box, track.read_at = next(fresh), track.box, now_ms
            if track.last is None:
                raise ValueError("a face's first frame must be classified: match() says it is due")
            track.history.append(track.last)
            smoothed[face] = np.mean(track.history, axis=0)
        return smoothed

    def _due(self, track: _Track, now_ms: float) -> str | None:
        """Why a face is due for a reading ("new", "moved", "old"), or None."""
        if track.last is None or track.read_box is None or self.classify_every_ms <= 0:
            return "new"
        if float(iou(track.box[None], track.read_box[None])[0, 0]) < self.moved_iou:
            return "moved"
        return "old" if now_ms - track.read_at >= self.classify_every_ms else None

    def _assign(self, boxes: np.ndarray) -> list[int]:
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
        for face, track_id in enumerate(assigned):
            if track_id == -1:
                track_id = assigned[face] = self._next_id
                self._next_id += 1
                self._tracks[track_id] = _Track(boxes[face], deque(maxlen=self.window))
            self._tracks[track_id].box, self._tracks[track_id].missed = boxes[face], 0
        for track_id in [i for i in self._tracks if i not in assigned]:
            self._tracks[track_id].missed += 1
            if self._tracks[track_id].missed > self.max_missed:
                del self._tracks[track_id]
        return assigned
