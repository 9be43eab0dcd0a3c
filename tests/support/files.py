"""The project's files, the test photos committed in tests/data with the scenes made from them, and the
shared data beside the checkout (../shared/data, or EMOTION_SHARED_DATA) that only the full-FER checks need."""

from __future__ import annotations

import functools
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
TEST_DATA = ROOT / "tests" / "data"  # public-domain photos, committed (tests/data/README.md)
SHARED_DATA = Path(os.environ.get("EMOTION_SHARED_DATA", ROOT.parent / "shared" / "data"))
FACES = SHARED_DATA / "faces"  # the shared photos: bench/ only, their licences keep them out of the repository
FER_ZIP = SHARED_DATA / "fer2013.zip"
FER_CSV_HEAD = SHARED_DATA / "fer2013-head.csv"
BUNDLED_TFLITE = ROOT / "model" / "emotion_cnn.tflite"
BUNDLED_KERAS = ROOT / "model" / "emotion_cnn.keras"

Box = tuple[int, int, int, int]  # x, y, width, height
# The Haar cascade's box of every face in the committed photos (tests/data/README.md): where the scenes cut faces.
FACE_BOXES: dict[str, tuple[Box, ...]] = {
    "facerec_obama.jpg": ((342, 95, 300, 300),),
    "facerec_biden.jpg": ((210, 103, 158, 158),),
    "facerec_two_people.jpg": ((122, 14, 98, 98), (420, 34, 91, 91)),
}
FER_FOLDERS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")  # the Kaggle layout's class folders
BACKGROUND = 60  # the grey behind the faces of a scene


def need(path: Path) -> Path:
    """`path`, or a skip where the shared data is missing; under CI a failure, so CI cannot pass on skips."""
    if not path.exists():
        message = (
            f"{path} is missing: only the checks on the full FER-2013 data need it "
            "(set EMOTION_SHARED_DATA to the shared data's folder, or put shared/data beside the checkout)"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI must run every test, but {message}")
        pytest.skip(message)
    return path


def read_photo(name: str) -> np.ndarray:
    """A committed photo (tests/data) or a scene made from them (SCENES), BGR; a fresh copy each call."""
    if name in SCENES:
        return _scene(name).copy()
    image = cv2.imread(str(TEST_DATA / name))
    assert image is not None, f"{name} is neither a photo in tests/data nor one of the scenes ({', '.join(SCENES)})"
    return image


def photo_file(name: str, folder: Path) -> Path:
    """A file holding read_photo(name), for what takes a path (uploads, the command line): a committed
    photo as it is, a scene written to `folder` as a PNG (lossless, so the file holds the very pixels)."""
    if name not in SCENES:
        return TEST_DATA / name
    path = folder / name
    if not path.exists():
        assert cv2.imwrite(str(path), read_photo(name)), path
    return path


def face_tiles(margin: float = 0.3) -> list[np.ndarray]:
    """Every face of the committed photos cut square with `margin` of its side around it, then their
    mirror images: four real faces (two people, two photos each) as eight tiles to build scenes from."""
    tiles = []
    for name, boxes in FACE_BOXES.items():
        image = read_photo(name)
        for x, y, w, h in boxes:
            side = round(w * (1 + 2 * margin))
            left = int(np.clip(round(x + w / 2 - side / 2), 0, image.shape[1] - side))
            top = int(np.clip(round(y + 0.6 * h - side / 2), 0, image.shape[0] - side))  # a little low: the chin, not the hair
            tiles.append(image[top : top + side, left : left + side])
    return tiles + [cv2.flip(tile, 1) for tile in tiles]


def moving_face_frames(frames: int = 20, step: int = 6) -> list[np.ndarray]:
    """640x480 frames of a committed face gliding right by `step` pixels a frame, on a plain grey ground."""
    face = cv2.resize(face_tiles()[0], (180, 180), interpolation=cv2.INTER_AREA)
    scenes = []
    for frame in range(frames):
        canvas = np.full((480, 640, 3), 90, np.uint8)
        x = 120 + frame * step
        canvas[140:320, x : x + 180] = face
        scenes.append(canvas)
    return scenes


def camera_noise(frame: np.ndarray, rng: np.random.Generator, levels: float) -> np.ndarray:
    """The frame as a webcam sends a still scene: its own Gaussian noise (standard deviation `levels` of 255)."""
    return np.clip(frame + rng.normal(0, levels, frame.shape), 0, 255).astype(np.uint8)


def _fit(tile: np.ndarray, side: int) -> np.ndarray:
    return cv2.resize(tile, (side, side), interpolation=cv2.INTER_AREA)


def _turned(tile: np.ndarray, degrees: float) -> np.ndarray:
    """The tile turned about its centre, the corners filled from its own edges (no black wedges to detect)."""
    side = tile.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), degrees, 1.0)
    return cv2.warpAffine(tile, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)


def _place(canvas: np.ndarray, tile: np.ndarray, x: int, y: int) -> None:
    canvas[y : y + tile.shape[0], x : x + tile.shape[1]] = tile


def group_of_three() -> np.ndarray:
    """Three faces of different sizes at different heights, as people sit at different distances."""
    tiles = face_tiles()
    canvas = np.full((400, 600, 3), BACKGROUND, np.uint8)
    for tile, side, x, y in ((tiles[0], 190, 10, 30), (tiles[1], 150, 220, 190), (tiles[3], 120, 440, 80)):
        _place(canvas, _fit(tile, side), x, y)
    return canvas


def group_of_six() -> np.ndarray:
    """A video call's gallery: six faces in a 2x3 grid of 160-pixel cells."""
    tiles = face_tiles()
    canvas = np.full((320, 480, 3), BACKGROUND, np.uint8)
    for i, tile in enumerate(tiles[:6]):
        row, column = divmod(i, 3)
        _place(canvas, _fit(tile, 160), 160 * column, 160 * row)
    return canvas


def crowd() -> np.ndarray:
    """A lecture hall: 24 faces in four rows of three pairs, small at the back and larger at the front.
    Neighbours in a pair sit so close that labels above both boxes would overlap: the layout must move one."""
    tiles = face_tiles(margin=0.2)
    pad, sizes, pair_step, pair_gap, row_step = 40, (110, 125, 140, 160), 0.8, 0.4, 1.7  # steps in tile sides
    widths = [round(3 * side * (1 + pair_step + pair_gap)) for side in sizes]
    height = pad + round(row_step * sum(sizes[:-1])) + sizes[-1] + pad
    canvas = np.full((height, max(widths) + 2 * pad, 3), BACKGROUND, np.uint8)
    top, index = pad, 0
    for row, side in enumerate(sizes):
        left = (canvas.shape[1] - widths[row]) // 2 + (round(pair_gap * side / 2) if row % 2 else 0)
        for pair in range(3):
            x = left + round(pair * side * (1 + pair_step + pair_gap))
            for seat in (0, 1):
                _place(canvas, _fit(tiles[index % len(tiles)], side), x + round(seat * pair_step * side), top)
                index += 3
        top += round(row_step * side)
    return canvas


def one_turned() -> np.ndarray:
    """Three faces side by side, the first turned 30 degrees: the Haar cascade misses it, YuNet and
    BlazeFace find it (tests/data/README.md)."""
    tiles = face_tiles()
    canvas = np.full((260, 640, 3), BACKGROUND, np.uint8)
    for i, tile in enumerate((_turned(tiles[0], 30), tiles[1], tiles[2])):
        _place(canvas, _fit(tile, 180), 30 + 200 * i, 40)
    return canvas


def no_face() -> np.ndarray:
    """Two portraits below the chin, side by side: suits, ties, hands and a flag, no face to report.
    (Upside-down faces will not do: BlazeFace rightly finds them.)"""
    halves = []
    for name in ("facerec_obama.jpg", "facerec_biden.jpg"):
        image = read_photo(name)
        lower = image[image.shape[0] // 2 :]
        halves.append(cv2.resize(lower, (round(lower.shape[1] * 300 / lower.shape[0]), 300), interpolation=cv2.INTER_AREA))
    return np.hstack(halves)


SCENES: dict[str, Callable[[], np.ndarray]] = {
    "group_of_three.png": group_of_three,
    "group_of_six.png": group_of_six,
    "crowd_of_24.png": crowd,
    "one_turned.png": one_turned,
    "no_face.png": no_face,
}


@functools.cache
def _scene(name: str) -> np.ndarray:
    return SCENES[name]()


def fer_like_sample(per_class: int = 6, seed: int = 2013) -> dict[str, list[tuple[str, bytes]]]:
    """FER-2013's Kaggle layout in miniature, made here: for "train" and "test", `per_class` 48x48 grey
    JPEGs per class folder, named as Kaggle names them (train/happy/Training_<id>.jpg, test/...PublicTest_<id>.jpg).

    Two in three are the committed faces, each turned, shifted, scaled and lit a little differently
    (so no two images are alike); the rest are noise or smooth ramps, as FER-2013 holds a few non-faces.
    """
    rng = np.random.default_rng(seed)
    faces = [cv2.cvtColor(tile, cv2.COLOR_BGR2GRAY) for tile in face_tiles(margin=0.1)]
    sample: dict[str, list[tuple[str, bytes]]] = {}
    number = 0
    for split, prefix in (("train", "Training"), ("test", "PublicTest")):
        for folder in FER_FOLDERS:
            for i in range(per_class):
                number += 1
                if i % 3 < 2:
                    image = _fer_face(faces[int(rng.integers(len(faces)))], rng)
                elif rng.random() < 0.5:
                    image = rng.integers(0, 256, (48, 48)).astype(np.uint8)
                else:
                    ramp = np.add.outer(np.arange(48) * rng.uniform(-3, 3), np.arange(48) * rng.uniform(-3, 3))
                    image = np.clip(ramp + rng.uniform(60, 190), 0, 255).astype(np.uint8)
                ok, data = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, 90])
                assert ok
                sample.setdefault(split, []).append((f"{split}/{folder}/{prefix}_{number}.jpg", data.tobytes()))
    return sample


def _fer_face(face: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A 48x48 crop of a grey face, turned, shifted, scaled and lit at random."""
    side = face.shape[0]
    matrix = cv2.getRotationMatrix2D((side / 2, side / 2), rng.uniform(-12, 12), rng.uniform(0.9, 1.1))
    matrix[:, 2] += rng.uniform(-0.05, 0.05, 2) * side
    moved = cv2.warpAffine(face, matrix, (side, side), borderMode=cv2.BORDER_REFLECT)
    small = cv2.resize(moved, (48, 48), interpolation=cv2.INTER_AREA).astype(np.float32)
    return np.clip(small * rng.uniform(0.7, 1.3) + rng.uniform(-30, 30), 0, 255).astype(np.uint8)


def write_fer_csv(path: Path, sample: dict[str, list[tuple[str, bytes]]]) -> Path:
    """The sample as fer2013.csv holds it (emotion,pixels,Usage; the index by FER-2013's order, not the
    folders'): train/ as Training rows, test/ as PublicTest rows."""
    from emotion.preprocess import FOLDER_TO_INDEX

    usage = {"train": "Training", "test": "PublicTest"}
    rows = ["emotion,pixels,Usage"]
    for split, entries in sample.items():
        for name, data in entries:
            pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
            assert pixels is not None, name
            rows.append(f"{FOLDER_TO_INDEX[name.split('/')[1]]},{' '.join(map(str, pixels.ravel()))},{usage[split]}")
    path.write_text("\n".join(rows) + "\n")
    return path


def write_large_png(path: Path, width: int = 12000, height: int = 9000, mode: str = "RGB") -> Path:
    """A photo-sized PNG (a smooth ramp per band, so the file stays small): the upload of finding 9."""
    from PIL import Image

    ramp = Image.linear_gradient("L").resize((width, height))
    turns = [None, Image.Transpose.FLIP_LEFT_RIGHT, Image.Transpose.FLIP_TOP_BOTTOM, Image.Transpose.ROTATE_180]
    bands = [ramp if turn is None else ramp.transpose(turn) for turn in turns[: len(mode)]]
    Image.merge(mode, bands).save(path, compress_level=1)
    return path


def run_probe(source: str, *args: str, env: dict[str, str] | None = None) -> str:
    """Run `source` in a fresh Python process from the project root; its standard output.

    For what must not share the test process: memory settings that last for the whole process, or
    imports that clash with ones already made (aiortc after TensorFlow crashes).
    """
    result = subprocess.run([sys.executable, "-c", source, *args], cwd=ROOT, capture_output=True, text=True, check=True, env=env)
    return result.stdout
