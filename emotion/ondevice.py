"""What the browser's pipeline (static/ondevice/, issue #14) takes from the Python one, and what it hands back.

The students' browsers find faces and read emotions themselves, with the same models, and must do
it as the server does. Every number both sides use is written here, in Python, once: the page
hands `browser_settings()` to static/ondevice/pipeline.js, which has no defaults of its own. What comes
back (static/ondevice/reporter.js's figures, to the page or to the class room's figures endpoint) is
read by `figures_of`, which checks it rather than trusting it.
"""

from __future__ import annotations

import functools
import hashlib
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from emotion.contract import BrowserSettings, FiguresMessage
from emotion.detection import DetectionSettings
from emotion.detection.blazeface import RAW_SCORE_LIMIT, SHORT_RANGE, SUPPRESSION_IOU
from emotion.detection.windows import FULL_EVERY, REMEMBER, THUMBNAIL, UNCHANGED_LEVELS
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
            "fullEvery": FULL_EVERY,
            "thumbnailSide": THUMBNAIL,
            "unchangedLevels": UNCHANGED_LEVELS,
            "remember": REMEMBER,
        },
        "tracker": {
            "window": tracker.window,
            "minIou": tracker.min_iou,
            "maxMissed": tracker.max_missed,
            "classifyEveryMs": tracker.classify_every_ms,
            "movedIou": tracker.moved_iou,
            "renewPerFrame": tracker.renew_per_frame,
        },
        "minFace": detection.min_face,
        "maxFaces": pipeline.max_faces,
    }


MESSAGE_SAMPLES = 8  # a message's newest samples read: a page sends two, a few more after a stall


@dataclass(frozen=True)
class DeviceFigures:
    faces: list[np.ndarray] = field(default_factory=list)  # each face's smoothed probabilities, FER-2013 order
    skipped: int = 0
    fps: float | None = None
    ms_median: float | None = None
    at: float | None = None  # the browser's clock when sent, ms: a new value means new figures
    # The samples taken since the last message, oldest first: (seconds before `at`, each face's probabilities)
    samples: list[tuple[float, list[np.ndarray]]] = field(default_factory=list)


def figures_of(message: FiguresMessage, max_faces: int = PipelineSettings().max_faces) -> DeviceFigures | None:
    """The figures of a message from static/ondevice/reporter.js; None when it is not one (the page ignores it).

    The browser's JSON is checked, not trusted: a face is seven finite probabilities, at most `max_faces` of
    them (the browser's pipeline reads no more), a sample a time and faces, and a sample that is not is left
    out; only the newest MESSAGE_SAMPLES are read. A message without samples (a page still running an earlier
    camera.js, from the browser's cache) counts as a single sample of its faces.
    """
    faces, at = faces_of(message.get("faces"), max_faces), _number(message.get("at"))
    if faces is None or at is None:
        return None
    samples = []
    raw_samples = message.get("samples")
    for sample in raw_samples[-MESSAGE_SAMPLES:] if isinstance(raw_samples, list) else []:
        taken = _number(sample.get("at")) if isinstance(sample, dict) else None
        sample_faces = faces_of(sample.get("faces"), max_faces) if isinstance(sample, dict) else None
        if taken is not None and sample_faces is not None:
            samples.append(((at - taken) / 1000, sample_faces))
    return DeviceFigures(
        faces=faces,
        skipped=_count(message.get("skipped")),
        fps=_number(message.get("fps")),
        ms_median=_number(message.get("msMedian")),
        at=at,
        samples=samples if isinstance(raw_samples, list) else [(0.0, faces)],
    )


def faces_of(raw: object, max_faces: int) -> list[np.ndarray] | None:
    """Each face's probabilities, or None unless there are at most `max_faces` and every face is len(EMOTIONS)
    finite numbers in [0, 1]."""
    if not isinstance(raw, list) or len(raw) > max_faces:
        return None
    try:
        faces = [np.asarray(face, dtype=np.float32) for face in raw]
    except (TypeError, ValueError):
        return None
    def valid(face: np.ndarray) -> bool:
        return face.shape == (len(EMOTIONS),) and bool(np.isfinite(face).all() and (face >= 0).all() and (face <= 1).all())

    return faces if all(valid(face) for face in faces) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _count(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0 else 0
