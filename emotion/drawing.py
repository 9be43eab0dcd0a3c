"""Drawing boxes and labels onto frames, one colour per emotion, readable at any size."""

from __future__ import annotations

import cv2
import numpy as np

from emotion.preprocess import EMOTIONS

# BGR; chosen to be told apart at a glance and to carry white text.
EMOTION_COLOURS: dict[str, tuple[int, int, int]] = {
    "Angry": (40, 40, 220),
    "Disgust": (40, 130, 60),
    "Fear": (150, 60, 140),
    "Happy": (0, 170, 240),
    "Sad": (180, 100, 30),
    "Surprise": (190, 160, 0),
    "Neutral": (110, 110, 110),
}
FONT = cv2.FONT_HERSHEY_SIMPLEX


def _band_size(text: str, scale: float) -> tuple[int, int]:
    """The width and height of the band _text_box draws for `text`."""
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, max(1, round(scale * 2)))
    pad = max(2, round(4 * scale))
    return width + 2 * pad, height + baseline + 2 * pad


def _text_box(
    image: np.ndarray, text: str, x: int, y: int, colour: tuple[int, int, int], scale: float, *, above: bool = False
) -> int:
    """Draw `text` on a filled `colour` band whose top-left is (x, y), or, with `above`, whose bottom
    edge is at y where the frame has room above it; returns the band's height."""
    thickness = max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    pad = max(2, round(4 * scale))
    band = height + baseline + 2 * pad
    if above and y >= band:
        y -= band
    x = int(np.clip(x, 0, max(0, image.shape[1] - width - 2 * pad)))
    y = int(np.clip(y, 0, max(0, image.shape[0] - band)))
    cv2.rectangle(image, (x, y), (x + width + 2 * pad, y + band), colour, cv2.FILLED)
    cv2.putText(image, text, (x + pad, y + pad + height), FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)
    return band


def draw_face(
    image: np.ndarray,
    box: tuple[int, int, int, int],
    probabilities: np.ndarray,
    *,
    show_probabilities: bool = False,
    number: int | None = None,
) -> None:
    """Box the face and label it with its most likely emotion (and optionally every score), in place.

    With `number`, a small band beside the box's top corner carries it: left of the box where the
    frame has room, else right of it, else just inside; a table of the faces can then name them.
    """
    x, y, w, h = (int(v) for v in box)
    best = int(np.argmax(probabilities))
    label = EMOTIONS[best]
    colour = EMOTION_COLOURS[label]
    scale = float(np.clip(w / 160, 0.45, 1.6))
    cv2.rectangle(image, (x, y), (x + w, y + h), colour, max(2, round(scale * 3)))
    text = f"{label} {probabilities[best]:.0%}"
    label_band = _text_box(image, text, x, y, colour, scale, above=True)  # above the box, or inside where no room
    if number is not None:
        tag = str(number)
        width, _ = _band_size(tag, scale)
        top = y
        if x >= width:
            left = x - width
        elif x + w + width <= image.shape[1]:
            left = x + w
        else:  # inside the box, under the label where the label is inside too
            left = x
            top = y if y >= label_band else y + label_band
        _text_box(image, tag, left, top, colour, scale)
    if show_probabilities:
        row_scale = scale * 0.7
        top = y + h + 2
        for index in np.argsort(-probabilities):
            name = EMOTIONS[index]
            top += _text_box(image, f"{name} {probabilities[index]:.0%}", x, top, EMOTION_COLOURS[name], row_scale)
