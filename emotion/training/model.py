"""The networks: the design's VGG-block CNN, and a generic ConvNet kept for comparison.

Both take 48x48x1 grey faces in [0, 1] and end in a softmax over the seven FER-2013 classes.
"""

from __future__ import annotations

import keras
from keras import layers

from emotion.labels import EMOTIONS
from emotion.preprocess import INPUT_SIZE

INPUT_SHAPE = (INPUT_SIZE, INPUT_SIZE, 1)


def vgg_block(x: keras.KerasTensor, filters: int, dropout: float) -> keras.KerasTensor:
    """Two Conv3x3-BatchNorm-ReLU, then MaxPool and Dropout: the block of VGG-style FER nets."""
    for _ in range(2):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False, kernel_initializer="he_normal")(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
    x = layers.MaxPooling2D()(x)
    return layers.Dropout(dropout)(x)


VGG_WIDTHS = (32, 64, 128, 256)  # the bundled model's blocks


def build_vgg(widths: tuple[int, ...] = VGG_WIDTHS, dense_units: int = 256, crop: int = 0) -> keras.Model:
    """The VGG-block net; with `crop`, it reads only the central crop x crop pixels of each face."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = inputs
    if crop:
        smallest = 2 ** len(widths)  # each block halves the side
        if not smallest <= crop <= INPUT_SIZE:
            raise ValueError(f"crop must lie in {smallest}..{INPUT_SIZE} for {len(widths)} blocks, not {crop}")
        x = layers.CenterCrop(crop, crop, name="centre_crop")(x)
    for i, filters in enumerate(widths):
        x = vgg_block(x, filters, dropout=0.1 + 0.05 * i)
    x = layers.Flatten()(x)
    x = layers.Dense(dense_units, use_bias=False, kernel_initializer="he_normal")(x)
    x = layers.BatchNormalization()(x)
    x = layers.Activation("relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="vgg_blocks")


def build_convnet() -> keras.Model:
    """The generic ConvNet of the Keras FER tutorials that earlier apps used: no BatchNorm, one conv per stage."""
    inputs = keras.Input(INPUT_SHAPE, name="face")
    x = layers.Conv2D(32, 3, activation="relu")(inputs)
    x = layers.Conv2D(64, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Conv2D(128, 3, activation="relu")(x)
    x = layers.MaxPooling2D()(x)
    x = layers.Dropout(0.25)(x)
    x = layers.Flatten()(x)
    x = layers.Dense(1024, activation="relu")(x)
    x = layers.Dropout(0.5)(x)
    outputs = layers.Dense(len(EMOTIONS), activation="softmax", name="emotion")(x)
    return keras.Model(inputs, outputs, name="convnet")


ARCHITECTURES = {"vgg": build_vgg, "convnet": build_convnet}


@keras.saving.register_keras_serializable(package="emotion")
class HorizontalFlip(layers.Layer):
    """Mirror images left to right (a fixed flip, unlike the random augmentation layer)."""

    def call(self, inputs: keras.KerasTensor) -> keras.KerasTensor:
        return keras.ops.flip(inputs, axis=2)


def with_flip_averaging(model: keras.Model) -> keras.Model:
    """Test-time augmentation inside the graph: the mean of the predictions for a face and its mirror.

    Faces are roughly symmetric and training flips them, so averaging both views removes some
    noise from each prediction. Being part of the model, the LiteRT export does the same.
    """
    inputs = keras.Input(INPUT_SHAPE, name="face")
    outputs = layers.Average(name="emotion")([model(inputs), model(HorizontalFlip()(inputs))])
    return keras.Model(inputs, outputs, name=f"{model.name}_flip_averaged")
