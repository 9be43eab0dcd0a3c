"""Distillation: the teacher file, its checks against the data, and a short run that learns from it.

The runs use the tiny fixtures' FER-2013-shaped faces (crops of the committed photos); the teachers
are two untrained nets of the served architecture.
"""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from emotion.training import artifacts, distillation, train
from emotion.training.data import Split, load_split


@pytest.fixture(scope="module")
def teacher_nets(tmp_path_factory):
    """Two nets of the served architecture, untrained: what the teacher file holds is their mean, whatever they say."""
    import keras

    from emotion.training.model import build_vgg

    nets = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        path = tmp_path_factory.mktemp("teacher-net") / artifacts.MODEL_FILE
        build_vgg().save(path)
        nets.append(path)
    return nets


@pytest.fixture(scope="module")
def teacher_file(tmp_path_factory, tiny_fer_folder, teacher_nets):
    out = tmp_path_factory.mktemp("teacher") / "teacher.npz"
    code = distillation.main(["--data", str(tiny_fer_folder), "--models", *map(str, teacher_nets), "--out", str(out)])
    assert code == 0
    return out


def test_soften_keeps_the_order_and_flattens_the_answers():
    answers = np.array([[0.7, 0.2, 0.1, 0, 0, 0, 0]], np.float32)
    assert np.allclose(distillation.soften(answers, 1.0), answers, atol=1e-6)
    softer = distillation.soften(answers, 3.0)
    assert np.isclose(softer.sum(), 1.0) and softer[0, 0] < 0.7 and softer[0, 0] > softer[0, 1] > softer[0, 2]
    with pytest.raises(ValueError):
        distillation.soften(answers, 0.0)


def test_targets_mix_label_and_teacher_by_the_weight():
    labels = np.array([3, 0])
    answers = np.full((2, 7), 1 / 7, np.float32)
    assert np.array_equal(distillation.distillation_targets(labels, answers, 0.0), np.eye(7, dtype=np.float32)[labels])
    assert np.allclose(distillation.distillation_targets(labels, answers, 1.0), answers)
    half = distillation.distillation_targets(labels, answers, 0.5)
    assert np.allclose(half.sum(axis=1), 1.0) and np.isclose(half[0, 3], 0.5 + 0.5 / 7)
    with pytest.raises(ValueError):
        distillation.distillation_targets(labels, answers, 1.5)


def test_teacher_file_holds_the_mean_answer_for_every_training_face(teacher_file, teacher_nets, tiny_fer_folder):
    from emotion.training import evaluate

    split = load_split(tiny_fer_folder, "train")
    loaded = distillation.load(teacher_file, split)
    answers = [evaluate.predict_probabilities(net, split.images) for net in teacher_nets]
    assert not np.allclose(answers[0], answers[1], atol=1e-2)  # two different nets, so a mean is a mean
    expected = (answers[0] + answers[1]) / 2
    assert loaded.probabilities.shape == (len(split), 7)
    assert np.allclose(loaded.probabilities, expected, atol=2e-3)  # stored as float16
    assert loaded.command.startswith("python -m emotion.training.distillation")


def test_teacher_file_is_refused_for_other_faces_or_another_order(teacher_file, tiny_fer_folder, tmp_path):
    split = load_split(tiny_fer_folder, "train")
    reordered = Split(split.images[::-1], split.labels[::-1], split.source)
    with pytest.raises(distillation.TeacherError, match="other training faces"):
        distillation.load(teacher_file, reordered)
    fewer = Split(split.images[:-1], split.labels[:-1], split.source)
    with pytest.raises(distillation.TeacherError, match="faces"):
        distillation.load(teacher_file, fewer)
    for name, content in (("broken.npz", b"not an npz"), ("empty.npz", b""), ("cut.npz", teacher_file.read_bytes()[:200])):
        (tmp_path / name).write_bytes(content)
        with pytest.raises(distillation.TeacherError, match="not a teacher file"):
            distillation.load(tmp_path / name, split)


def test_a_limited_run_keeps_each_face_with_its_own_teacher_answer(teacher_file, tiny_fer_folder):
    args = train.parse_args(["--data", str(tiny_fer_folder), "--limit", "20", "--teacher", str(teacher_file)])
    train_split, _, limited = train.load_data(args)
    full = load_split(tiny_fer_folder, "train")
    answers = distillation.load(teacher_file, full).probabilities
    assert limited is not None and len(limited.probabilities) == len(train_split) == 20
    for image, answer in zip(train_split.images, limited.probabilities):
        index = next(i for i, face in enumerate(full.images) if np.array_equal(face, image))
        assert np.allclose(answer, answers[index])


def test_teacher_settings_without_a_teacher_are_refused(tiny_fer_folder):
    with pytest.raises(SystemExit):
        train.parse_args(["--data", str(tiny_fer_folder), "--teacher-weight", "0.3"])


def test_distilled_run_records_its_teacher_and_a_mismatch_is_a_plain_error(teacher_file, tiny_fer_folder, tmp_path, capsys):
    out, state = tmp_path / "student", tmp_path / "state"
    common = ["--out", str(out), "--epochs", "1", "--batch-size", "16", "--state-dir", str(state)]
    distil = ["--teacher", str(teacher_file), "--teacher-weight", "0.7", "--teacher-temperature", "2"]
    args = ["--data", str(tiny_fer_folder), *common, *distil]
    assert train.main([*args, "--limit", "30"]) == 0
    config = json.loads((out / artifacts.CONFIG_FILE).read_text())
    assert config["arguments"]["teacher_weight"] == 0.7 and config["arguments"]["teacher_temperature"] == 2
    assert config["teacher"]["command"].startswith("python -m emotion.training.distillation")
    changed = tmp_path / "changed"
    shutil.copytree(tiny_fer_folder, changed)
    first, second = sorted((changed / "train").rglob("*.jpg"))[:2]
    first.write_bytes(second.read_bytes())  # one face differs, so this teacher file does not describe the data
    assert train.main(["--data", str(changed), *common, "--teacher", str(teacher_file)]) == 2
    assert "other training faces" in capsys.readouterr().err


def test_the_model_card_says_how_a_distilled_stage_was_taught():
    from emotion.training import report

    args = {"batch_size": 128, "lr": 3e-4, "weight_decay": 1e-4, "teacher_weight": 0.7, "teacher_temperature": 2.0}
    first = {"command": "train a", "arguments": {**args, "lr": 1e-3}, "best_val_accuracy": 0.69, "epochs_run": 100}
    distilled = {
        "command": "train b --teacher t.npz",
        "arguments": args,
        "best_val_accuracy": 0.7,
        "epochs_run": 110,
        "teacher": {"command": "python -m emotion.training.distillation --models a b", "fingerprint": "f"},
        "started_from": {"config": first, "epochs": 100},
    }
    recipe = report.recipe_commands(distilled)
    assert "Distilled: each target was 0.3 the label and 0.7 the teacher's answer, softened at temperature 2" in recipe
    assert "`python -m emotion.training.distillation --models a b`" in recipe
    assert recipe.count("Distilled") == 1  # the first stage learned from the labels alone
