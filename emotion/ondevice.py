"""What the browser's pipeline (static/ondevice/, issue #14) takes from the Python one.

The students' browsers find faces and read emotions themselves, with the same models, and must do
it as the server does. Every number both sides use is written here, in Python, once: the page
hands `browser_settings()` to static/ondevice/pipeline.js, which has no defaults of its own.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from emotion.contract import BrowserSettings
from emotion.detection import DetectionSettings
from emotion.detection.blazeface import RAW_SCORE_LIMIT, SHORT_RANGE, SUPPRESSION_IOU
from emotion.drawing import EMOTION_COLOURS
from emotion.labels import EMOTIONS
from emotion.pipeline import PipelineSettings
from emotion.preprocess import INPUT_SIZE
from emotion.tracking import CLASSIFY_EVERY_MS, FaceTracker

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"  # served at /app/static/
# What the browser loads, relative to the static folder's URL.
BROWSER_FILES = {
    "litert": "litert/index.js",
    "runtime": "litert/wasm/litert_wasm_compat_internal.js",
    "wasm": "litert/wasm/litert_wasm_compat_internal.wasm",  # the runtime's own; the page hands it over (cache.js)
    "detector": f"models/{SHORT_RANGE.file}",
    "emotion": "models/emotion_cnn_b1.tflite",
}


def css_colour(bgr: tuple[int, int, int]) -> str:
    blue, green, red = bgr
    return f"#{red:02x}{green:02x}{blue:02x}"


@functools.cache
def file_hashes() -> dict[str, str]:
    """Each browser file's sha256, once a process: static/ondevice/cache.js keeps the files by content,
    so a browser downloads them once, and again only when they change (a new deploy restarts the process)."""
    return {path: hashlib.sha256((STATIC_DIR / path).read_bytes()).hexdigest() for path in BROWSER_FILES.values()}


def browser_settings(pipeline: PipelineSettings = PipelineSettings()) -> BrowserSettings:
    """The browser pipeline's settings as JSON-ready data: files, models' constants, tracker, drawing."""
    detection: DetectionSettings = pipeline.detection
    tracker = FaceTracker(classify_every_ms=CLASSIFY_EVERY_MS)  # the live paths' rule, as LiveStream's
    fit = SHORT_RANGE.fit
    return {
        "files": dict(BROWSER_FILES),
        "hashes": dict(file_hashes()),
        "emotions": list(EMOTIONS),
        "colours": {name: css_colour(bgr) for name, bgr in EMOTION_COLOURS.items()},
        "inputSize": INPUT_SIZE,
        "detector": {
            "inputSize": SHORT_RANGE.input_size,
            "strides": list(SHORT_RANGE.strides),
            "anchorsPerLayer": SHORT_RANGE.anchors_per_layer,
            "minScore": SHORT_RANGE.min_score if detection.min_score is None else detection.min_score,
            "rawScoreLimit": RAW_SCORE_LIMIT,
            "suppressionIou": SUPPRESSION_IOU,
            "fit": {"width": fit.width, "height": fit.height, "centreDown": fit.centre_down},
        },
        "tracker": {
            "window": tracker.window,
            "minIou": tracker.min_iou,
            "maxMissed": tracker.max_missed,
            "classifyEveryMs": tracker.classify_every_ms,
            "movedIou": tracker.moved_iou,
        },
        "minFace": detection.min_face,
        "maxFaces": pipeline.max_faces,
    }

