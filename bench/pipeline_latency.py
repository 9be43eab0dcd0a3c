"""Per-frame latency of the whole pipeline against the earlier apps' way, on 640x480 frames.

    taskset -c 0 python bench/pipeline_latency.py     # one core
    python bench/pipeline_latency.py                  # all cores
    taskset -c 0 python bench/pipeline_latency.py --detector haar blazeface yunet --record   # each face finder

Ours: the browser's yuv420p frame to BGR, face detection (the Haar cascade on a copy about 320 pixels
wide by default; --detector picks others), all faces in one LiteRT call, drawing, and back to a video
frame (exactly LiveStream.process), fed at --fps (15, as a webcam: the stream reads a tracked face at a
bounded rate and searches windows between full searches, so frames faster than a camera's would flatter
it; the frame is still, so this is a still student's steady state; --noise adds a camera's noise, new in
each frame, as a still face at a real webcam never gives the same pixels twice). --record keeps the one-face
medians in model/detectors/measured.json, which the app's help text quotes.
Baseline, as earlier apps did it: full-frame cascade at scaleFactor 1.3, then Keras
`model.predict` once per face, then drawing. Needs requirements-train.txt (TensorFlow).
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import av
import cv2
import numpy as np

from bench.frames import record, scenario_frames
from emotion.classifier import DEFAULT_MODEL
from emotion.detection import DETECTORS, DetectionSettings
from emotion.detection.haar import HaarDetector, detection_scale
from emotion.drawing import draw_face
from emotion.live.memory import return_frame_buffers_to_the_system
from emotion.live.stream import LiveStream
from emotion.pipeline import PipelineSettings, load_models
from emotion.preprocess import face_to_input
from tests.support.files import camera_noise

KERAS_MODEL = Path(__file__).resolve().parent.parent / "model" / "emotion_cnn.keras"


def camera_frames(image: np.ndarray, noise: float, count: int = 16) -> list[av.VideoFrame]:
    """`count` copies of a still frame, each with its own Gaussian noise, as video frames (made before timing)."""
    rng = np.random.default_rng(0)
    noisy = [camera_noise(image, rng, noise) for _ in range(count)]
    return [av.VideoFrame.from_ndarray(copy, format="bgr24").reformat(format="yuv420p") for copy in noisy]


def timed(fn, repeats: int, fps: float = 0) -> list[float]:
    """Milliseconds of each call after 3 warm-ups; with `fps`, one call per frame period, as a camera sends
    frames (the live stream reads a tracked face at a bounded rate, so back-to-back calls would flatter it)."""
    for _ in range(3):
        fn()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
        if fps:
            time.sleep(max(0.0, 1 / fps - (time.perf_counter() - start)))
    return samples


def summary(samples: list[float]) -> tuple[float, float]:
    return statistics.median(samples), float(np.percentile(samples, 95))


def baseline(frame: np.ndarray, cascade: cv2.CascadeClassifier, model) -> np.ndarray:
    """The earlier apps' frame: full-resolution cascade at 1.3, one model.predict per face."""
    out = frame.copy()
    gray = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    for x, y, w, h in cascade.detectMultiScale(gray, scaleFactor=1.3, minNeighbors=5):
        probabilities = model.predict(face_to_input(gray[y : y + h, x : x + w])[np.newaxis], verbose=0)[0]
        draw_face(out, (x, y, w, h), probabilities)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=200)
    parser.add_argument("--baseline-repeats", type=int, default=30)
    parser.add_argument("--no-baseline", action="store_true")
    parser.add_argument("--fps", type=float, default=15, help="frames a second fed to our stream, as a camera; 0: back to back")
    parser.add_argument("--scale-factor", type=float, default=DetectionSettings().scale_factor, help="default: the app's")
    parser.add_argument("--min-face", type=int, default=DetectionSettings().min_face)
    parser.add_argument("--keras-model", type=Path, default=KERAS_MODEL, help="the baseline's model (default: the bundled one)")
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL, help="our pipeline's .tflite (default: the bundled)")
    parser.add_argument("--detector", nargs="+", choices=list(DETECTORS), default=["haar"], help="face finders, timed in one run")
    parser.add_argument("--record", action="store_true", help="keep the one-face figures for the help text")
    parser.add_argument("--noise", type=float, default=0, help="a camera's noise in our frames (standard deviation, of 255)")
    args = parser.parse_args()

    cores = len(os.sched_getaffinity(0))
    print(f"cores available: {cores}; repeats {args.repeats} (ours), {args.baseline_repeats} (baseline)")
    return_frame_buffers_to_the_system()  # as the server does (webapp.resources.shared_models)
    models = load_models(args.model)
    keras_model = None
    if not args.no_baseline:
        import keras

        import emotion.training.model  # noqa: F401 - custom layers of the saved model

        keras_model = keras.models.load_model(args.keras_model, compile=False)
    haar = models.detector("haar")
    assert isinstance(haar, HaarDetector)
    cascade = haar.thread_cascade()
    detection = DetectionSettings(scale_factor=args.scale_factor, min_face=args.min_face)
    width = round(640 * detection_scale(640, detection))
    print(f"haar: scale factor {args.scale_factor}, minimum face {args.min_face} px, detection on a {width} px wide copy")

    header = f"{'frame':<10}{'detector':<16}{'faces':>6}{'ours median':>13}{'ours p95':>10}{'base median':>13}{'base p95':>10}"
    print(f"{header}{'speed-up':>10}")
    one_face: dict[str, dict[str, float]] = {}
    for name, image in scenario_frames().items():
        frame = av.VideoFrame.from_ndarray(image, format="bgr24").reformat(format="yuv420p")
        noisy = itertools.cycle(camera_frames(image, args.noise) if args.noise else [frame])
        base = None
        if keras_model is not None:

            def run_baseline(frame=frame):
                baseline(frame.to_ndarray(format="bgr24"), cascade, keras_model)

            base = summary(timed(run_baseline, args.baseline_repeats))
        for detector in args.detector:
            stream = LiveStream(models, PipelineSettings(detection=replace(detection, detector=detector)))
            ours = summary(timed(lambda noisy=noisy, stream=stream: stream.process(next(noisy)), args.repeats, args.fps))
            faces = stream.snapshot().faces_in_view
            row = f"{name:<10}{detector:<16}{faces:>6}{ours[0]:>11.1f}ms{ours[1]:>8.1f}ms"
            if base is not None:
                row += f"{base[0]:>11.1f}ms{base[1]:>8.1f}ms{base[0] / ours[0]:>9.1f}x"
            print(row, flush=True)
            if name == "1 face":
                one_face[detector] = {"median_ms": round(ours[0], 1), "p95_ms": round(ours[1], 1), "cores": cores}
    if args.record:
        record("live_frame_one_face", one_face)


if __name__ == "__main__":
    main()
