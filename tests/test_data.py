"""The FER-2013 loaders: every format users have, and a clear error for every bad input."""

from __future__ import annotations

import zipfile

import cv2
import numpy as np
import pytest

from emotion.labels import EMOTIONS
from emotion.preprocess import FOLDER_TO_INDEX, face_to_input
from emotion.training.data import DatasetError, load_split, pack
from tests.support.files import write_fer_csv

PIXELS = " ".join(["128"] * 2304)


def write_csv(path, rows, header="emotion,pixels,Usage"):
    path.write_text(header + "\n" + "\n".join(rows) + "\n")
    return path


def test_folder_names_map_to_fer_indices_not_alphabetical_order():
    assert FOLDER_TO_INDEX == {"angry": 0, "disgust": 1, "fear": 2, "happy": 3, "sad": 4, "surprise": 5, "neutral": 6}
    assert sorted(FOLDER_TO_INDEX) != list(FOLDER_TO_INDEX)  # the trap several earlier apps fell into


@pytest.mark.parametrize("fixture", ["tiny_fer_folder", "tiny_fer_zip"])
def test_kaggle_layouts_load_both_splits_with_labels_by_folder_name(fixture, request):
    path = request.getfixturevalue(fixture)
    train = load_split(path, "train")
    test = load_split(path, "test")
    assert train.images.shape == (42, 48, 48) and train.images.dtype == np.uint8
    assert train.class_counts().tolist() == [6] * 7
    assert len(test) == 42
    # val is PublicTest, which is the test/ folder in this layout
    assert np.array_equal(load_split(path, "val").labels, test.labels)


def test_folder_and_zip_agree_image_for_image(tiny_fer_folder, tiny_fer_zip):
    a, b = load_split(tiny_fer_folder, "train"), load_split(tiny_fer_zip, "train")
    assert np.array_equal(a.images, b.images) and np.array_equal(a.labels, b.labels)


def test_label_follows_the_folder_name(tmp_path, fer_sample):
    data = next(d for n, d in fer_sample["train"] if "/neutral/" in n)
    (tmp_path / "train" / "neutral").mkdir(parents=True)
    (tmp_path / "train" / "neutral" / "a.jpg").write_bytes(data)
    assert load_split(tmp_path, "train").labels.tolist() == [EMOTIONS.index("Neutral")]


def test_the_csv_format_loads_as_the_folder_of_the_same_faces(tmp_path, fer_sample, tiny_fer_folder):
    """fer2013.csv's columns and index order (not the folders' alphabetical one); the real file's first
    rows are checked in test_full_fer.py where the shared data is present."""
    path = write_fer_csv(tmp_path / "fer2013.csv", fer_sample)
    assert path.read_text().splitlines()[0] == "emotion,pixels,Usage"
    for split in ("train", "val"):
        from_csv, from_folder = load_split(path, split), load_split(tiny_fer_folder, split)
        assert from_csv.class_counts().tolist() == [6] * 7
        # The same faces with the same labels, whatever order each loader lists them in.
        csv_faces = sorted(zip(map(bytes, from_csv.images), from_csv.labels))
        assert csv_faces == sorted(zip(map(bytes, from_folder.images), from_folder.labels))


def test_csv_usages_map_to_splits(tmp_path):
    path = write_csv(tmp_path / "fer.csv", [f"3,{PIXELS},Training", f"4,{PIXELS},PublicTest", f"5,{PIXELS},PrivateTest"])
    assert load_split(path, "train").labels.tolist() == [3]
    assert load_split(path, "val").labels.tolist() == [4]
    assert load_split(path, "test").labels.tolist() == [5]


def test_odd_sized_images_are_resized_to_48(tmp_path):
    (tmp_path / "train" / "happy").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "train" / "happy" / "big.png"), np.full((96, 64), 200, np.uint8))
    split = load_split(tmp_path, "train")
    assert split.images.shape == (1, 48, 48) and split.images.max() == 200


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing", "no such file or folder"),
        (lambda p: (p / "empty").mkdir() or p / "empty", "no train/ folder"),
        (lambda p: (p / "train").mkdir() or p, "no images found"),
        (lambda p: (p / "x.txt").write_text("hi") and p / "x.txt", "not a FER-2013 dataset"),
        (lambda p: (p / "bad.zip").write_bytes(b"not a zip") and p / "bad.zip", "not a valid zip file"),
    ],
)
def test_bad_paths_give_clear_errors(tmp_path, make, message):
    with pytest.raises(DatasetError, match=message):
        load_split(make(tmp_path), "train")


def test_unknown_class_folder_is_named(tmp_path):
    (tmp_path / "train" / "contempt").mkdir(parents=True)
    with pytest.raises(DatasetError, match=r"contempt.*unknown class folder"):
        load_split(tmp_path, "train")


def test_unknown_class_folder_in_zip_is_named(tmp_path):
    path = tmp_path / "fer.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("train/joy/1.jpg", b"x")
    with pytest.raises(DatasetError, match=r"train/joy/1.jpg: unknown class folder 'joy'"):
        load_split(path, "train")


def test_unreadable_image_is_named(tmp_path):
    (tmp_path / "train" / "fear").mkdir(parents=True)
    (tmp_path / "train" / "fear" / "broken.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    with pytest.raises(DatasetError, match=r"broken.jpg: not a readable image"):
        load_split(tmp_path, "train")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (f"9,{PIXELS},Training", r"line 2: emotion 9 is outside"),
        (f"x,{PIXELS},Training", r"line 2: emotion 'x' is not an integer"),
        ("1,1 2 3,Training", r"line 2: 3 pixels, expected 2304"),
        (f"1,{PIXELS[:-3]}abc,Training", r"line 2: pixels must be space-separated integers"),
        (f"1,{' '.join(['300'] * 2304)},Training", r"line 2: pixel values must lie in 0..255"),
        (f"1,{PIXELS},Training,extra", r"line 2: wrong number of columns"),
        (f"1,{PIXELS},Holdout", r"line 2: unknown Usage 'Holdout'"),
    ],
)
def test_malformed_csv_rows_name_the_line(tmp_path, row, message):
    path = write_csv(tmp_path / "fer.csv", [row])
    with pytest.raises(DatasetError, match=message):
        load_split(path, "train")


def test_csv_without_the_columns(tmp_path):
    path = write_csv(tmp_path / "fer.csv", ["1,2"], header="label,data")
    with pytest.raises(DatasetError, match="missing column"):
        load_split(path, "train")


def test_face_to_input_is_48x48x1_in_unit_range():
    face = np.zeros((120, 100, 3), np.uint8)
    face[:, :, :] = 255
    x = face_to_input(face)
    assert x.shape == (48, 48, 1) and x.dtype == np.float32
    assert x.min() == pytest.approx(1.0) and x.max() == pytest.approx(1.0)
    assert face_to_input(np.zeros((10, 10), np.uint8)).max() == 0.0


@pytest.mark.parametrize("name", ["fer.npz", "fer.npz.xz"])
def test_packed_arrays_load_as_the_source_did(tiny_fer_zip, tmp_path, name):
    packed = pack(tiny_fer_zip, tmp_path / name, splits=("train", "val"))
    for split in ("train", "val"):
        original, loaded = load_split(tiny_fer_zip, split), load_split(packed, split)
        assert np.array_equal(original.images, loaded.images) and np.array_equal(original.labels, loaded.labels)
    with pytest.raises(DatasetError, match=r"fer.npz(.xz)?: no 'test' split in it \(it holds train_images"):
        load_split(packed, "test")


@pytest.mark.parametrize(
    ("arrays", "message"),
    [
        ({"train_images": np.zeros((2, 48, 48), np.float32), "train_labels": np.zeros(2)}, "must be uint8"),
        ({"train_images": np.zeros((2, 48, 48), np.uint8), "train_labels": np.array([0, 7])}, r"labels must lie in 0..6"),
        ({"train_images": np.zeros((2, 48, 48), np.uint8), "train_labels": np.array([0.0, 1.5])}, "must be integers"),
    ],
)
def test_packed_arrays_of_the_wrong_kind_are_refused(tmp_path, arrays, message):
    np.savez(tmp_path / "fer.npz", **arrays)
    with pytest.raises(DatasetError, match=message):
        load_split(tmp_path / "fer.npz", "train")


@pytest.mark.parametrize("name", ["fer.npz", "fer.npz.xz"])
def test_a_broken_packed_file_says_so(tmp_path, name):
    (tmp_path / name).write_bytes(b"neither zip nor xz")
    with pytest.raises(DatasetError, match="not a packed FER-2013 file"):
        load_split(tmp_path / name, "train")


def test_a_packed_file_needs_a_name_the_loader_recognises(tiny_fer_zip, tmp_path):
    with pytest.raises(DatasetError, match=r"ends in .npz or .npz.xz"):
        pack(tiny_fer_zip, tmp_path / "fer.bin")
