"""Checks on the full FER-2013 data, the only tests that need the shared data beside the checkout.

Every other test makes its FER-2013-shaped data itself (tests/support/files.py: fer_like_sample). These
skip on a fresh clone, saying to set EMOTION_SHARED_DATA; CI, which has ../shared/data, runs them
(under CI=true a missing file is a failure, not a skip).
"""

from __future__ import annotations

import json

import pytest

from emotion.training.data import load_split
from tests.support.files import BUNDLED_TFLITE, FER_CSV_HEAD, FER_ZIP, ROOT, need

# ../shared/data/README.md's faces per class, in FER-2013's index order (angry .. neutral).
TRAINING_COUNTS = [3995, 436, 4097, 7215, 4830, 3171, 4965]
PUBLIC_TEST_COUNTS = [467, 56, 496, 895, 653, 415, 607]


def test_the_kaggle_zip_loads_with_every_face_of_each_class():
    """The loader reads the real download's layout, labelling by folder name, not alphabetical order."""
    train, val = load_split(need(FER_ZIP), "train"), load_split(FER_ZIP, "val")
    assert train.images.shape == (28709, 48, 48) and train.class_counts().tolist() == TRAINING_COUNTS
    assert val.images.shape == (3589, 48, 48) and val.class_counts().tolist() == PUBLIC_TEST_COUNTS


def test_the_real_csv_excerpt_loads_row_for_row():
    split = load_split(need(FER_CSV_HEAD), "train")
    assert len(split) == 300
    assert split.class_counts().tolist() == [53, 1, 54, 71, 39, 35, 47]
    assert split.labels[0] == 0
    first = [int(v) for v in FER_CSV_HEAD.read_text().splitlines()[1].split(",")[1].split()[:5]]
    assert split.images[0, 0, :5].tolist() == first


def test_the_served_model_scores_on_public_test_what_its_card_says():
    """model/metrics.json came from this very evaluation: the same answer, face for face."""
    from emotion.training.evaluate import evaluate

    measured = evaluate(BUNDLED_TFLITE, need(FER_ZIP), "val")
    recorded = json.loads((ROOT / "model" / "metrics.json").read_text())["tflite"]
    assert measured["n"] == recorded["n"] == 3589
    assert measured["confusion_matrix"] == recorded["confusion_matrix"]
    assert measured["accuracy"] == pytest.approx(recorded["accuracy"], abs=1e-12)
