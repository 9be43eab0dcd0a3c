"""The seven emotions the model tells apart, in FER-2013's index order: the model's outputs, the figures a
class room keeps, the charts and the browser's labels all follow it.

A module of its own, so that what names an emotion (the class room, the charts) needs no image library.
Kaggle's image folders sort alphabetically, which is NOT this order: map by name
(emotion.preprocess.FOLDER_TO_INDEX).
"""

from __future__ import annotations

EMOTIONS: tuple[str, ...] = ("Angry", "Disgust", "Fear", "Happy", "Sad", "Surprise", "Neutral")
