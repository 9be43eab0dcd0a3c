"""Loading FER-2013 in the formats users have: the Kaggle zip, its extracted folder, fer2013.csv,
and the packed arrays (.npz, optionally xz-compressed) that `pack` writes for an accelerator machine.

Every loader returns the same thing, a `Split` of uint8 48x48 grey images and FER-2013 labels,
and every bad input raises `DatasetError` with a message that names the offending file or row.
"""

from __future__ import annotations

import csv
import io
import lzma
import sys
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import cv2
import numpy as np

from emotion.labels import EMOTIONS
from emotion.preprocess import FOLDER_TO_INDEX, INPUT_SIZE

SPLITS = ("train", "val", "test")
# The original CSV has three usages; the Kaggle folders have train/ and test/ (= PublicTest).
CSV_USAGE = {"train": "Training", "val": "PublicTest", "test": "PrivateTest"}
FOLDER_NAME = {"train": "train", "val": "test", "test": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm"}
PIXELS_PER_IMAGE = INPUT_SIZE * INPUT_SIZE


class DatasetError(ValueError):
    """The data at a user-given path cannot be used; the message says which file and why."""


@dataclass(frozen=True)
class Split:
    images: np.ndarray  # uint8, (N, 48, 48)
    labels: np.ndarray  # int64, (N,), FER-2013 indices
    source: str

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        return np.bincount(self.labels, minlength=len(EMOTIONS))


def one_hot(labels: np.ndarray) -> np.ndarray:
    """FER-2013 indices as the loss reads them: float32 (N, 7)."""
    return np.eye(len(EMOTIONS), dtype=np.float32)[labels]


def model_inputs(images: np.ndarray) -> np.ndarray:
    """uint8 (N, 48, 48) faces as the network reads them: float32 (N, 48, 48, 1) in [0, 1]."""
    return images[..., np.newaxis].astype(np.float32) / 255.0


def load_split(path: str | Path, split: str) -> Split:
    """One split ("train", "val" or "test") of FER-2013 at `path`, in any supported format."""
    if split not in SPLITS:
        raise DatasetError(f"unknown split {split!r}; choose one of {', '.join(SPLITS)}")
    path = Path(path)
    if not path.exists():
        raise DatasetError(f"{path}: no such file or folder")
    if path.is_dir():
        return _load_folder(path, split)
    if path.suffix.lower() == ".zip":
        return _load_zip(path, split)
    if path.suffix.lower() == ".csv":
        return _load_csv(path, split)
    if path.name.lower().endswith((".npz", ".npz.xz")):
        return _load_packed(path, split)
    raise DatasetError(
        f"{path}: not a FER-2013 dataset; give the Kaggle .zip, its extracted folder, fer2013.csv or a packed .npz"
    )


def pack(path: str | Path, out: str | Path, splits: Iterable[str] = SPLITS) -> Path:
    """FER-2013 at `path` as one file of uint8 arrays: `<split>_images`, `<split>_labels` per split.

    The accelerator machine takes the working tree with data at most 64 MiB: the Kaggle zip does not
    fit beside the code, these arrays xz-compressed (`out` ending in .xz) do for train and val.
    """
    arrays: dict[str, Any] = {}
    for split in splits:
        loaded = load_split(path, split)
        arrays[f"{split}_images"], arrays[f"{split}_labels"] = loaded.images, loaded.labels
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    out = Path(out)
    if not out.name.lower().endswith((".npz", ".npz.xz")):
        raise DatasetError(f"{out}: a packed file's name ends in .npz or .npz.xz, so that `train` recognises it")
    out.parent.mkdir(parents=True, exist_ok=True)
    data = buffer.getvalue()
    out.write_bytes(lzma.compress(data) if out.suffix.lower() == ".xz" else data)
    return out


def decode_image(data: bytes, name: str) -> np.ndarray:
    """Encoded image bytes as a uint8 48x48 grey image, or a DatasetError naming `name`."""
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE) if data else None
    if image is None or image.size == 0:
        raise DatasetError(f"{name}: not a readable image, so it cannot be made 48x48 grey")
    if image.shape != (INPUT_SIZE, INPUT_SIZE):
        image = cv2.resize(image, (INPUT_SIZE, INPUT_SIZE), interpolation=cv2.INTER_AREA)
    return image


def _label_of(class_folder: str, where: str) -> int:
    try:
        return FOLDER_TO_INDEX[class_folder.lower()]
    except KeyError:
        known = ", ".join(sorted(FOLDER_TO_INDEX))
        raise DatasetError(f"{where}: unknown class folder {class_folder!r}; expected one of {known}") from None


def _stack(images: list[np.ndarray], labels: list[int], source: str) -> Split:
    if not images:
        raise DatasetError(f"{source}: no images found")
    return Split(np.stack(images).astype(np.uint8), np.asarray(labels, dtype=np.int64), source)


def _load_folder(root: Path, split: str) -> Split:
    split_dir = root / FOLDER_NAME[split]
    if not split_dir.is_dir():
        raise DatasetError(f"{root}: no {FOLDER_NAME[split]}/ folder (expected train/ and test/ with class folders)")
    images: list[np.ndarray] = []
    labels: list[int] = []
    for class_dir in sorted(p for p in split_dir.iterdir() if p.is_dir()):
        label = _label_of(class_dir.name, str(class_dir))
        for file in sorted(class_dir.iterdir()):
            if file.suffix.lower() in IMAGE_SUFFIXES:
                images.append(decode_image(file.read_bytes(), str(file)))
                labels.append(label)
    return _stack(images, labels, str(split_dir))


def _zip_members(archive: zipfile.ZipFile, split: str) -> Iterator[tuple[str, str]]:
    """(member name, class folder) for each image under <prefix>/<split folder>/<class>/."""
    folder = FOLDER_NAME[split]
    for name in archive.namelist():
        parts = PurePosixPath(name).parts
        if name.endswith("/") or PurePosixPath(name).suffix.lower() not in IMAGE_SUFFIXES:
            continue
        if len(parts) >= 3 and parts[-3] == folder:
            yield name, parts[-2]


def _load_zip(path: Path, split: str) -> Split:
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile:
        raise DatasetError(f"{path}: not a valid zip file") from None
    images: list[np.ndarray] = []
    labels: list[int] = []
    with archive:
        for name, class_folder in sorted(_zip_members(archive, split)):
            label = _label_of(class_folder, f"{path}:{name}")
            images.append(decode_image(archive.read(name), f"{path}:{name}"))
            labels.append(label)
    if not images:
        raise DatasetError(f"{path}: no images under {FOLDER_NAME[split]}/<class>/ in the zip")
    return _stack(images, labels, f"{path}:{FOLDER_NAME[split]}/")


def _load_packed(path: Path, split: str) -> Split:
    try:
        data = path.read_bytes()
        if path.suffix.lower() == ".xz":
            data = lzma.decompress(data)
        wanted = (f"{split}_images", f"{split}_labels")
        with np.load(io.BytesIO(data), allow_pickle=False) as packed:
            held = sorted(packed.files)
            arrays = [packed[name] for name in wanted] if set(wanted) <= set(held) else None  # this split only
    except (lzma.LZMAError, zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise DatasetError(f"{path}: not a packed FER-2013 file ({error})") from None
    if arrays is None:
        raise DatasetError(f"{path}: no {split!r} split in it (it holds {', '.join(held)})")
    images, labels = arrays
    if images.dtype != np.uint8 or images.shape[1:] != (INPUT_SIZE, INPUT_SIZE) or labels.shape != images.shape[:1]:
        raise DatasetError(f"{path}: {split} images must be uint8 (N, 48, 48) with N labels")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"{path}: {split} labels must be integers, not {labels.dtype}")
    if labels.size and not 0 <= labels.min() <= labels.max() < len(EMOTIONS):
        raise DatasetError(f"{path}: {split} labels must lie in 0..{len(EMOTIONS) - 1}")
    if not len(labels):
        raise DatasetError(f"{path}: no images in the {split!r} split")
    return Split(images, labels.astype(np.int64), f"{path}:{split}")


def _csv_rows(path: Path) -> Iterable[tuple[int, dict[str, str]]]:
    csv.field_size_limit(sys.maxsize)
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        missing = {"emotion", "pixels", "Usage"} - set(reader.fieldnames or [])
        if missing:
            raise DatasetError(f"{path}: missing column(s) {', '.join(sorted(missing))}; expected emotion,pixels,Usage")
        yield from enumerate(reader, start=2)


def _parse_csv_row(row: dict[str, str], where: str) -> tuple[np.ndarray, int]:
    try:
        label = int(row["emotion"])
    except (TypeError, ValueError):
        raise DatasetError(f"{where}: emotion {row['emotion']!r} is not an integer") from None
    if not 0 <= label < len(EMOTIONS):
        raise DatasetError(f"{where}: emotion {label} is outside 0..{len(EMOTIONS) - 1}")
    try:
        pixels = np.array((row["pixels"] or "").split(), dtype=np.int64)
    except ValueError:
        raise DatasetError(f"{where}: pixels must be space-separated integers") from None
    if pixels.size != PIXELS_PER_IMAGE:
        raise DatasetError(f"{where}: {pixels.size} pixels, expected {PIXELS_PER_IMAGE} (48x48)")
    if pixels.min() < 0 or pixels.max() > 255:
        raise DatasetError(f"{where}: pixel values must lie in 0..255")
    return pixels.reshape(INPUT_SIZE, INPUT_SIZE).astype(np.uint8), label


def _load_csv(path: Path, split: str) -> Split:
    usage = CSV_USAGE[split]
    images: list[np.ndarray] = []
    labels: list[int] = []
    for line_number, row in _csv_rows(path):
        if None in row or any(value is None for value in row.values()):
            raise DatasetError(f"{path}, line {line_number}: wrong number of columns")
        if row["Usage"] not in CSV_USAGE.values():
            raise DatasetError(f"{path}, line {line_number}: unknown Usage {row['Usage']!r}")
        if row["Usage"] == usage:
            image, label = _parse_csv_row(row, f"{path}, line {line_number}")
            images.append(image)
            labels.append(label)
    if not images:
        raise DatasetError(f"{path}: no {usage} rows (split {split!r})")
    return _stack(images, labels, f"{path}:{usage}")
