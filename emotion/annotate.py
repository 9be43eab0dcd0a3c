"""Label the faces in an image or a video file: `python -m emotion.annotate IN [OUT] [--json]`.

Prints each face's box, emotion and probabilities (JSON with --json; per frame for a video)
and, given OUT, writes the annotated image or video there. After `pip install -e .` the same
command is `emotion-annotate`, from any folder (the models are found beside the package).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from emotion import presets
from emotion.classifier import DEFAULT_MODEL, ModelError
from emotion.detection import DETECTORS, default_detector
from emotion.images import ImageError, read_image
from emotion.pipeline import FrameAnalysis, Models, PipelineSettings, analyze_frame, load_models
from emotion.settings import Settings
from emotion.tracking import FaceTracker

VIDEO_SUFFIXES = {".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".y4m"}
# What OpenCV's writer makes a readable video of with the mp4v codec (.webm and .y4m need other codecs;
# an image suffix would get a single-image writer, which fails after the first frame or writes junk).
VIDEO_OUTPUTS = (".mp4", ".avi", ".mov", ".mkv", ".m4v")
IMAGE_HINT = "name it .jpg, .png, .webp, .bmp or .tiff"
VIDEO_HINT = "name it " + ", ".join(VIDEO_OUTPUTS[:-1]) + " or " + VIDEO_OUTPUTS[-1]


def check_output(out: Path, video: bool) -> None:
    """Refuse, before any work, an output whose folder is missing or whose suffix cannot hold the result:
    a video's result is a video, an image's an image that OpenCV can write."""
    folder = out.parent
    if not folder.is_dir():
        problem = "is not a folder" if folder.exists() else "does not exist"
        raise ImageError(f"cannot write {out}: the folder {folder} {problem}")
    if out.is_dir():
        raise ImageError(f"cannot write {out}: it is a folder; give a file name")
    kind = f"{out.suffix} files" if out.suffix else "names without a suffix"
    if video:
        if out.suffix.lower() not in VIDEO_OUTPUTS:
            raise ImageError(f"cannot write {out}: the input is a video, so the output is a video too, and there is no "
                             f"video writer for {kind}; {VIDEO_HINT} (or give no output to print the labels only)")
        return
    try:
        writable = cv2.haveImageWriter(str(out))
    except cv2.error:  # some codecs, OpenEXR among them, are built in but switched off
        writable = False
    if not writable:
        raise ImageError(f"cannot write {out}: there is no image writer for {kind}; {IMAGE_HINT}")


def check_input(path: Path) -> None:
    """Refuse, before the models load, an input that is missing or is a folder."""
    if path.is_dir():
        raise ImageError(f"{path} is a folder; give one image or video file (to label a folder's photos, run this once per file)")
    if not path.is_file():
        raise ImageError(f"{path}: no such file")


@contextlib.contextmanager
def opencv_quiet() -> Iterator[None]:
    """OpenCV's own log lines (its backends' warnings, assertion texts they catch) off for a while:
    what fails is reported once, in the command line's words."""
    previous = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(previous)


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
                with opencv_quiet():
                    writer = cv2.VideoWriter(str(out), cv2.VideoWriter.fourcc(*"mp4v"), fps, analysis.image.shape[1::-1])
                if not writer.isOpened():
                    raise ImageError(f"cannot write {out}: OpenCV cannot write a video there; {VIDEO_HINT}")
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


def at_least(least: int) -> Callable[[str], int]:
    """An argparse type: a whole number of at least `least`, else argparse's own error naming the option."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
        if value < least:
            raise argparse.ArgumentTypeError(f"must be at least {least}, not {value}")
        return value

    return parse


def scale_step(text: str) -> float:
    """An argparse type for --scale-factor: the cascade's pyramid step, which OpenCV needs above 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value > 1.0:
        raise argparse.ArgumentTypeError(f"must be above 1 (each step of the image pyramid shrinks it), not {value:g}")
    return value


def main(argv: list[str] | None = None, prog: str = "python -m emotion.annotate") -> int:
    """The command line; returns the exit status (2: the input or output could not be used)."""
    parser = argparse.ArgumentParser(prog=prog, description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path, help="an image (JPEG, PNG, ...) or a video file")
    parser.add_argument("output", type=Path, nargs="?", help="where to write the annotated image or video")
    parser.add_argument("--json", action="store_true", help="print JSON instead of a summary")
    parser.add_argument("--model", default=DEFAULT_MODEL, help="the .tflite model (default: the bundled one)")
    parser.add_argument(
        "--detector",
        choices=list(DETECTORS),
        help="the face finder (default: EMOTION_DETECTOR, else the Haar cascade); yunet finds most faces in photos",
    )
    parser.add_argument("--scale-factor", type=scale_step, default=presets.PHOTO_SCALE_FACTOR, help="Haar cascade only; above 1")
    parser.add_argument("--min-neighbors", type=at_least(0), default=5, help="Haar cascade only")
    parser.add_argument("--min-face", type=at_least(1), default=presets.PHOTO_MIN_FACE, help="smallest face side, in pixels")
    parser.add_argument(
        "--max-faces", type=at_least(1), default=presets.PHOTO_MAX_FACES, help="the most faces labelled, the largest first"
    )
    args = parser.parse_args(argv)
    try:
        detector = args.detector or default_detector(Settings(os.environ))
    except ValueError as error:
        parser.error(str(error))

    settings = presets.command_line(detector, args.scale_factor, args.min_neighbors, args.min_face, args.max_faces)
    video = args.input.suffix.lower() in VIDEO_SUFFIXES
    try:
        check_input(args.input)
        if args.output is not None:
            check_output(args.output, video)
        models = load_models(args.model)
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


def script() -> int:
    """The `emotion-annotate` console script (pyproject.toml's [project.scripts])."""
    return main(prog="emotion-annotate")


if __name__ == "__main__":
    sys.exit(main())
