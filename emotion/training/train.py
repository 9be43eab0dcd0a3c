"""Train the emotion CNN on FER-2013: `python -m emotion.training.train --data PATH --out model/`.

Recipe: on-the-fly augmentation (flip, shift, zoom, rotation, brightness/contrast, random
erasing; a layer in front of the network, so the same run works on TensorFlow and on JAX), AdamW
with warm-up then cosine decay, label smoothing, square-root class weights for the rare classes,
early stopping on PublicTest with the best weights kept. Flip averaging at inference is optional
(--flip-average); it did not pay on the bundled model (model/comparisons.json). Every epoch is backed
up, so re-running the same command after an interruption resumes where it stopped. `--init` starts from
a trained model for a second, shorter cosine cycle; the log then holds both stages.
`--average-last N` averages the weights of the last N epochs (stochastic weight averaging, best with
`--schedule constant`): one model with the smoother optimum of several, at no cost in the app.
`--crop 40` makes the network read the central 40x40 of each face (the shift augmentation makes that a
random crop in training): cheaper a face, as Khaireddin & Chen 2021 trained theirs.
`--teacher FILE` distils: each face's target mixes its label with a teacher's answer
(`python -m emotion.training.distillation` writes the file from trained nets).

Keras picks its backend from KERAS_BACKEND: with `jax` (the accelerator machine has no TensorFlow)
the run writes the Keras model and skips the .tflite export, which `python -m emotion.training.export`
then makes with TensorFlow.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import shlex
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras
import numpy as np

from emotion.training.artifacts import CONFIG_FILE, LOG_FILE, MODEL_FILE, TFLITE_FILE, log_column, read_log_column
from emotion.training.augmentation import FaceAugmentation
from emotion.training.data import DatasetError, Split, load_split, model_inputs, one_hot
from emotion.training.distillation import Teacher, TeacherError, distillation_targets, soften
from emotion.training.distillation import load as load_teacher
from emotion.training.export import export_where_possible
from emotion.training.model import ARCHITECTURES, INPUT_SHAPE, VGG_WIDTHS, build_vgg, with_flip_averaging


class InitModelError(ValueError):
    """The --init model cannot be read or does not fit the architecture."""


def class_weights(counts: np.ndarray) -> np.ndarray:
    """Square-root inverse-frequency weights, mean 1 over the training samples.

    Full inverse weighting costs accuracy on the common classes; the square root lifts
    Disgust and Fear (balanced accuracy) while keeping overall accuracy.
    """
    weights = 1.0 / np.sqrt(np.maximum(counts, 1))
    return weights / (weights * counts).sum() * counts.sum()


def training_targets(split: Split, teacher: Teacher | None, weight: float | None, temperature: float | None) -> np.ndarray:
    """One-hot labels, or with a teacher the mix of label and teacher's answer (label smoothing applies to both)."""
    if teacher is None:
        return one_hot(split.labels)
    assert weight is not None and temperature is not None  # parse_args sets both with --teacher
    return distillation_targets(split.labels, soften(teacher.probabilities, temperature), weight)


def training_model(net: keras.Model, seed: int) -> keras.Model:
    """The network behind the augmentation layer: what `fit` trains, while only `net` is saved."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    return keras.Model(inputs, net(FaceAugmentation(seed, name="augmentation")(inputs)), name="trainer")


class EpochTimer(keras.callbacks.Callback):
    """Adds `epoch_seconds` to the epoch logs and prints it, so CPU runs can be planned."""

    def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        seconds = time.perf_counter() - self._start
        if logs is not None:
            logs["epoch_seconds"] = seconds
        print(f"epoch {epoch + 1}: {seconds:.1f} s", flush=True)


class WeightAverage(keras.callbacks.Callback):
    """Running mean of the weights at the end of each epoch from `first_epoch` on.

    The mean is kept in the state folder too, so an interrupted run resumes with it. BatchNorm
    statistics are averaged with the rest: re-estimating them without dropout scored worse.
    """

    def __init__(self, first_epoch: int, state_file: Path, net: keras.Model) -> None:
        super().__init__()
        self.net = net  # the trained network, without the augmentation layer in front
        self.first_epoch = first_epoch
        self.state_file = state_file
        self.mean: list[np.ndarray] | None = None
        self.count = 0
        self.last_epoch = -1
        if state_file.exists():
            with np.load(state_file) as saved:
                self.count, self.last_epoch = int(saved["count"]), int(saved["last_epoch"])
                self.mean = [saved[f"w{i}"] for i in range(len(saved.files) - 2)]

    def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:
        if epoch < self.first_epoch or epoch <= self.last_epoch:
            return
        weights = [w.astype(np.float64) for w in self.net.get_weights()]
        self.count += 1
        if self.mean is None:
            self.mean = weights
        else:
            self.mean = [m + (w - m) / self.count for m, w in zip(self.mean, weights)]
        self.last_epoch = epoch
        self.state_file.parent.mkdir(parents=True, exist_ok=True)
        arrays: dict[str, Any] = {f"w{i}": m for i, m in enumerate(self.mean)}
        np.savez(self.state_file, count=np.asarray(self.count), last_epoch=np.asarray(epoch), **arrays)


def best_logged(log_path: Path, key: str = "val_accuracy") -> float | None:
    """The best value of `key` in an earlier (interrupted) run's log, so a resume keeps the best model."""
    values = [float(v) for v in read_log_column(log_path, key)]
    return max(values) if values else None


def earlier_stage(init_model: str, record: Path) -> dict:
    """The run that trained the --init model (its config and log, when they lie beside it).

    Read once when a run starts and kept in `record` (in the state folder): with --out the
    --init model's own folder, its log grows during the run, so a resume must not read it again.
    """
    if record.exists():
        return json.loads(record.read_text())
    folder = Path(init_model).parent
    log = (folder / LOG_FILE).read_text() if (folder / LOG_FILE).exists() else ""
    config = json.loads((folder / CONFIG_FILE).read_text()) if (folder / CONFIG_FILE).exists() else None
    epochs = len(log_column(log, "epoch"))  # the log's rows, as the accelerator driver counts them
    stage = {"config": config, "log": log, "epochs": epochs}
    record.parent.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(stage))
    return stage


def accuracy_on(model: keras.Model, split: Split) -> float:
    predicted = np.argmax(model.predict(model_inputs(split.images), batch_size=256, verbose=0), axis=1)
    return float(np.mean(predicted == split.labels))


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m emotion.training.train", description=__doc__.splitlines()[0], allow_abbrev=False
    )
    parser.add_argument("--data", required=True, help="fer2013.zip, its extracted folder, or fer2013.csv")
    parser.add_argument("--out", default="model", help="folder for the model, its export and the training log")
    parser.add_argument("--arch", choices=sorted(ARCHITECTURES), default="vgg")
    parser.add_argument(
        "--widths",
        type=int,
        nargs="+",
        default=list(VGG_WIDTHS),
        metavar="N",
        help="filters of each VGG block (--arch vgg); wider blocks make each epoch much longer on a CPU",
    )
    parser.add_argument(
        "--crop",
        type=int,
        default=0,
        metavar="N",
        help="the VGG net reads the central NxN of each 48x48 face (--arch vgg; 0: the whole face)",
    )
    parser.add_argument("--epochs", type=int, default=70)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument(
        "--steps-per-execution",
        type=int,
        default=1,
        metavar="N",
        help="training steps in one compiled call: on an accelerator it saves the per-step overhead of small batches",
    )
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate after warm-up")
    parser.add_argument(
        "--schedule",
        choices=["cosine", "constant"],
        default="cosine",
        help="after warm-up: cosine decay, or --lr throughout (for --average-last)",
    )
    parser.add_argument(
        "--average-last",
        type=int,
        default=0,
        metavar="N",
        help="save the mean of the last N epochs' weights when it beats the best single epoch on PublicTest",
    )
    parser.add_argument("--weight-decay", type=float, default=1e-4)
    parser.add_argument("--patience", type=int, default=10, help="early stopping on PublicTest accuracy")
    parser.add_argument("--seed", type=int, default=1234)
    parser.add_argument(
        "--init",
        help="a trained .keras model of the same --arch to start from (a second, shorter cosine cycle fine-tunes it)",
    )
    parser.add_argument("--limit", type=int, default=0, help="train on a random N of the training images (smoke runs)")
    parser.add_argument("--teacher", help="a teacher file (python -m emotion.training.distillation) to distil from")
    parser.add_argument(
        "--teacher-weight",
        type=float,
        help="the teacher's share of each target, the label's the rest (with --teacher; default 0.5)",
    )
    parser.add_argument(
        "--teacher-temperature",
        type=float,
        help="above 1 softens the teacher's answers, so its second guesses weigh more (with --teacher; default 1)",
    )
    parser.add_argument(
        "--flip-average",
        action="store_true",
        help="save the model averaged with its mirror image (test-time augmentation; twice the inference cost)",
    )
    parser.add_argument(
        "--state-dir",
        default=str(Path.home() / ".cache" / "emotion-train"),
        help="per-epoch backup for resuming; removed when a run completes",
    )
    args = parser.parse_args(argv)
    if args.crop and args.arch != "vgg":
        parser.error("--crop is for --arch vgg")
    if args.teacher is None:
        if args.teacher_weight is not None or args.teacher_temperature is not None:
            parser.error("--teacher-weight and --teacher-temperature are for --teacher")
    else:
        args.teacher_weight = 0.5 if args.teacher_weight is None else args.teacher_weight
        args.teacher_temperature = 1.0 if args.teacher_temperature is None else args.teacher_temperature
        if not 0.0 <= args.teacher_weight <= 1.0:
            parser.error("--teacher-weight must lie in 0..1")
        if args.teacher_temperature <= 0:
            parser.error("--teacher-temperature must be positive")
    args.command = shlex.join(["python", "-m", "emotion.training.train", *(sys.argv[1:] if argv is None else argv)])
    return args


def load_data(args: argparse.Namespace) -> tuple[Split, Split, Teacher | None]:
    """The training split (a random --limit of it for smoke runs), PublicTest, and the --teacher's answers."""
    train_split = load_split(args.data, "train")
    val_split = load_split(args.data, "val")
    teacher = load_teacher(args.teacher, train_split) if args.teacher else None
    if args.limit:
        order = np.random.default_rng(args.seed).permutation(len(train_split))[: args.limit]
        train_split = Split(train_split.images[order], train_split.labels[order], train_split.source)
        if teacher:
            teacher = Teacher(teacher.probabilities[order], teacher.fingerprint, teacher.command)
    print(
        f"train {len(train_split)} images {train_split.class_counts().tolist()}; "
        f"val {len(val_split)} images {val_split.class_counts().tolist()}",
        flush=True,
    )
    return train_split, val_split, teacher


def learning_rate_schedule(args: argparse.Namespace, steps_per_epoch: int) -> keras.optimizers.schedules.LearningRateSchedule:
    """Warm-up over two epochs to --lr, then cosine decay to 1% of it (or --lr held, --schedule constant)."""
    warmup_epochs = min(2, max(args.epochs - 1, 0))
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=args.lr * 0.1,
        warmup_target=args.lr,
        warmup_steps=warmup_epochs * steps_per_epoch,
        decay_steps=max(args.epochs - warmup_epochs, 1) * steps_per_epoch,
        alpha=1.0 if args.schedule == "constant" else 0.01,
    )


def network(args: argparse.Namespace) -> keras.Model:
    """The --arch network, from --init's weights when given."""
    net = build_vgg(tuple(args.widths), crop=args.crop) if args.arch == "vgg" else ARCHITECTURES[args.arch]()
    if args.init:
        try:
            net.set_weights(keras.models.load_model(args.init, compile=False).get_weights())
        except (OSError, ValueError) as error:
            raise InitModelError(f"--init {args.init} is not a trained '{args.arch}' model: {error}") from None
    return net


def compiled_trainer(net: keras.Model, args: argparse.Namespace, steps_per_epoch: int) -> keras.Model:
    """`net` behind the augmentation, compiled with AdamW and label smoothing."""
    model = training_model(net, args.seed)
    model.compile(
        optimizer=keras.optimizers.AdamW(
            learning_rate=learning_rate_schedule(args, steps_per_epoch), weight_decay=args.weight_decay
        ),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=0.1),
        metrics=["accuracy"],
        steps_per_execution=args.steps_per_execution,
    )
    return model


@dataclass
class RunFiles:
    """Where a run keeps its log, its best epoch and its backup, and whether it resumes an interrupted run."""

    out: Path
    state_dir: Path
    resuming: bool
    started_from: dict | None  # the --init model's own run (earlier_stage)

    @property
    def log(self) -> Path:
        return self.out / LOG_FILE

    def best_raw_model(self, arch: str) -> Path:
        return self.out / f".{arch}_best_raw.keras"


def prepare_run(args: argparse.Namespace) -> RunFiles:
    """The run's folders; a fresh run starts a fresh log, after the earlier stage's epochs when fine-tuning."""
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    state_dir = Path(args.state_dir) / args.arch
    resuming = state_dir.is_dir() and any(state_dir.iterdir())
    started_from = earlier_stage(args.init, state_dir / "earlier_stage.json") if args.init else None
    files = RunFiles(out, state_dir, resuming, started_from)
    if not resuming:
        files.log.unlink(missing_ok=True)
        if started_from and started_from["log"]:
            files.log.write_text(started_from["log"])
    return files


def training_callbacks(
    args: argparse.Namespace, files: RunFiles, averager: WeightAverage | None
) -> list[keras.callbacks.Callback]:
    """Epoch timing, the per-epoch backup, the best epoch kept, early stopping and the CSV log."""
    callbacks = [
        EpochTimer(),
        keras.callbacks.BackupAndRestore(str(files.state_dir)),
        keras.callbacks.ModelCheckpoint(
            str(files.best_raw_model(args.arch)),
            monitor="val_accuracy",
            mode="max",
            save_best_only=True,
            initial_value_threshold=best_logged(files.log) if files.resuming else None,
        ),
        keras.callbacks.EarlyStopping(monitor="val_accuracy", mode="max", patience=args.patience),
        keras.callbacks.CSVLogger(str(files.log), append=True),
    ]
    if averager:
        callbacks.insert(1, averager)  # before the backup, so a backed-up epoch is always in the mean
    return callbacks


def choose_weights(best: keras.Model, averager: WeightAverage | None, val_split: Split) -> tuple[keras.Model, dict | None]:
    """The best epoch's model, or the mean of the averaging window's weights where that scores at least as well.

    Returns the model to keep and, when an average was made, both scores and the choice.
    """
    if averager is None:
        return best, None
    if averager.mean is None:
        print("no epoch reached the averaging window (early stopping); keeping the best epoch", flush=True)
        return best, None
    best_accuracy = accuracy_on(best, val_split)
    candidate = keras.models.clone_model(best)
    candidate.set_weights([m.astype(w.dtype) for m, w in zip(averager.mean, best.get_weights())])
    mean_accuracy = accuracy_on(candidate, val_split)
    averaged = {
        "epochs": averager.count,
        "val_accuracy": mean_accuracy,
        "best_epoch_val_accuracy": best_accuracy,
        "kept": mean_accuracy >= best_accuracy,
    }
    print(f"mean of the last {averager.count} epochs: {mean_accuracy:.4f} on PublicTest, best epoch {best_accuracy:.4f}")
    return (candidate if averaged["kept"] else best), averaged


def compute_device() -> str:
    """What the training ran on: "cpu", or the accelerator's name."""
    if keras.backend.backend() == "jax":
        import jax

        device = jax.devices()[0]
        return "cpu" if device.platform == "cpu" else str(device.device_kind)
    if keras.backend.backend() == "tensorflow":
        import tensorflow as tf

        gpus = tf.config.list_physical_devices("GPU")
        if gpus:
            return str(tf.config.experimental.get_device_details(gpus[0]).get("device_name", "GPU"))
    return "cpu"


def recorded_arguments(args: argparse.Namespace) -> dict:
    """The run's arguments as training_config.json keeps them (not where its backup went)."""
    return {k: v for k, v in vars(args).items() if k not in ("state_dir", "command")}


def recorded_class_weights(weights: np.ndarray) -> list[float]:
    return [round(float(w), 4) for w in weights]


def teacher_record(teacher: Teacher) -> dict:
    """How the teacher file a run distilled from was made, and which faces it describes."""
    return {"command": teacher.command, "fingerprint": teacher.fingerprint}


def machine_record() -> dict:
    """Where this process trains: backend and its version, Keras, CPU cores, device."""
    return {
        "backend": keras.backend.backend(),
        "backend_version": importlib.import_module(keras.backend.backend()).__version__,
        "keras": keras.__version__,
        "cpu_cores": os.cpu_count(),
        "device": compute_device(),
    }


def run_config(
    args: argparse.Namespace,
    files: RunFiles,
    history: keras.callbacks.History,
    seconds: float,
    val_accuracy: float,
    train_split: Split,
    weights: np.ndarray,
    averaged: dict | None,
    teacher: Teacher | None,
) -> dict:
    """What training_config.json records: the command, the arguments, timings, the score, the versions."""
    logged_seconds = [float(s) for s in read_log_column(files.log, "epoch_seconds")]
    config = {
        "command": args.command,
        "arguments": recorded_arguments(args),
        "epochs_run": len(logged_seconds),  # over every process of a resumed run, and the --init run's
        "epochs_this_process": len(history.history.get("epoch_seconds", [])),
        "median_epoch_seconds": float(np.median(logged_seconds)) if logged_seconds else None,
        "train_seconds_this_process": round(seconds, 1),
        "best_val_accuracy": float(val_accuracy),
        "train_class_counts": train_split.class_counts().tolist(),
        "class_weights": recorded_class_weights(weights),
        **machine_record(),
    }
    if averaged:
        config["weight_average"] = averaged
    if teacher:
        config["teacher"] = teacher_record(teacher)
    if files.started_from:
        earlier = files.started_from
        config["started_from"] = {"model": args.init, "config": earlier["config"], "epochs": earlier["epochs"]}
    return config


def train(args: argparse.Namespace) -> dict:
    """One training run, start to end: data, model, fit, the weights to keep, the files in --out."""
    keras.utils.set_random_seed(args.seed)
    files = prepare_run(args)
    train_split, val_split, teacher = load_data(args)
    weights = class_weights(train_split.class_counts())
    net = network(args)
    trainer = compiled_trainer(net, args, steps_per_epoch=int(np.ceil(len(train_split) / args.batch_size)))
    averager = None
    if args.average_last:
        averager = WeightAverage(args.epochs - args.average_last, files.state_dir / "weight_average.npz", net)

    started = time.perf_counter()
    history = trainer.fit(
        model_inputs(train_split.images),
        training_targets(train_split, teacher, args.teacher_weight, args.teacher_temperature),
        sample_weight=weights[train_split.labels].astype(np.float32),
        batch_size=args.batch_size,
        shuffle=True,
        validation_data=(model_inputs(val_split.images), one_hot(val_split.labels)),
        epochs=args.epochs,
        callbacks=training_callbacks(args, files, averager),
        verbose=2,
    )
    seconds = time.perf_counter() - started

    raw_model_path = files.best_raw_model(args.arch)
    best = keras.models.load_model(raw_model_path, compile=False).get_layer(net.name)
    kept, averaged = choose_weights(best, averager, val_split)
    served = with_flip_averaging(kept) if args.flip_average else kept
    served.save(files.out / MODEL_FILE)
    raw_model_path.unlink()
    export_where_possible(served, files.out / TFLITE_FILE, files.out / MODEL_FILE)
    val_accuracy = accuracy_on(served, val_split)
    config = run_config(args, files, history, seconds, val_accuracy, train_split, weights, averaged, teacher)
    (files.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    print(json.dumps({"model": str(files.out / MODEL_FILE), "val_accuracy": round(float(val_accuracy), 4)}), flush=True)
    return config


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        train(args)
    except (DatasetError, InitModelError, TeacherError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
