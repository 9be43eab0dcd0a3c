"""A teacher's answers for every training face, for distillation: `python -m emotion.training.distillation`.

    python -m emotion.training.distillation --data .devdata/fer2013-train-val.npz.xz \\
        --models runs/gpu1-ft/*/emotion_cnn.keras --out .devdata/teacher.npz
    python -m emotion.training.train ... --teacher .devdata/teacher.npz --teacher-weight 0.5 --teacher-temperature 2

FER-2013's labels are noisy and many faces mix two emotions; the mean answer of several trained
nets says so, where a one-hot label cannot. A net trained towards it (Hinton et al. 2015) learns
from the ensemble at the cost of one net. The answers are worked out once, on the unaugmented
faces, so the run needs neither the teacher's weights nor its compute (a student may soften them with a
temperature when it loads them: softened targets only, not Hinton et al.'s loss at a matched
temperature); the file also holds a
fingerprint of the faces and labels, so that it is never paired with other data or another order.
"""

from __future__ import annotations

import argparse
import hashlib
import shlex
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emotion.labels import EMOTIONS
from emotion.training.data import DatasetError, Split, load_split, model_inputs, one_hot


class TeacherError(ValueError):
    """A teacher file cannot be used with this data: unreadable, malformed, or made from other faces."""


@dataclass(frozen=True)
class Teacher:
    probabilities: np.ndarray  # float32 (N, 7), rows sum to 1, in the training split's order
    fingerprint: str
    command: str


def fingerprint(split: Split) -> str:
    """Which faces, labels and order a teacher file belongs to."""
    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(split.images, dtype=np.uint8).tobytes())
    digest.update(np.ascontiguousarray(split.labels, dtype=np.int64).tobytes())
    return digest.hexdigest()


def soften(probabilities: np.ndarray, temperature: float) -> np.ndarray:
    """p ** (1 / T), renormalised: for one net's softmax output, softmax(logits / T)."""
    if temperature <= 0:
        raise ValueError(f"temperature must be positive, not {temperature}")
    powered = np.power(np.clip(probabilities, 1e-12, 1.0), 1.0 / temperature)
    return (powered / powered.sum(axis=1, keepdims=True)).astype(np.float32)


def distillation_targets(labels: np.ndarray, teacher: np.ndarray, weight: float) -> np.ndarray:
    """(1 - weight) of the one-hot label and `weight` of the teacher's answer: the targets the loss sees
    (training's label smoothing applies on top, as it does to plain labels)."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"the teacher's weight must lie in 0..1, not {weight}")
    return (1.0 - weight) * one_hot(labels) + weight * teacher.astype(np.float32)


def save(path: Path, teacher: Teacher) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as handle:
        np.savez_compressed(
            handle,
            probabilities=teacher.probabilities.astype(np.float16),
            fingerprint=np.asarray(teacher.fingerprint),
            command=np.asarray(teacher.command),
        )


def load(path: str | Path, split: Split) -> Teacher:
    """The teacher file at `path`, checked against the training split it must describe."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as saved:
            probabilities = saved["probabilities"].astype(np.float32)
            recorded = str(saved["fingerprint"])
            command = str(saved["command"])
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as error:
        raise TeacherError(f"{path} is not a teacher file written by this command: {error}") from None
    if probabilities.shape != (len(split), len(EMOTIONS)):
        raise TeacherError(
            f"{path} holds answers of shape {probabilities.shape}, "
            f"but the training split has {len(split)} faces and {len(EMOTIONS)} classes"
        )
    if recorded != fingerprint(split):
        raise TeacherError(f"{path} was made from other training faces (or another order) than {split.source}")
    if not np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-2):
        raise TeacherError(f"{path}: some answers do not sum to 1")
    return Teacher(probabilities / probabilities.sum(axis=1, keepdims=True), recorded, command)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m emotion.training.distillation", description=__doc__.splitlines()[0], allow_abbrev=False
    )
    parser.add_argument("--data", required=True, help="the training data, in any format `train` reads")
    parser.add_argument("--models", nargs="+", type=Path, required=True, help=".keras nets or ensembles; their mean teaches")
    parser.add_argument("--out", type=Path, required=True, help="the teacher file (.npz)")
    args = parser.parse_args(argv)
    import keras

    import emotion.training.model  # noqa: F401 - registers the custom layers a saved model may use

    try:
        split = load_split(args.data, "train")
    except DatasetError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    inputs = model_inputs(split.images)
    total = np.zeros((len(split), len(EMOTIONS)), np.float64)
    for path in args.models:
        try:
            model = keras.models.load_model(path, compile=False)
        except (OSError, ValueError) as error:
            print(f"error: cannot read {path}: {error}", file=sys.stderr)
            return 2
        answers = model.predict(inputs, batch_size=512, verbose=0)
        print(f"{path}: {np.mean(np.argmax(answers, axis=1) == split.labels):.4f} of the training faces right", flush=True)
        total += answers
    probabilities = total / len(args.models)
    command = shlex.join(["python", "-m", "emotion.training.distillation", *(sys.argv[1:] if argv is None else argv)])
    save(args.out, Teacher(probabilities, fingerprint(split), command))
    right = np.mean(np.argmax(probabilities, axis=1) == split.labels)
    confidence = np.mean(np.max(probabilities, axis=1))
    print(f"wrote {args.out}: the teacher is right on {right:.4f} of {len(split)} faces, mean top answer {confidence:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
