"""The live server path's bounded work per frame against searching and classifying everything, on moving faces.

    taskset -c 0 python bench/moving_faces.py                 # one core
    taskset -c 0 python bench/moving_faces.py --seconds 60 --every 100 200 300

Plays a moving-face clip at 15 frames a second through the Live page's pipeline (`analyze_frame` with
the server's default face finder, the Haar cascade, and a live `FaceTracker`), with the frames' own
timestamps, in these ways:
- the reference: the whole frame searched and every face classified in every frame (the way before);
- for each `--every` (ms, the tracker's `classify_every_ms`): every frame searched, a tracked face
  classified at that rate: label agreement with the reference (the share of face-frames with the same
  label) and faces classified per frame;
- the windowed search (emotion/detection/windows.py) with every face classified: each reference box's
  best IoU with the boxes found (mean, and the share under 0.5), and the longest run of frames in which
  a reference face had no box at IoU 0.3 or more, and the boxes where the reference has no face ("extra");
- the live settings, both rules together (LiveStream's).
Time per frame (median, p95) for each. The clip is made from the real faces of the shared photos
(bench/frames.py): in each 4-second shot one or two faces pan, zoom and turn as a student at a webcam
does, and a cut brings other faces. --noise adds a camera's noise (a new draw each frame).
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import cv2
import numpy as np

from bench.frames import face_crops, photo
from emotion.detection.windows import WindowedSearch
from emotion.pipeline import FrameAnalysis, PipelineSettings, analyze_frame, load_models
from emotion.tracking import CLASSIFY_EVERY_MS, MOVED_IOU, FaceTracker, iou
from tests.support.files import camera_noise

FPS = 15
SHOT_SECONDS = 4
PHOTOS = (
    "facerec_two_people.jpg", "dlib_2008_004176.jpg", "dlib_2008_007676.jpg", "dlib_2008_002470.jpg", "dlib_2008_002506.jpg",
)


def moving_clip(seconds: float, noise: float = 0, seed: int = 7) -> list[np.ndarray]:
    """640x480 frames: shots of one or two real faces that pan, zoom and turn, cut every SHOT_SECONDS;
    `noise`: the standard deviation of a camera's noise, in grey levels."""
    rng, camera = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    faces = face_crops(PHOTOS, 220)
    background = cv2.GaussianBlur(cv2.resize(photo("dlib_2008_002506.jpg"), (640, 480)), (0, 0), 12) // 2
    frames: list[np.ndarray] = []
    while len(frames) < seconds * FPS:
        people = [faces[int(i)] for i in rng.choice(len(faces), size=1 + int(rng.random() < 0.4), replace=False)]
        starts = [(rng.uniform(120, 520), rng.uniform(150, 330)) for _ in people]
        phases = rng.uniform(0, 2 * math.pi, size=(len(people), 4))
        for frame in range(SHOT_SECONDS * FPS):
            t = frame / FPS
            canvas = background.copy()
            for face, (x0, y0), phase in zip(people, starts, phases):
                scale = 0.8 + 0.12 * math.sin(2 * math.pi * t / 4 + phase[0])
                angle = 7 * math.sin(2 * math.pi * t / 2.7 + phase[1])
                centre = (x0 + 50 * math.sin(2 * math.pi * t / 3 + phase[2]),
                          y0 + 25 * math.sin(2 * math.pi * t / 2.3 + phase[3]))
                _paste(canvas, face, centre, scale, angle)
            if noise:
                canvas = camera_noise(canvas, camera, noise)
            frames.append(canvas)
    return frames[: int(seconds * FPS)]


def _paste(canvas: np.ndarray, face: np.ndarray, centre: tuple[float, float], scale: float, angle: float) -> None:
    side = face.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), angle, scale)
    matrix[:, 2] += np.array(centre) - side / 2
    mask = cv2.warpAffine(np.full(face.shape[:2], 255, np.uint8), matrix, canvas.shape[1::-1])
    moved = cv2.warpAffine(face, matrix, canvas.shape[1::-1])
    canvas[mask > 0] = moved[mask > 0]


def play(frames: list[np.ndarray], models, every_ms: float, windowed: bool) -> tuple[list[FrameAnalysis], list[float]]:
    """Each frame's analysis and milliseconds, with a fresh tracker (and search) as a new stream has."""
    tracker = FaceTracker(classify_every_ms=every_ms, moved_iou=MOVED_IOU)
    search = WindowedSearch() if windowed else None
    settings = PipelineSettings(draw=False)
    analyses, times = [], []
    for number, frame in enumerate(frames):
        started = time.perf_counter()
        analyses.append(analyze_frame(frame, models, settings, tracker, now_ms=number * 1000 / FPS, search=search))
        times.append((time.perf_counter() - started) * 1000)
    return analyses, times


def label_agreement(found: list[FrameAnalysis], reference: list[FrameAnalysis]) -> float:
    """Share of the reference's face-frames whose label the other run gave the same face (its box at IoU 0.5 or more)."""
    same = total = 0
    for ours, theirs in zip(found, reference):
        for face in theirs.faces:
            total += 1
            match = [f for f in ours.faces if iou(np.array([f.box]), np.array([face.box]))[0, 0] >= 0.5]
            same += bool(match) and match[0].label == face.label
    return same / max(total, 1)


def box_figures(found: list[FrameAnalysis], reference: list[FrameAnalysis]) -> tuple[float, float, int, int]:
    """Mean best IoU of the reference's boxes, the share under 0.5, the longest run of frames a face went
    missing, and the boxes found where the reference has no face (IoU under 0.3 with all of its boxes)."""
    best: list[float] = []
    missing_run = longest = extra = 0
    for ours, theirs in zip(found, reference):
        boxes = np.array([f.box for f in ours.faces]).reshape(-1, 4)
        expected = np.array([f.box for f in theirs.faces]).reshape(-1, 4)
        overlaps = [float(iou(np.array([f.box]), boxes).max()) if len(boxes) else 0.0 for f in theirs.faces]
        best += overlaps
        missing_run = missing_run + 1 if any(o < 0.3 for o in overlaps) else 0
        longest = max(longest, missing_run)
        extra += int((iou(boxes, expected).max(axis=1, initial=0.0) < 0.3).sum()) if len(boxes) else 0
    return float(np.mean(best)), float(np.mean(np.array(best) < 0.5)), longest, extra


def row(name: str, analyses: list[FrameAnalysis], times: list[float], reference: list[FrameAnalysis]) -> str:
    read = np.mean([a.classified_faces for a in analyses])
    mean_iou, under, missing, extra = box_figures(analyses, reference)
    return (f"{name:<28} {label_agreement(analyses, reference):>9.1%} {read:>9.2f} {mean_iou:>8.3f} {under:>8.1%} "
            f"{missing:>8} {extra:>6} {statistics.median(times):>9.1f} {np.percentile(times, 95):>7.1f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=40)
    parser.add_argument("--every", type=float, nargs="+", default=[100, 150, 200, 250, 300, 400])
    parser.add_argument("--noise", type=float, default=0, help="a camera's noise (standard deviation, of 255)")
    args = parser.parse_args()
    models = load_models()
    frames = moving_clip(args.seconds, args.noise)
    reference, times = play(frames, models, 0, windowed=False)
    face_frames = sum(len(a.faces) for a in reference)
    print(f"{len(frames)} frames at {FPS} fps, {face_frames} face-frames, noise {args.noise:g}; the Haar cascade")
    columns = (("labels", 9), ("read/frm", 9), ("mean IoU", 8), ("IoU<0.5", 8), ("missing", 8), ("extra", 6),
               ("median ms", 9), ("p95 ms", 7))
    print(f"{'':<28} " + " ".join(f"{name:>{width}}" for name, width in columns))
    print(row("everything, every frame", reference, times, reference), flush=True)
    for every in args.every:
        print(row(f"classify every {every:g} ms", *play(frames, models, every, windowed=False), reference), flush=True)
    print(row("windowed search", *play(frames, models, 0, windowed=True), reference), flush=True)
    print(row(f"live: both ({CLASSIFY_EVERY_MS:g} ms)", *play(frames, models, CLASSIFY_EVERY_MS, windowed=True), reference))
    return 0


if __name__ == "__main__":
    sys.exit(main())
