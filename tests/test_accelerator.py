"""Several training runs at once within a time budget (emotion.training.accelerator), on real faces
(FER-2013-shaped crops of the committed photos).

The whole command runs as on the accelerator machine (JAX, packed data, an archive per net) but on
tiny data, on the CPU; a run stopped at the deadline is checked from a real checkpoint, written here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tarfile

import keras
import numpy as np
import pytest

from emotion.training import accelerator, artifacts, distillation
from emotion.training.data import load_split, pack


def made_up_teacher(data, folder):
    """A teacher file for the tiny data with random answers: the driver passes it on, whatever it says."""
    split = load_split(data, "train")
    answers = np.random.default_rng(0).dirichlet(np.ones(7), len(split)).astype(np.float32)
    path = folder / "teacher.npz"
    distillation.save(path, distillation.Teacher(answers, distillation.fingerprint(split), "made up by the test"))
    return path


def test_nets_train_at_once_within_the_budget_and_come_back_archived(tiny_fer_folder, tmp_path):
    packed = pack(tiny_fer_folder, tmp_path / "fer.npz.xz", splits=("train", "val"))
    out, archive = tmp_path / "nets", tmp_path / "archive"
    teacher_file = made_up_teacher(tiny_fer_folder, tmp_path)
    command = [sys.executable, "-m", "emotion.training.accelerator", "train", "--data", str(packed), "--out", str(out)]
    command += ["--work", str(tmp_path / "work"), "--budget", "300", "--max-epochs", "3", "--timing-epochs", "1"]
    command += ["--archive", str(archive), "--net", "plain=--seed 1 --batch-size 16"]
    command += ["--net", f"cropped=--crop 40 --seed 2 --teacher {teacher_file}"]
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]

    summaries = [json.loads(line) for line in result.stdout.splitlines() if line.startswith('{"net"')]
    assert [s["net"] for s in summaries] == ["plain", "cropped"]
    assert all(s["epochs"] == 3 and not s["stopped_at_deadline"] and 0 <= s["val_accuracy"] <= 1 for s in summaries)
    for name, crop in (("plain", 0), ("cropped", 40)):
        with tarfile.open(archive / f"{name}.tar") as tar:
            tar.extractall(tmp_path / "back", filter="data")
        config = json.loads((tmp_path / "back" / name / artifacts.CONFIG_FILE).read_text())
        assert config["backend"] == "jax" and config["arguments"]["crop"] == crop and config["epochs_run"] == 3
        assert ("teacher" in config) == (name == "cropped")
        assert (tmp_path / "back" / name / artifacts.MODEL_FILE).exists()
        assert not list((tmp_path / "back" / name).glob(".*_best_raw.keras"))


def test_a_run_stopped_at_the_deadline_keeps_its_best_epoch_and_says_so(tiny_fer_folder, tmp_path):
    from emotion.training.model import build_vgg
    from emotion.training.train import training_model

    net = build_vgg()
    training_model(net, seed=1).save(tmp_path / ".vgg_best_raw.keras")  # what ModelCheckpoint leaves
    (tmp_path / artifacts.LOG_FILE).write_text(
        "epoch,accuracy,epoch_seconds,loss,val_accuracy,val_loss\n0,0.2,9.0,2.0,0.31,1.9\n1,0.3,4.0,1.8,0.42,1.7\n"
    )
    teacher_file = made_up_teacher(tiny_fer_folder, tmp_path)
    argv = ["--data", str(tiny_fer_folder), "--out", str(tmp_path), "--epochs", "40", "--seed", "7"]
    argv += ["--teacher", str(teacher_file)]
    accelerator.keep_best_epoch(tmp_path, argv)

    kept = keras.models.load_model(tmp_path / artifacts.MODEL_FILE, compile=False)
    faces = load_split(tiny_fer_folder, "val").images[:4, ..., None].astype(np.float32) / 255
    assert np.allclose(kept.predict(faces, verbose=0), net.predict(faces, verbose=0), atol=1e-6)
    assert not (tmp_path / ".vgg_best_raw.keras").exists()
    config = json.loads((tmp_path / artifacts.CONFIG_FILE).read_text())
    assert config["stopped_at_deadline"]["epochs_planned"] == 40 and config["epochs_run"] == 2
    assert config["best_val_accuracy"] == 0.42 and config["median_epoch_seconds"] == 6.5
    assert config["arguments"]["seed"] == 7 and config["command"].endswith(f"--seed 7 --teacher {teacher_file}")
    assert config["teacher"]["command"] == "made up by the test"


def test_epochs_fit_the_time_left_after_the_first_compiling_epoch():
    # 130 s left, 50 s kept free (slack, keeping and archiving), the first epoch ends 30 s in, then
    # 10 s an epoch: 1 + 5 epochs
    assert accelerator.epochs_that_fit(10.0, 30.0, 130.0, max_epochs=50) == 6
    assert accelerator.epochs_that_fit(10.0, 30.0, 130.0, max_epochs=4) == 4
    assert accelerator.epochs_that_fit(10.0, 90.0, 130.0, max_epochs=50) == 0


@pytest.mark.parametrize("text", ["bad name=--seed 1", "net=--epochs 5", "net=--out elsewhere"])
def test_a_net_cannot_take_what_the_command_sets(text):
    with pytest.raises(argparse.ArgumentTypeError, match=r"NAME=ARGUMENTS|set by this command"):
        accelerator.parse_net(text)


def test_a_stopped_fine_tuning_run_counts_only_its_own_epochs_and_names_its_start(tiny_fer_folder, tmp_path):
    from emotion.training.model import build_vgg
    from emotion.training.train import training_model

    earlier, folder = tmp_path / "stage1", tmp_path / "stage2"
    earlier.mkdir()
    folder.mkdir()
    header = "epoch,accuracy,epoch_seconds,loss,val_accuracy,val_loss\n"
    (earlier / artifacts.LOG_FILE).write_text(header + "0,0.5,3.0,1.2,0.66,1.1\n")
    (earlier / artifacts.CONFIG_FILE).write_text(json.dumps({"command": "stage 1", "best_val_accuracy": 0.66}))
    build_vgg().save(earlier / artifacts.MODEL_FILE)
    training_model(build_vgg(), seed=1).save(folder / ".vgg_best_raw.keras")
    # train copies the earlier stage's log into the new one, then appends its own epochs
    (folder / artifacts.LOG_FILE).write_text(header + "0,0.5,3.0,1.2,0.66,1.1\n0,0.6,5.0,1.0,0.61,1.0\n")
    argv = ["--data", str(tiny_fer_folder), "--out", str(folder), "--epochs", "9", "--init", str(earlier / artifacts.MODEL_FILE)]
    run = accelerator.Run("tuned", ["--init", str(earlier / artifacts.MODEL_FILE)])
    assert accelerator.earlier_epochs(run) == 1
    accelerator.keep_best_epoch(folder, argv, accelerator.earlier_epochs(run))

    config = json.loads((folder / artifacts.CONFIG_FILE).read_text())
    assert config["epochs_run"] == 2 and config["median_epoch_seconds"] == 5.0 and config["best_val_accuracy"] == 0.61
    assert config["started_from"] == {"model": argv[-1], "config": {"command": "stage 1", "best_val_accuracy": 0.66}, "epochs": 1}
    assert len(config["class_weights"]) == 7 and sum(config["train_class_counts"]) == 42
