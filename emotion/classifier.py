"""Emotion classification of face crops through LiteRT, so serving needs no TensorFlow."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from emotion.labels import EMOTIONS
from emotion.litert import new_interpreter
from emotion.preprocess import INPUT_SIZE

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "model" / "emotion_cnn.tflite"
TRAIN_HINT = "train one with `python -m emotion.training.train --data fer2013.zip --out model/` or restore model/ from git"


class ModelError(RuntimeError):
    """The model file is missing or unusable; the message says how to fix it."""


class EmotionClassifier:
    """A LiteRT interpreter over the bundled .tflite model, shared by every session of the app.

    One interpreter serves all threads behind a lock: a call costs far less than the
    detection (bench/README.md times both), and one copy of the model keeps memory flat as streams grow.
    """

    def __init__(self, model_path: str | Path = DEFAULT_MODEL, num_threads: int = 1) -> None:
        path = Path(model_path)
        if not path.is_file():
            raise ModelError(f"model file {path} not found; {TRAIN_HINT}")
        try:
            self._interpreter = new_interpreter(path, num_threads)
        except (ValueError, RuntimeError) as error:
            raise ModelError(f"model file {path} is not a valid LiteRT model ({error}); {TRAIN_HINT}") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        expected_in, expected_out = (INPUT_SIZE, INPUT_SIZE, 1), (len(EMOTIONS),)
        takes = tuple(int(v) for v in self._input["shape"][1:])
        gives = tuple(int(v) for v in self._output["shape"][1:])
        if takes != expected_in or gives != expected_out:
            raise ModelError(
                f"model file {path} takes {takes} and gives {gives}, "
                f"but the app needs {expected_in} faces in and {expected_out} emotion scores out; {TRAIN_HINT}"
            )
        self._batch = int(self._input["shape"][0])
        # A model exported with a fixed batch (the browser's copy, python -m emotion.training.export
        # --batch N) cannot be resized: it is run on its batch size at a time, the last one padded.
        self.fixed_batch = int(self._input["shape_signature"][0]) != -1
        self._lock = threading.Lock()
        self.path = path

    def predict(self, faces: np.ndarray) -> np.ndarray:
        """Probabilities (N, 7) for a batch of preprocessed faces (N, 48, 48, 1) in [0, 1]."""
        if len(faces) == 0:
            return np.empty((0, len(EMOTIONS)), dtype=np.float32)
        faces = np.ascontiguousarray(faces, dtype=np.float32)
        if self.fixed_batch:
            return self._predict_in_fixed_batches(faces)
        with self._lock:
            if len(faces) != self._batch:
                self._interpreter.resize_tensor_input(self._input["index"], [len(faces), INPUT_SIZE, INPUT_SIZE, 1])
                self._interpreter.allocate_tensors()
                self._batch = len(faces)
            self._interpreter.set_tensor(self._input["index"], faces)
            self._interpreter.invoke()
            return self._interpreter.get_tensor(self._output["index"]).copy()

    def _predict_in_fixed_batches(self, faces: np.ndarray) -> np.ndarray:
        padding = -len(faces) % self._batch
        padded = np.concatenate([faces, np.zeros((padding, *faces.shape[1:]), np.float32)]) if padding else faces
        outputs = []
        with self._lock:
            for start in range(0, len(padded), self._batch):
                self._interpreter.set_tensor(self._input["index"], padded[start : start + self._batch])
                self._interpreter.invoke()
                outputs.append(self._interpreter.get_tensor(self._output["index"]).copy())
        return np.concatenate(outputs)[: len(faces)]
