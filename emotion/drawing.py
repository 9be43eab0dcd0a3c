"""Drawing boxes and labels onto frames, one colour per emotion, readable at any size."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import cv2
import numpy as np

from emotion.labels import EMOTIONS

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


Rect = tuple[int, int, int, int]  # x, y, width, height


def _text_metrics(text: str, scale: float) -> tuple[int, int, int, int, int]:
    """The text's width, height and baseline, the stroke thickness and the band's padding."""
    thickness = max(1, round(scale * 2))
    (width, height), baseline = cv2.getTextSize(text, FONT, scale, thickness)
    return width, height, baseline, thickness, max(2, round(4 * scale))


def _band_size(text: str, scale: float) -> tuple[int, int]:
    """The width and height of the band a text is drawn on."""
    width, height, baseline, _, pad = _text_metrics(text, scale)
    return width + 2 * pad, height + baseline + 2 * pad


def _colour(probabilities: np.ndarray) -> tuple[int, int, int]:
    """The colour of the face's most likely emotion."""
    return EMOTION_COLOURS[EMOTIONS[int(np.argmax(probabilities))]]


def _band_at(shape: tuple[int, ...], size: tuple[int, int], x: int, y: int, *, above: bool = False) -> Rect:
    """A band of `size` (_band_size) with its top-left at (x, y), or, with `above`, its bottom edge at y
    where the frame has room above it; moved inside the frame where it would stick out."""
    width, band = size
    if above and y >= band:
        y -= band
    x = int(np.clip(x, 0, max(0, shape[1] - width)))
    y = int(np.clip(y, 0, max(0, shape[0] - band)))
    return x, y, width, band


def _paint_band(image: np.ndarray, text: str, rect: Rect, colour: tuple[int, int, int], scale: float) -> None:
    """Fill exactly the rect's pixels (cv2.rectangle's corners are inclusive) and write the text on it."""
    x, y, width, band = rect
    _, height, _, thickness, pad = _text_metrics(text, scale)
    cv2.rectangle(image, (x, y), (x + width - 1, y + band - 1), colour, cv2.FILLED)
    cv2.putText(image, text, (x + pad, y + pad + height), FONT, scale, (255, 255, 255), thickness, cv2.LINE_AA)


def _overlap(a: Rect, b: Rect) -> int:
    """Pixels two rects share."""
    width = min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])
    height = min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1])
    return max(0, width) * max(0, height)


def _covered(place: Rect, *layers: list[Rect]) -> tuple[int, ...]:
    """How much of each layer of rects, most important first, a band there would hide."""
    return tuple(sum(_overlap(place, rect) for rect in layer) for layer in layers)


def _label_places(shape: tuple[int, ...], text: str, box: Rect, scale: float) -> list[Rect]:
    """Where a face's label may go, best first: above the box (inside it where the frame has no room
    above), inside the box at its top, under the box where the frame has room."""
    x, y, _, h = box
    size = _band_size(text, scale)
    places = [_band_at(shape, size, x, y, above=True), _band_at(shape, size, x, y)]
    under = _band_at(shape, size, x, y + h)
    if under[1] == y + h:  # not where the frame's bottom pushed it back onto the box (and its scores would cover it)
        places.append(under)
    return places


def _number_places(shape: tuple[int, ...], box: Rect, size: tuple[int, int], label: Rect) -> list[Rect]:
    """Where a face's number may go, best first: beside the box's top corner (left, then right), beside
    its bottom corner, then inside the box (under the label where the label is inside too)."""
    x, y, w, h = box
    width, band = size
    inside_top = label[1] + label[3] if label[1] <= y < label[1] + label[3] else y  # under a label inside the box
    corners = [(x - width, y), (x + w, y), (x - width, y + h - band), (x + w, y + h - band), (x, inside_top)]
    fits = [(left, top) for left, top in corners if 0 <= left <= shape[1] - width and 0 <= top <= shape[0] - band]
    if not fits:  # a frame smaller than the band: as far inside as it goes
        return [_band_at(shape, size, x, inside_top)]
    return [(left, top, width, band) for left, top in fits]


@dataclass(frozen=True)
class Band:
    """A filled band of white text: a face's label, one of its scores, or its number."""

    text: str
    rect: Rect
    colour: tuple[int, int, int]
    scale: float
    kind: str  # "label", "score" or "number"


def face_bands(
    shape: tuple[int, ...],
    faces: Sequence[tuple[Rect, np.ndarray]],
    *,
    show_probabilities: bool = False,
    numbers: Sequence[int] | None = None,
) -> list[Band]:
    """Where each face's label, scores (under its box) and number go in a frame of `shape`, in drawing order.

    Labels are laid out from the left: each goes above its box; where the frame has no room there,
    or a label or scores placed before lie there, inside the box at its top, else under the box, its
    scores then under it (the least covered of these where all are taken). Faces jitter in size from
    frame to frame but seldom swap sides, so in video the same neighbour keeps the usual place. Score
    rows are not moved: a face's scores can still run over the label of a face below it.
    The numbers come last, each where it covers no label, number, score or other face's box (where
    every place is taken, the one covering the fewest labels and numbers, then scores, then boxes), so
    that in a crowd no number is hidden and a table of the faces can name them.
    """
    boxes: list[Rect] = [(int(x), int(y), int(w), int(h)) for (x, y, w, h), _ in faces]
    bands: list[Band] = []
    labels: dict[int, Rect] = {}
    for i in sorted(range(len(boxes)), key=lambda i: boxes[i][:2]):
        (x, y, w, h), probabilities = boxes[i], faces[i][1]
        best = int(np.argmax(probabilities))
        scale = box_scale(w)
        text = f"{EMOTIONS[best]} {probabilities[best]:.0%}"
        taken = [band.rect for band in bands]
        labels[i] = min(_label_places(shape, text, boxes[i], scale), key=lambda rect: _covered(rect, taken))  # the first free one
        bands.append(Band(text, labels[i], _colour(probabilities), scale, "label"))
        if show_probabilities:
            top = max(y + h + 2, labels[i][1] + labels[i][3])  # under the box, and its label where that went under it too
            for index in np.argsort(-probabilities):
                score = f"{EMOTIONS[index]} {probabilities[index]:.0%}"
                row = _band_at(shape, _band_size(score, scale * 0.7), x, top)
                bands.append(Band(score, row, EMOTION_COLOURS[EMOTIONS[index]], scale * 0.7, "score"))
                top += row[3]
    if numbers is None:
        return bands
    if len(numbers) != len(faces):
        raise ValueError(f"{len(numbers)} numbers for {len(faces)} faces")
    for i, number in enumerate(numbers):
        tag, scale = str(number), box_scale(boxes[i][2])
        named = [band.rect for band in bands if band.kind != "score"]  # labels and numbers
        scores = [band.rect for band in bands if band.kind == "score"]
        places = _number_places(shape, boxes[i], _band_size(tag, scale), labels[i])
        place = min(places, key=lambda rect: _covered(rect, named, scores, boxes[:i] + boxes[i + 1 :]))  # the first free one
        bands.append(Band(tag, place, _colour(faces[i][1]), scale, "number"))
    return bands


def box_scale(width: int) -> float:
    """The text size for a box `width` pixels wide: readable on small faces, not huge on large ones."""
    return float(np.clip(width / 160, 0.45, 1.6))


def draw_faces(
    image: np.ndarray,
    faces: Sequence[tuple[Rect, np.ndarray]],
    *,
    show_probabilities: bool = False,
    numbers: Sequence[int] | None = None,
) -> None:
    """Box each face and label it with its most likely emotion (optionally every score, and a number), in place."""
    for (x, y, w, h), probabilities in faces:
        cv2.rectangle(image, (int(x), int(y)), (int(x + w), int(y + h)), _colour(probabilities), max(2, round(box_scale(w) * 3)))
    for band in face_bands(image.shape, faces, show_probabilities=show_probabilities, numbers=numbers):
        _paint_band(image, band.text, band.rect, band.colour, band.scale)


def draw_face(
    image: np.ndarray,
    box: Rect,
    probabilities: np.ndarray,
    *,
    show_probabilities: bool = False,
    number: int | None = None,
) -> None:
    """draw_faces for a single face."""
    draw_faces(image, [(box, probabilities)], show_probabilities=show_probabilities, numbers=None if number is None else [number])
