"""Label the faces in an image or a video file: `python -m emotion.annotate IN [OUT] [--json]`.

Prints each face's box, emotion and probabilities (JSON with --json; per frame for a video)
and, given OUT, writes the annotated image or video there.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import cv2
import numpy as np

from emotion.classifier import DEFAULT_MODEL, ModelError
from emotion.detection import DETECTORS, DetectionSettings, default_detector
from emotion.images import ImageError, read_image
from emotion.pipeline import FrameAnalysis, Models, PipelineSettings, analyze_frame, load_models
from emotion.tracking import FaceTracker

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".y4m"}
IMAGE_HINT = "name it .jpg, .png, .webp, .bmp or .tiff"


def check_output(out: Path, video: bool) -> None:
    """Refuse, before any work, an output whose folder is missing or, for an image, whose suffix OpenCV cannot write."""
    folder = out.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ImageError(f"cannot write {out}: the folder {folder} {problem}")
    if video:
        return  # the video writer says whether it can write the name once it is opened
    try:
        writable = cv2.haveImageWriter(str(out))
    except cv2.error:  # some codecs, OpenEXR among them, are built in but switched off
        writable = False
    if not writable:
        kind = f"{out.suffix} files" if out.suffix else "names without a suffix"
        raise ImageError(f"cannot write {out}: there is no image writer for {kind}; {IMAGE_HINT}")


def write_image(out: Path, image: np.ndarray) -> None:
    try:
        written = cv2.imwrite(str(out), image)
    except cv2.error as error:
        raise ImageError(f"cannot write {out}: {getattr(error, 'msg', '') or error}") from None
    if not written:
        raise ImageError(f"cannot write {out}: OpenCV could not write the file (is the folder writable, the disk not full?)")


def open_video(path: Path) -> cv2.VideoCapture:
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise ImageError(f"{path} could not be opened as a video")
    return capture


def video_frames(capture: cv2.VideoCapture) -> Iterator[np.ndarray]:
    """The frames of an opened video, which is released when they end (or the loop stops)."""
    try:
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame
    finally:
        capture.release()


def annotate_video(path: Path, out: Path | None, models: Models, settings: PipelineSettings) -> list[FrameAnalysis]:
    capture = open_video(path)
    fps = capture.get(cv2.CAP_PROP_FPS) or 15.0
    tracker = FaceTracker()
    writer = None
    results = []
    for frame in video_frames(capture):
        analysis = analyze_frame(frame, models, settings, tracker)
        if out is not None:
            if writer is None:
                writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, analysis.image.shape[1::-1])
                if not writer.isOpened():
                    raise ImageError(f"cannot write {out}: OpenCV cannot write a video there; name it .mp4 or .avi")
            writer.write(analysis.image)
        results.append(analysis)
    if writer is not None:
        writer.release()
    if not results:
        raise ImageError(f"{path} holds no readable video frames")
    return results


def summary_line(analysis: FrameAnalysis) -> str:
    if not analysis.faces:
        return "no face found"
    faces = ", ".join(f"{face.label} {face.confidence:.0%} at {list(face.box)}" for face in analysis.faces)
    skipped = f" ({analysis.skipped_faces} more faces not labelled)" if analysis.skipped_faces else ""
    return f"{len(analysis.faces)} face(s): {faces}{skipped}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.annotate", description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="an image (JPEG, PNG, ...) or a video file")
    parser.add_argument("output", type=Path, nargs="?", help="where to write the annotated image or video")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the .tflite model (default: the bundled one)")
    parser.add_argument(
        "--detector",
        choices=list(DETECTORS),
        help="the face finder (default: EMOTION_DETECTOR, else the Haar cascade); yunet finds most faces in photos",
    )
    parser.add_argument("--scale-factor", type=float, default=1.1, help="Haar cascade only")
    parser.add_argument("--min-neighbors", type=int, default=5, help="Haar cascade only")
    parser.add_argument("--min-face", type=int, default=30, help="smallest face side, in pixels")
    parser.add_argument("--max-faces", type=int, default=50)
    args = parser.parse_args(argv)
    try:
        detector = args.detector or default_detector()
    except ValueError as error:
        parser.error(str(error))

    settings = PipelineSettings(
        detection=DetectionSettings(
            args.scale_factor, args.min_neighbors, args.min_face, detect_width=None, detector=detector
        ),
        max_faces=args.max_faces,
    )
    video = args.input.suffix.lower() in VIDEO_SUFFIXES
    try:
        if args.output is not None:
            check_output(args.output, video)
        models = load_models(args.model)
        if not args.input.is_file():
            raise ImageError(f"{args.input}: no such file")
        if video:
            frames = annotate_video(args.input, args.output, models, settings)
            report: dict = {"frames": [{"frame": i, **f.to_json()} for i, f in enumerate(frames)]}
            lines = [f"frame {i}: {summary_line(f)}" for i, f in enumerate(frames)]
        else:
            analysis = analyze_frame(read_image(args.input.read_bytes(), str(args.input)), models, settings)
            if args.output is not None:
                write_image(args.output, analysis.image)
            report, lines = analysis.to_json(), [summary_line(analysis)]
    except (ImageError, ModelError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    print(json.dumps(report) if args.json else "\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
