"""Augmentation of training faces, on whole batches: geometry, light, and random erasing."""

from __future__ import annotations

import numpy as np
import tensorflow as tf


def random_affine(images: tf.Tensor, *, max_degrees: float = 10.0, zoom: float = 0.1, shift: float = 0.1) -> tf.Tensor:
    """Flip, rotate, zoom and shift each face in a single warp (one pass instead of three)."""
    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    angle = tf.random.uniform([batch], -max_degrees, max_degrees) * (np.pi / 180.0)
    scale = tf.random.uniform([batch], 1.0 - zoom, 1.0 + zoom)
    flip = tf.where(tf.random.uniform([batch]) < 0.5, -1.0, 1.0)
    shift_x = tf.random.uniform([batch], -shift, shift) * size
    shift_y = tf.random.uniform([batch], -shift, shift) * size
    # Output pixel p maps to input pixel centre + A (p - centre) + shift, with A = rotation / scale, mirrored in x.
    cos, sin = tf.cos(angle) / scale, tf.sin(angle) / scale
    a0, a1, b0, b1 = cos * flip, -sin, sin * flip, cos
    centre = (size - 1.0) / 2.0
    a2 = centre + shift_x - (a0 + a1) * centre
    b2 = centre + shift_y - (b0 + b1) * centre
    zeros = tf.zeros([batch])
    transforms = tf.stack([a0, a1, a2, b0, b1, b2, zeros, zeros], axis=1)
    return tf.raw_ops.ImageProjectiveTransformV3(
        images=images,
        transforms=transforms,
        output_shape=tf.shape(images)[1:3],
        fill_value=0.0,
        interpolation="BILINEAR",
        fill_mode="REFLECT",
    )


def random_photometric(images: tf.Tensor, brightness: float = 0.15, contrast: float = 0.25) -> tf.Tensor:
    """Random brightness and contrast per face, as webcams and lighting vary."""
    batch = tf.shape(images)[0]
    mean = tf.reduce_mean(images, axis=[1, 2, 3], keepdims=True)
    factor = tf.random.uniform([batch, 1, 1, 1], 1.0 - contrast, 1.0 + contrast)
    delta = tf.random.uniform([batch, 1, 1, 1], -brightness, brightness)
    return tf.clip_by_value((images - mean) * factor + mean + delta, 0.0, 1.0)


def random_erasing(images: tf.Tensor, probability: float = 0.3, max_side: float = 0.45) -> tf.Tensor:
    """Blank one random rectangle in some faces, so that no single feature is relied on."""
    batch = tf.shape(images)[0]
    size = tf.cast(tf.shape(images)[1], tf.float32)
    heights = tf.random.uniform([batch], 0.15, max_side) * size
    widths = tf.random.uniform([batch], 0.15, max_side) * size
    tops = tf.random.uniform([batch], 0.0, 1.0) * (size - heights)
    lefts = tf.random.uniform([batch], 0.0, 1.0) * (size - widths)
    coords = tf.range(size)
    rows = (coords[None, :] >= tops[:, None]) & (coords[None, :] < (tops + heights)[:, None])
    cols = (coords[None, :] >= lefts[:, None]) & (coords[None, :] < (lefts + widths)[:, None])
    apply = tf.random.uniform([batch]) < probability
    mask = rows[:, :, None] & cols[:, None, :] & apply[:, None, None]
    noise = tf.random.uniform(tf.shape(images))
    return tf.where(mask[..., None], noise, images)


def augment(images: tf.Tensor) -> tf.Tensor:
    return random_erasing(random_photometric(random_affine(images)))
