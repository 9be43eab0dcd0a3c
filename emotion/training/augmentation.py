"""Augmentation of training faces, on whole batches: geometry, light, and random erasing.

Written in `keras.ops` and `keras.random` only, as a layer in front of the network during training,
so that the same training runs on TensorFlow (this CPU) and on JAX (the accelerator machine), and
is compiled into the training step on both. Training checkpoints hold it (so it is registered for
loading), but the model a run saves for serving is the network alone.
"""

from __future__ import annotations

import math
from typing import Any

import keras
from keras import ops


def random_affine(
    images: Any, seed: Any, *, max_degrees: float = 10.0, zoom: float = 0.1, shift: float = 0.1, flip: bool = True
) -> Any:
    """Flip, rotate, zoom and shift each face in a single warp (one pass instead of four)."""
    batch = ops.shape(images)[0]
    size = float(images.shape[1])
    angle = keras.random.uniform((batch,), -max_degrees, max_degrees, seed=seed) * (math.pi / 180.0)
    scale = keras.random.uniform((batch,), 1.0 - zoom, 1.0 + zoom, seed=seed)
    mirror = ops.where(keras.random.uniform((batch,), seed=seed) < 0.5, -1.0, 1.0) if flip else ops.ones((batch,))
    shift_x = keras.random.uniform((batch,), -shift, shift, seed=seed) * size
    shift_y = keras.random.uniform((batch,), -shift, shift, seed=seed) * size
    # Output pixel p maps to input pixel centre + A (p - centre) + shift, with A = rotation / scale, mirrored in x.
    cos, sin = ops.cos(angle) / scale, ops.sin(angle) / scale
    a0, a1, b0, b1 = cos * mirror, -sin, sin * mirror, cos
    centre = (size - 1.0) / 2.0
    a2 = centre + shift_x - (a0 + a1) * centre
    b2 = centre + shift_y - (b0 + b1) * centre
    zeros = ops.zeros((batch,))
    transforms = ops.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return ops.image.affine_transform(
        images, transforms, interpolation="bilinear", fill_mode="reflect", data_format="channels_last"
    )


def random_photometric(images: Any, seed: Any, *, brightness: float = 0.15, contrast: float = 0.25) -> Any:
    """Random brightness and contrast per face, as webcams and lighting vary."""
    batch = ops.shape(images)[0]
    mean = ops.mean(images, axis=[1, 2, 3], keepdims=True)
    factor = keras.random.uniform((batch, 1, 1, 1), 1.0 - contrast, 1.0 + contrast, seed=seed)
    delta = keras.random.uniform((batch, 1, 1, 1), -brightness, brightness, seed=seed)
    return ops.clip((images - mean) * factor + mean + delta, 0.0, 1.0)


def random_erasing(images: Any, seed: Any, *, probability: float = 0.3, max_side: float = 0.45) -> Any:
    """Fill one random rectangle with noise in some faces, so that no single feature is relied on."""
    batch = ops.shape(images)[0]
    size = float(images.shape[1])
    heights = keras.random.uniform((batch,), 0.15, max_side, seed=seed) * size
    widths = keras.random.uniform((batch,), 0.15, max_side, seed=seed) * size
    tops = keras.random.uniform((batch,), seed=seed) * (size - heights)
    lefts = keras.random.uniform((batch,), seed=seed) * (size - widths)
    coords = ops.arange(images.shape[1], dtype="float32")
    rows = (coords[None, :] >= tops[:, None]) & (coords[None, :] < (tops + heights)[:, None])
    cols = (coords[None, :] >= lefts[:, None]) & (coords[None, :] < (lefts + widths)[:, None])
    apply = keras.random.uniform((batch,), seed=seed) < probability
    mask = rows[:, :, None] & cols[:, None, :] & apply[:, None, None]
    noise = keras.random.uniform(ops.shape(images), seed=seed)
    return ops.where(mask[..., None], noise, images)


@keras.saving.register_keras_serializable(package="emotion")
class FaceAugmentation(keras.layers.Layer):
    """The training recipe's random changes, applied only when training (a no-op at inference)."""

    def __init__(self, seed: int | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, images: Any, training: bool | None = None) -> Any:
        if not training:
            return images
        images = random_affine(images, self.seed_generator)
        images = random_photometric(images, self.seed_generator)
        return random_erasing(images, self.seed_generator)

    def compute_output_shape(self, input_shape: tuple) -> tuple:
        return input_shape

    def get_config(self) -> dict:
        return {**super().get_config(), "seed": self.seed}
