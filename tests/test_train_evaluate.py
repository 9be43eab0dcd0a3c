"""A short real training run on tiny data, the export, and the evaluate command on it.

CI never trains the real model: these runs use 42 FER-2013-shaped faces made from the committed
photos (tests/support/files.py: fer_like_sample) and two epochs.
"""

from __future__ import annotations

import contextlib
import json

import numpy as np
import pytest

from emotion.classifier import EmotionClassifier
from emotion.training import artifacts, evaluate, train

JSON_KEYS = {"accuracy", "balanced_accuracy", "macro_f1", "weighted_f1", "per_class", "confusion_matrix", "n"}


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny_fer_folder):
    out = tmp_path_factory.mktemp("model")
    state = tmp_path_factory.mktemp("state")
    args = ["--data", str(tiny_fer_folder), "--out", str(out), "--epochs", "2", "--batch-size", "16", "--state-dir", str(state)]
    code = train.main(args)
    assert code == 0
    return out


def test_training_writes_model_export_log_and_config(trained):
    for name in (artifacts.MODEL_FILE, artifacts.TFLITE_FILE, artifacts.LOG_FILE, artifacts.CONFIG_FILE):
        assert (trained / name).is_file(), name
    config = json.loads((trained / artifacts.CONFIG_FILE).read_text())
    assert config["epochs_run"] == 2 and config["median_epoch_seconds"] > 0
    assert config["command"].startswith("python -m emotion.training.train")
    log_lines = (trained / artifacts.LOG_FILE).read_text().splitlines()
    assert len(log_lines) == 3 and "epoch_seconds" in log_lines[0]
    assert not list(trained.glob(".*_best_raw.keras"))


def test_saved_model_reloads_and_predicts_seven_probabilities(trained, tiny_fer_folder):
    images = np.random.default_rng(0).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    keras_probs = evaluate.predict_probabilities(trained / artifacts.MODEL_FILE, images)
    lite_probs = EmotionClassifier(trained / artifacts.TFLITE_FILE).predict(images[..., None].astype(np.float32) / 255)
    assert keras_probs.shape == lite_probs.shape == (5, 7)
    assert np.allclose(keras_probs.sum(axis=1), 1, atol=1e-5)
    assert np.allclose(keras_probs, lite_probs, atol=0.02)  # the export's weights are int8 (emotion.training.export)


def test_export_command_quantizes_the_weights_and_keeps_the_answers(trained, tmp_path, capsys):
    from emotion.training import export

    model = trained / artifacts.MODEL_FILE
    assert export.main(["--model", str(model), "--out", str(tmp_path / "int8.tflite")]) == 0
    assert export.main(["--model", str(model), "--out", str(tmp_path / "float.tflite"), "--float"]) == 0
    assert "wrote" in capsys.readouterr().out
    assert (tmp_path / "int8.tflite").stat().st_size < 0.4 * (tmp_path / "float.tflite").stat().st_size
    faces = np.random.default_rng(1).random((8, 48, 48, 1), dtype=np.float32)
    quantized = EmotionClassifier(tmp_path / "int8.tflite").predict(faces)
    assert np.allclose(quantized, EmotionClassifier(tmp_path / "float.tflite").predict(faces), atol=0.02)
    assert export.main(["--model", str(tmp_path / "missing.keras")]) == 2


def test_flip_averaging_gives_a_face_and_its_mirror_the_same_answer(trained, tmp_path):
    import keras

    from emotion.training.model import with_flip_averaging

    plain = keras.models.load_model(trained / artifacts.MODEL_FILE, compile=False)
    face = np.random.default_rng(1).random((1, 48, 48, 1), dtype=np.float32)
    assert not np.allclose(plain.predict(face, verbose=0), plain.predict(face[:, :, ::-1], verbose=0), atol=1e-5)
    averaged = with_flip_averaging(plain)
    averaged.save(tmp_path / "averaged.keras")  # and it survives saving and loading
    reloaded = keras.models.load_model(tmp_path / "averaged.keras", compile=False)
    assert np.allclose(reloaded.predict(face, verbose=0), reloaded.predict(face[:, :, ::-1], verbose=0), atol=1e-5)


@contextlib.contextmanager
def interrupted_after_epoch(index: int):
    """Stop training after an epoch as Ctrl-C would (patching fit only to inject the interruption)."""
    import keras

    class Interrupt(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == index:
                raise KeyboardInterrupt

    original_fit = keras.Model.fit

    def interrupted_fit(self, *a, **kw):
        kw["callbacks"] = [*kw["callbacks"], Interrupt()]
        return original_fit(self, *a, **kw)

    keras.Model.fit = interrupted_fit
    try:
        yield
    finally:
        keras.Model.fit = original_fit


def test_resume_continues_from_the_backup(tmp_path, tiny_fer_folder):
    """An interrupted run leaves its backup; the same command then resumes instead of restarting."""
    args = ["--data", str(tiny_fer_folder), "--out", str(tmp_path / "m"), "--epochs", "3", "--batch-size", "16"]
    args += ["--state-dir", str(tmp_path / "s")]
    with interrupted_after_epoch(1), pytest.raises(KeyboardInterrupt):
        train.main(args)
    assert any((tmp_path / "s").iterdir())
    assert train.main(args) == 0
    config = json.loads((tmp_path / "m" / artifacts.CONFIG_FILE).read_text())
    assert config["epochs_this_process"] == 1  # epochs 1-2 ran before the interruption, only epoch 3 after
    assert config["epochs_run"] == 3
    assert config["command"] == "python -m emotion.training.train " + " ".join(args)
    assert len((tmp_path / "m" / artifacts.LOG_FILE).read_text().splitlines()) == 4


def test_evaluate_cli_writes_every_figure_for_both_model_files(trained, tiny_fer_zip, tmp_path, capsys):
    results = {}
    for name in (artifacts.MODEL_FILE, artifacts.TFLITE_FILE):
        out = tmp_path / f"{name}.json"
        assert evaluate.main(["--data", str(tiny_fer_zip), "--model", str(trained / name), "--json", str(out)]) == 0
        results[name] = json.loads(out.read_text())
        assert set(results[name]) >= JSON_KEYS
        assert results[name]["n"] == 42
    assert "balanced accuracy" in capsys.readouterr().out
    assert results[artifacts.MODEL_FILE]["accuracy"] == pytest.approx(results[artifacts.TFLITE_FILE]["accuracy"], abs=1 / 42)


def test_evaluate_reports_bad_inputs_without_a_traceback(trained, tmp_path, capsys):
    assert evaluate.main(["--data", str(tmp_path / "nope.zip"), "--model", str(trained / artifacts.TFLITE_FILE)]) == 2
    assert "no such file or folder" in capsys.readouterr().err
    assert evaluate.main(["--data", str(tmp_path), "--model", str(tmp_path / "missing.tflite")]) == 2


def test_train_reports_bad_data(tmp_path, capsys):
    assert train.main(["--data", str(tmp_path / "missing"), "--out", str(tmp_path / "m")]) == 2
    assert "no such file or folder" in capsys.readouterr().err


def test_class_weights_lift_rare_classes_and_keep_the_mean():
    counts = np.array([3995, 436, 4097, 7215, 4830, 3171, 4965])
    weights = train.class_weights(counts)
    assert weights[1] == weights.max() and weights[3] == weights.min()
    assert (weights * counts).sum() / counts.sum() == pytest.approx(1.0)


def test_report_writes_the_model_card_from_measured_figures(trained, tiny_fer_zip):
    from emotion.training import report

    assert report.main(["--data", str(tiny_fer_zip), "--model-dir", str(trained), "--compare", str(trained)]) == 0
    metrics = json.loads((trained / "metrics.json").read_text())
    assert metrics["split"] == "PublicTest" and set(metrics["tflite"]) >= JSON_KEYS and set(metrics["keras"]) >= JSON_KEYS
    card = (trained / "README.md").read_text()
    assert f"{metrics['tflite']['accuracy'] * 100:.1f}%" in card
    assert "python -m emotion.training.train" in card and "never" in card.lower()
    assert "Architecture comparison" in card
    for image in ("confusion_matrix.png", "training_curves.png"):
        assert (trained / image).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fine_tuning_starts_from_a_trained_model_and_keeps_both_stages(trained, tiny_fer_folder, tiny_fer_zip, tmp_path):
    from emotion.training import report

    out, state = tmp_path / "tuned", tmp_path / "state"
    init = trained / artifacts.MODEL_FILE
    args = ["--data", str(tiny_fer_folder), "--out", str(out), "--init", str(init), "--epochs", "1"]
    assert train.main([*args, "--batch-size", "16", "--lr", "1e-4", "--state-dir", str(state)]) == 0
    config = json.loads((out / artifacts.CONFIG_FILE).read_text())
    first = json.loads((trained / artifacts.CONFIG_FILE).read_text())
    assert config["started_from"] == {"model": str(init), "config": first, "epochs": 2}
    assert config["epochs_run"] == 3  # both stages' epochs are in the log
    assert len((out / artifacts.LOG_FILE).read_text().splitlines()) == 4
    assert report.main(["--data", str(tiny_fer_zip), "--model-dir", str(out)]) == 0
    card = (out / "README.md").read_text()
    assert first["command"] in card and config["command"] in card and "1 more epochs" in card


def test_fine_tuning_refuses_a_model_of_another_architecture(trained, tiny_fer_folder, tmp_path, capsys):
    args = ["--data", str(tiny_fer_folder), "--out", str(tmp_path), "--arch", "convnet", "--epochs", "1"]
    assert train.main([*args, "--init", str(trained / artifacts.MODEL_FILE), "--state-dir", str(tmp_path / "state")]) == 2
    assert "is not a trained 'convnet' model" in capsys.readouterr().err


def test_weight_average_keeps_the_mean_of_the_window_and_resumes_it(tmp_path):
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    state = tmp_path / "average.npz"
    averager = train.WeightAverage(first_epoch=1, state_file=state, net=model)
    kernel_values = {0: 10.0, 1: 1.0, 2: 2.0, 3: 6.0}
    for epoch in (0, 1, 2):  # epoch 0 lies before the window
        model.set_weights([np.full((2, 1), kernel_values[epoch]), np.zeros(1)])
        averager.on_epoch_end(epoch)
    assert averager.count == 2
    np.testing.assert_allclose(averager.mean[0], 1.5)

    resumed = train.WeightAverage(first_epoch=1, state_file=state, net=model)  # a new process after an interruption
    assert (resumed.count, resumed.last_epoch) == (2, 2)
    resumed.on_epoch_end(2)  # an epoch replayed from the backup is not counted twice
    model.set_weights([np.full((2, 1), kernel_values[3]), np.zeros(1)])
    resumed.on_epoch_end(3)
    np.testing.assert_allclose(resumed.mean[0], 3.0)


def test_weight_averaged_run_records_both_scores_and_keeps_the_better(trained, tiny_fer_folder, tmp_path):
    args = ["--data", str(tiny_fer_folder), "--out", str(tmp_path / "m"), "--init", str(trained / artifacts.MODEL_FILE)]
    args += ["--epochs", "3", "--batch-size", "16", "--lr", "1e-4", "--schedule", "constant", "--average-last", "2"]
    assert train.main([*args, "--state-dir", str(tmp_path / "s")]) == 0
    config = json.loads((tmp_path / "m" / artifacts.CONFIG_FILE).read_text())
    average = config["weight_average"]
    assert average["epochs"] == 2
    # The saved model is the better of the two: its own PublicTest score, measured after saving, is the higher one.
    better = max(average["val_accuracy"], average["best_epoch_val_accuracy"])
    assert config["best_val_accuracy"] == pytest.approx(better)


def test_resumed_fine_tune_into_the_init_folder_counts_only_the_earlier_stage(trained, tiny_fer_folder, tmp_path):
    """With --out the --init model's folder, the log grows during the run; a resume must not recount it."""
    import shutil

    folder = tmp_path / "model"
    shutil.copytree(trained, folder)
    args = ["--data", str(tiny_fer_folder), "--out", str(folder), "--init", str(folder / artifacts.MODEL_FILE)]
    args += ["--epochs", "3", "--batch-size", "16", "--lr", "1e-4", "--state-dir", str(tmp_path / "s")]
    with interrupted_after_epoch(1), pytest.raises(KeyboardInterrupt):
        train.main(args)
    assert train.main(args) == 0
    config = json.loads((folder / artifacts.CONFIG_FILE).read_text())
    assert config["started_from"]["epochs"] == 2
    assert config["epochs_run"] == 5


def test_model_card_recipe_lists_every_stage_of_a_model_fine_tuned_twice():
    from emotion.training import report

    def stage(command, lr, accuracy, started_from=None, **extra):
        args = {"batch_size": 64, "lr": lr, "weight_decay": 1e-4, **extra.pop("args", {})}
        config = {"command": command, "arguments": args, "best_val_accuracy": accuracy, **extra}
        if started_from:
            config["started_from"] = started_from
        return config

    first = stage("train a", 1e-3, 0.683, epochs_run=60)
    second = stage("train b", 3e-4, 0.6865, {"config": first, "epochs": 60}, epochs_run=80)
    average = {"epochs": 12, "val_accuracy": 0.69, "best_epoch_val_accuracy": 0.68, "kept": True}
    after_second = {"config": second, "epochs": 80}
    third = stage("train c", 2e-4, 0.69, after_second, epochs_run=94, weight_average=average, args={"schedule": "constant"})
    assert report.training_stages(third) == [first, second, third]
    assert report.stage_boundaries(third) == [60, 80]
    recipe = report.recipe_commands(third)
    assert "these 3 commands" in recipe and all(f"    train {x}" in recipe for x in "abc")
    assert "Stage 1: 60 epochs" in recipe and "Stage 2: 20 more epochs" in recipe and "Stage 3: 14 more epochs" in recipe
    assert "held there" in recipe and "mean of the last 12 epochs' weights scored 69.0%" in recipe and "(kept)" in recipe
    assert "from 68.7% to 69.0%" in recipe


def test_widths_set_the_vgg_blocks_and_the_card_describes_them(tiny_fer_folder, tiny_fer_zip, tmp_path):
    import keras

    from emotion.training import report

    out = tmp_path / "narrow"
    args = ["--data", str(tiny_fer_folder), "--out", str(out), "--widths", "8", "16", "--epochs", "1", "--batch-size", "16"]
    assert train.main([*args, "--state-dir", str(tmp_path / "s")]) == 0
    model = keras.models.load_model(out / artifacts.MODEL_FILE, compile=False)
    assert [layer.filters for layer in model.layers if isinstance(layer, keras.layers.Conv2D)] == [8, 8, 16, 16]
    assert report.main(["--data", str(tiny_fer_zip), "--model-dir", str(out)]) == 0
    assert "Two VGG blocks (two Conv3x3-BatchNorm-ReLU, MaxPool, Dropout) of 8 and 16 filters" in (out / "README.md").read_text()
