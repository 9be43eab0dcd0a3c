"""The pipeline's named presets: live video, photos, the on-device camera and the command line.

Each page and the command line start from one of these, so a setting means the same everywhere; the page's
controls and the command line's options only change what their user chose. Numbers come from the
benchmarks (bench/README.md): live video searches a copy about 320 px wide at a coarser step, a photo is
searched whole and finely.
"""

from __future__ import annotations

from emotion.detection import DetectionSettings
from emotion.pipeline import PipelineSettings

LIVE_MAX_FACES = 20  # faces labelled in a live frame, the largest first: bounds the work per frame
PHOTO_MAX_FACES = 50
PHOTO_MIN_FACE = 30  # small faces in groups: every face finder counts at least as many photos right as at 40 px (bench/README.md)
SCALE_FACTORS = {"fast": 1.3, "balanced": 1.2, "thorough": 1.1}  # the Haar cascade's pyramid step for live video
PHOTO_SCALE_FACTOR = SCALE_FACTORS["thorough"]


def live(
    detector: str = "haar",
    strictness: int = DetectionSettings().min_neighbors,
    min_face: int = DetectionSettings().min_face,
    thoroughness: str = "balanced",
    show_probabilities: bool = False,
) -> PipelineSettings:
    """The Live page's server path (and a class room's): a copy about 320 px wide, searched at `thoroughness`."""
    detection = DetectionSettings(
        scale_factor=SCALE_FACTORS[thoroughness], min_neighbors=strictness, min_face=min_face, detect_width=320, detector=detector
    )
    return PipelineSettings(detection=detection, show_probabilities=show_probabilities, max_faces=LIVE_MAX_FACES)


def on_device(min_face: int = DetectionSettings().min_face, show_probabilities: bool = False) -> PipelineSettings:
    """The browser's pipeline: always BlazeFace (short range), the model the browser runs."""
    detection = DetectionSettings(min_face=min_face, detector="blazeface")
    return PipelineSettings(detection=detection, show_probabilities=show_probabilities, max_faces=LIVE_MAX_FACES)


def photo(
    detector: str = "haar",
    strictness: int = DetectionSettings().min_neighbors,
    min_face: int = PHOTO_MIN_FACE,
    show_probabilities: bool = False,
    *,
    number_faces: bool = True,
    scale_factor: float = PHOTO_SCALE_FACTOR,
    max_faces: int = PHOTO_MAX_FACES,
) -> PipelineSettings:
    """The Photo page's: the most thorough search at full size (time matters less than for video), each face
    numbered on the image as in the page's table."""
    detection = DetectionSettings(
        scale_factor=scale_factor, min_neighbors=strictness, min_face=min_face, detect_width=None, detector=detector
    )
    return PipelineSettings(detection=detection, show_probabilities=show_probabilities, max_faces=max_faces,
                            number_faces=number_faces)


def command_line(
    detector: str,
    scale_factor: float = PHOTO_SCALE_FACTOR,
    strictness: int = DetectionSettings().min_neighbors,
    min_face: int = PHOTO_MIN_FACE,
    max_faces: int = PHOTO_MAX_FACES,
) -> PipelineSettings:
    """`python -m emotion.annotate`: the Photo page's search, for images and video files alike, faces unnumbered."""
    return photo(detector, strictness, min_face, number_faces=False, scale_factor=scale_factor, max_faces=max_faces)
