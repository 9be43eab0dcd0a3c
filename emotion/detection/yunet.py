"""YuNet (libfacedetection) on OpenCV's FaceDetectorYN: no new dependency, any input size."""

from __future__ import annotations

import threading
from pathlib import Path

import cv2
import numpy as np

from emotion.detection import BoxFit, DetectionSettings, DetectorError, frame_boxes
from emotion.preprocess import to_bgr

MODEL_FILE = "face_detection_yunet_2023mar.onnx"
MIN_SCORE = 0.9  # OpenCV's sample default
SUPPRESSION_IOU = 0.3
SIDE = 640  # photos are searched on a copy this long (up or down): the size YuNet was trained at
# YuNet's boxes are narrower and a little taller than the cascade's.
FIT = BoxFit(1.26, 0.945, -0.017)


class YuNetDetector:
    """cv2.FaceDetectorYN; each thread gets its own (its input size is state)."""

    colour = True

    def __init__(self, model_dir: str | Path) -> None:
        self.path = Path(model_dir) / MODEL_FILE
        self._local = threading.local()
        self._net(MIN_SCORE)  # load now, so that a missing or broken file is reported at start-up

    def _net(self, min_score: float) -> cv2.FaceDetectorYN:
        net = getattr(self._local, "net", None)
        if net is None:
            if not self.path.is_file():
                raise DetectorError(f"face detector model {self.path} not found; restore model/detectors/ from git")
            try:
                net = cv2.FaceDetectorYN.create(str(self.path), "", (320, 320), MIN_SCORE, SUPPRESSION_IOU, 5000)
            except cv2.error as error:
                raise DetectorError(f"face detector model {self.path} could not be loaded ({error.msg.strip()})") from None
            self._local.net = net
        net.setScoreThreshold(min_score)
        return net

    def detect(self, image: np.ndarray, settings: DetectionSettings = DetectionSettings()) -> np.ndarray:
        """Face boxes (N, 4) as x, y, w, h in the coordinates of `image` (BGR, BGRA or grey), largest first."""
        height, width = image.shape[:2]
        # Live video: a copy about detect_width wide, as the cascade's; a photo: SIDE long, where small
        # group photos gain from the enlargement.
        scale = min(1.0, settings.detect_width / width) if settings.detect_width else SIDE / max(height, width)
        bgr = image if image.ndim == 3 and image.shape[2] == 3 else to_bgr(image)
        if scale != 1.0:
            interpolation = cv2.INTER_AREA if scale < 1.0 else cv2.INTER_LINEAR
            bgr = cv2.resize(bgr, (max(1, round(width * scale)), max(1, round(height * scale))), interpolation=interpolation)
        net = self._net(MIN_SCORE if settings.min_score is None else settings.min_score)
        net.setInputSize((bgr.shape[1], bgr.shape[0]))
        _, found = net.detect(bgr)
        if found is None:
            return np.empty((0, 4), dtype=np.int32)
        found = found[np.isfinite(found[:, :4]).all(axis=1)]  # a degenerate frame (a few pixels wide) can give NaN
        x, y, w, h = (found[:, i].astype(np.float64) / scale for i in range(4))
        return frame_boxes(np.stack([x, y, x + w, y + h], axis=1), FIT, width, height, settings.min_face)

