"""Evaluation metrics against a small example worked out by hand."""

import numpy as np
import pytest

from emotion.training.metrics import classification_metrics, confusion_matrix, format_report

# true:      0 0 0 1 3 3 3 6
# predicted: 0 0 3 1 3 3 0 6
Y_TRUE = np.array([0, 0, 0, 1, 3, 3, 3, 6])
Y_PRED = np.array([0, 0, 3, 1, 3, 3, 0, 6])


def test_confusion_matrix_rows_are_true_classes():
    matrix = confusion_matrix(Y_TRUE, Y_PRED)
    assert matrix.shape == (7, 7)
    assert matrix[0, 0] == 2 and matrix[0, 3] == 1
    assert matrix[3, 3] == 2 and matrix[3, 0] == 1
    assert matrix[1, 1] == 1 and matrix[6, 6] == 1
    assert matrix.sum() == 8


def test_metrics_match_hand_computation():
    m = classification_metrics(Y_TRUE, Y_PRED)
    assert m["n"] == 8
    assert m["accuracy"] == pytest.approx(6 / 8)
    # Angry: precision 2/3, recall 2/3; Disgust 1, 1; Happy 2/3, 2/3; Neutral 1, 1.
    angry = m["per_class"]["Angry"]
    assert angry["precision"] == pytest.approx(2 / 3)
    assert angry["recall"] == pytest.approx(2 / 3)
    assert angry["f1"] == pytest.approx(2 / 3)
    assert angry["support"] == 3
    assert m["per_class"]["Fear"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    # Balanced accuracy and macro F1 over the four classes present.
    assert m["balanced_accuracy"] == pytest.approx((2 / 3 + 1 + 2 / 3 + 1) / 4)
    assert m["macro_f1"] == pytest.approx((2 / 3 + 1 + 2 / 3 + 1) / 4)
    assert m["weighted_f1"] == pytest.approx((3 * 2 / 3 + 1 + 3 * 2 / 3 + 1) / 8)
    assert m["confusion_matrix"][0] == [2, 0, 0, 1, 0, 0, 0]


def test_precision_and_recall_differ_when_errors_are_one_sided():
    m = classification_metrics(np.array([0, 0, 4, 4]), np.array([0, 4, 4, 4]))
    assert m["per_class"]["Angry"]["precision"] == 1.0
    assert m["per_class"]["Angry"]["recall"] == 0.5
    assert m["per_class"]["Sad"]["precision"] == pytest.approx(2 / 3)
    assert m["per_class"]["Sad"]["recall"] == 1.0
    assert m["per_class"]["Sad"]["f1"] == pytest.approx(0.8)


def test_report_names_every_class():
    text = format_report({"model": "m", "data": "d", **classification_metrics(Y_TRUE, Y_PRED)})
    for name in ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral"):
        assert name in text
    assert "accuracy 0.7500" in text
