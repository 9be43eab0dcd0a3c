"""Controls and wording shared by the pages."""

from __future__ import annotations

import time

import streamlit as st

from emotion.detection import DetectionSettings
from emotion.pipeline import PipelineSettings

PHOTO_MIN_FACE = 40  # photos: groups further away are worth the slower search
SCALE_FACTORS = {"fast": 1.3, "balanced": 1.2, "thorough": 1.1}  # Haar pyramid step for live video
PRIVACY_NOTE = (
    "Video frames and photos are processed in the server's memory and are never stored or logged. "
    "Only the emotion figures shown on the page are kept, for as long as the page is open."
)
def sidebar_settings(*, live: bool) -> PipelineSettings:
    st.sidebar.header("Detection")
    strictness = st.sidebar.slider(
        "Detection strictness",
        2,
        10,
        5,
        key="min_neighbors",
        help="How much evidence a face needs. Lower finds more faces and more false ones.",
    )
    min_face = st.sidebar.slider(
        "Minimum face size (pixels)",
        20,
        240,
        DetectionSettings().min_face if live else PHOTO_MIN_FACE,
        step=10,
        key="min_face",
        help="Smaller faces are ignored: lower it for people far from the camera, raise it to skip the background and go faster.",
    )
    scale_factor = 1.1  # photos: the most thorough search; time matters less than for video
    if live:
        thoroughness = st.sidebar.select_slider(
            "Search thoroughness",
            options=list(SCALE_FACTORS),
            value="balanced",
            key="thoroughness",
            help="How finely faces are searched for at every size: thorough finds a few more faces, fast keeps video smooth.",
        )
        scale_factor = SCALE_FACTORS[thoroughness]
    show_probabilities = st.sidebar.toggle("Show every emotion's probability", key="show_probabilities")
    detection = DetectionSettings(
        scale_factor=scale_factor,
        min_neighbors=strictness,
        min_face=min_face,
        detect_width=320 if live else None,
    )
    return PipelineSettings(detection=detection, show_probabilities=show_probabilities, max_faces=20 if live else 50)



def clock_time(epoch: float) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(epoch))
