"""MediaPipe's BlazeFace on LiteRT: the same model the browser runs, decoded as MediaPipe's graph does.

The network sees the frame letterboxed into a square (128 px short range, 192 px full range), RGB
in [-1, 1]. Its outputs are SSD anchors: per anchor a box and six key points relative to the
anchor's centre, and a score. Decoding: sigmoid scores over the threshold, boxes moved to their
anchors, then weighted non-maximum suppression (each face the score-weighted mean of the boxes
that overlap the best one). The anchor grids and thresholds are MediaPipe's own
(face_detection_short_range_common.pbtxt, face_detection_full_range_common.pbtxt).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from emotion.detection import BoxFit, DetectionSettings, DetectorError, frame_boxes
from emotion.litert import new_interpreter

SUPPRESSION_IOU = 0.3  # MediaPipe's min_suppression_threshold
RAW_SCORE_LIMIT = 80.0  # MediaPipe clips raw scores at 100; 80 keeps the sigmoid finite in float32


@dataclass(frozen=True)
class BlazeFaceModel:
    file: str
    input_size: int
    strides: tuple[int, ...]  # one per anchor layer; layers of equal stride share a grid
    anchors_per_layer: int  # 2 where MediaPipe interpolates a second scale (short range), else 1
    min_score: float
    # BlazeFace's boxes are tighter than the cascade's and sit lower on the face.
    fit: BoxFit


SHORT_RANGE = BlazeFaceModel("face_detection_short_range.tflite", 128, (8, 16, 16, 16), 2, 0.5, BoxFit(1.058, 1.058, -0.12))
FULL_RANGE = BlazeFaceModel("face_detection_full_range.tflite", 192, (4,), 1, 0.6, BoxFit(1.1, 1.1, -0.06))


def anchor_centres(model: BlazeFaceModel) -> np.ndarray:
    """(N, 2) anchor centres, x and y in [0, 1], in the order of the model's outputs.

    MediaPipe's SsdAnchorsCalculator with fixed anchor sizes: consecutive layers of the same stride
    share one grid, each cell repeating its centre once per anchor of those layers.
    """
    centres = []
    layer = 0
    while layer < len(model.strides):
        stride, repeats = model.strides[layer], 0
        while layer < len(model.strides) and model.strides[layer] == stride:
            repeats += model.anchors_per_layer
            layer += 1
        cells = model.input_size // stride
        steps = (np.arange(cells, dtype=np.float64) + 0.5) / cells
        ys, xs = np.meshgrid(steps, steps, indexing="ij")
        centres.append(np.repeat(np.stack([xs.ravel(), ys.ravel()], axis=1), repeats, axis=0))
    return np.concatenate(centres)


def decode(
    raw_boxes: np.ndarray, raw_scores: np.ndarray, anchors: np.ndarray, input_size: int, min_score: float
) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (N, 4) as x0, y0, x1, y1 in the model's input pixels, with their scores, where the score is at least min_score."""
    scores = 1.0 / (1.0 + np.exp(-np.clip(raw_scores.reshape(-1).astype(np.float64), -RAW_SCORE_LIMIT, RAW_SCORE_LIMIT)))
    keep = scores >= min_score
    raw = raw_boxes.reshape(len(scores), -1)[keep].astype(np.float64)
    centres = raw[:, :2] + anchors[keep] * input_size
    halves = raw[:, 2:4] / 2
    boxes = np.concatenate([centres - halves, centres + halves], axis=1)
    valid = (boxes[:, 2] > boxes[:, 0]) & (boxes[:, 3] > boxes[:, 1])
    return boxes[valid], scores[keep][valid]


def weighted_suppression(boxes: np.ndarray, scores: np.ndarray, iou_threshold: float = SUPPRESSION_IOU) -> np.ndarray:
    """MediaPipe's weighted non-maximum suppression: best score first, each face the score-weighted mean
    of the remaining boxes that overlap it by more than iou_threshold."""
    order = np.argsort(-scores, kind="stable")
    boxes, scores = boxes[order], scores[order]
    areas = (boxes[:, 2] - boxes[:, 0]) * (boxes[:, 3] - boxes[:, 1])
    remaining = np.ones(len(boxes), dtype=bool)
    faces = []
    for best in range(len(boxes)):
        if not remaining[best]:
            continue
        left, top = np.maximum(boxes[best, :2], boxes[:, :2]).T
        right, bottom = np.minimum(boxes[best, 2:], boxes[:, 2:]).T
        overlap = np.clip(right - left, 0, None) * np.clip(bottom - top, 0, None)
        iou = overlap / np.maximum(areas[best] + areas - overlap, 1e-9)
        group = remaining & (iou > iou_threshold)
        group[best] = True
        weights = scores[group]
        faces.append((boxes[group] * weights[:, None]).sum(axis=0) / weights.sum())
        remaining &= ~group
    return np.asarray(faces, dtype=np.float64).reshape(-1, 4)


def letterbox(rgb: np.ndarray, side: int) -> tuple[np.ndarray, float, int, int]:
    """The image scaled to fit a side x side square, centred on black; the scale and the left and top padding."""
    height, width = rgb.shape[:2]
    scale = side / max(height, width)
    new_width, new_height = max(1, round(width * scale)), max(1, round(height * scale))
    interpolation = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
    square = np.zeros((side, side, 3), dtype=np.uint8)
    left, top = (side - new_width) // 2, (side - new_height) // 2
    resized = cv2.resize(rgb, (new_width, new_height), interpolation=interpolation)
    square[top : top + new_height, left : left + new_width] = resized
    return square, scale, left, top


def to_rgb(image: np.ndarray) -> np.ndarray:
    if image.ndim == 2 or image.shape[2] == 1:
        return cv2.cvtColor(image.reshape(image.shape[:2]), cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2RGB)
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


class BlazeFaceDetector:
    """One BlazeFace model; each thread gets its own LiteRT interpreter (an interpreter serves one call at a time)."""

    colour = True

    def __init__(self, model_dir: str | Path, model: BlazeFaceModel) -> None:
        self.model = model
        self.path = Path(model_dir) / model.file
        self._anchors = anchor_centres(model)
        self._local = threading.local()
        interpreter = self._interpreter()  # load now, so that a missing or broken file is reported at start-up
        shapes = [tuple(int(v) for v in d["shape"]) for d in interpreter.get_output_details()]
        expected = [(1, len(self._anchors), 16), (1, len(self._anchors), 1)]
        if sorted(shapes) != sorted(expected):
            raise DetectorError(f"{self.path} gives outputs {shapes}, not BlazeFace's {expected}")

    def _interpreter(self) -> Any:
        interpreter = getattr(self._local, "interpreter", None)
        if interpreter is None:
            if not self.path.is_file():
                raise DetectorError(f"face detector model {self.path} not found; restore model/detectors/ from git")
            try:
                interpreter = new_interpreter(self.path, num_threads=1)
            except (ValueError, RuntimeError) as error:
                raise DetectorError(f"face detector model {self.path} is not a valid LiteRT model ({error})") from None
            self._local.interpreter = interpreter
        return interpreter

    def raw_outputs(self, square_rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The network's box and score tensors for one input_size x input_size RGB square."""
        interpreter = self._interpreter()
        tensor = square_rgb.astype(np.float32) / 127.5 - 1.0
        interpreter.set_tensor(interpreter.get_input_details()[0]["index"], tensor[np.newaxis])
        interpreter.invoke()
        outputs = sorted(interpreter.get_output_details(), key=lambda d: -int(d["shape"][-1]))  # boxes (16) first
        return interpreter.get_tensor(outputs[0]["index"])[0], interpreter.get_tensor(outputs[1]["index"])[0]

    def detect(self, image: np.ndarray, settings: DetectionSettings = DetectionSettings()) -> np.ndarray:
        """Face boxes (N, 4) as x, y, w, h in the coordinates of `image` (BGR, BGRA or grey), largest first."""
        height, width = image.shape[:2]
        side = self.model.input_size
        square, scale, left, top = letterbox(to_rgb(image), side)
        raw_boxes, raw_scores = self.raw_outputs(square)
        min_score = self.model.min_score if settings.min_score is None else settings.min_score
        boxes, scores = decode(raw_boxes, raw_scores, self._anchors, side, min_score)
        corners = (weighted_suppression(boxes, scores) - [left, top, left, top]) / scale
        return frame_boxes(corners, self.model.fit, width, height, settings.min_face)
