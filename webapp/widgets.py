"""Controls and wording shared by the pages."""

from __future__ import annotations

import json
import re
from datetime import datetime, tzinfo
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import pandas as pd
import streamlit as st

from emotion import presets
from emotion.detection import DETECTORS, MEASURED_FIGURES, DetectionSettings, default_detector
from emotion.pipeline import PipelineSettings
from emotion.presets import PHOTO_MIN_FACE, SCALE_FACTORS
from webapp.resources import deployment

PRIVACY_NOTE = (
    "Video frames and photos are processed in the server's memory and are never stored or logged. "
    "Only the emotion figures shown on the page are kept, for as long as the page is open; a class room keeps "
    "only the figures it needs, until the teacher ends the class or the room expires (About says what and how long)."
)
LAWFUL_USE = (
    "**Where a class room may not be used.** The EU AI Act (Regulation 2024/1689, Article 5(1)(f)) forbids "
    "AI systems that infer the emotions of people in workplaces and education institutions, except for "
    "medical or safety reasons; it applies from 2 February 2025, and running the model on a student's own "
    "device does not change that. Do not use class rooms in schools, universities or workplaces in the EU "
    "for any other purpose. Elsewhere, informed consent and local law apply. What the app shows is a "
    "reading of facial expressions, not of feelings: a classroom aid, never a basis for grading or discipline."
)
DETECTOR_USES = {
    "haar": "OpenCV's classic cascade, the app's default: frontal faces",
    "blazeface": "MediaPipe's model for a face at its own webcam: the fastest",
    "blazeface-full": "MediaPipe's model for groups and faces further away",
    "yunet": "finds the most faces in photos and groups, turned faces too",
}


@st.cache_data
def measured_figures() -> dict:
    """The face finders' figures as bench/ recorded them (empty where they were not recorded)."""
    try:
        return json.loads(MEASURED_FIGURES.read_text())
    except (OSError, ValueError):
        return {}


def detector_help(measured: dict) -> str:
    """What each face finder is good for, with its measured figures."""
    lines = []
    for name, label in DETECTORS.items():
        figures = []
        frame = measured.get("live_frame_one_face", {}).get(name)
        if frame:
            figures.append(f"{frame['median_ms']:.0f} ms a webcam frame with one face, 95% of frames within "
                           f"{frame['p95_ms']:.0f} ms, on one core")
        photos = measured.get("photo_faces", {}).get(name, {}).get(f"min_face_{PHOTO_MIN_FACE}")
        if photos:
            counted = f"{photos['exactly_right']} of {photos['photos']}"
            figures.append(f"faces counted right on {counted} test photos at the Photo page's {PHOTO_MIN_FACE} px")
        lines.append(f"**{label}**: {DETECTOR_USES[name]}" + (f" ({'; '.join(figures)})" if figures else "") + ".")
    return "\n\n".join(lines) + "\n\nMeasured with the project's benchmarks (bench/README.md)."


def server_default_detector() -> str:
    """EMOTION_DETECTOR, else the Haar cascade; a wrong setting is shown, not fatal."""
    try:
        return default_detector(deployment())
    except ValueError as error:
        st.sidebar.warning(f"{error}. The Haar cascade is used until the setting is fixed.")
        return "haar"


def sidebar_settings(*, live: bool) -> PipelineSettings:
    st.sidebar.header("Detection")
    detector = st.sidebar.selectbox(
        "Face finder",
        options=list(DETECTORS),
        index=list(DETECTORS).index(server_default_detector()),
        format_func=DETECTORS.__getitem__,
        key="detector",
        help=detector_help(measured_figures()),
    )
    haar = detector == "haar"
    strictness = st.sidebar.slider(
        "Detection strictness",
        2,
        10,
        5,
        key="min_neighbors",
        disabled=not haar,
        help="How much evidence a face needs (Haar cascade). Lower finds more faces and more false ones.",
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
    if not live:
        show_probabilities = st.sidebar.toggle("Show every emotion's probability", key="show_probabilities")
        return presets.photo(detector, strictness, min_face, show_probabilities)
    thoroughness = st.sidebar.select_slider(
        "Search thoroughness",
        options=list(SCALE_FACTORS),
        value="balanced",
        key="thoroughness",
        disabled=not haar,
        help="How finely the Haar cascade searches every size: thorough finds a few more faces, fast keeps video smooth.",
    )
    show_probabilities = st.sidebar.toggle("Show every emotion's probability", key="show_probabilities")
    return presets.live(detector, strictness, min_face, thoroughness, show_probabilities)


def device_sidebar_settings() -> PipelineSettings:
    """On the device the face finder is always BlazeFace (short range): the model the browser runs."""
    st.sidebar.header("Detection")
    st.sidebar.caption(f"Face finder: {DETECTORS['blazeface']}, run by your browser.")
    min_face = st.sidebar.slider(
        "Minimum face size (pixels)", 20, 240, DetectionSettings().min_face, step=10, key="device_min_face",
        help="Smaller faces are ignored: lower it for people far from the camera.",
    )
    show_probabilities = st.sidebar.toggle("Show every emotion's probability", key="device_show_probabilities")
    return presets.on_device(min_face, show_probabilities)


def viewer_timezone() -> tzinfo:
    """The time zone of the viewer's browser (Streamlit reports it), else UTC."""
    try:
        return ZoneInfo(st.context.timezone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def clock_time(epoch: float, tz: tzinfo | None = None, *, seconds: bool = False) -> str:
    """The time of day in the viewer's time zone, with the zone's name (14:05 CET, or 14:05:09 CET)."""
    return datetime.fromtimestamp(epoch, tz or viewer_timezone()).strftime("%H:%M:%S %Z" if seconds else "%H:%M %Z")


def by_student(table: pd.DataFrame) -> pd.DataFrame:
    """A roster-like table indexed by its students' names, made plain text (the teacher's roster, a student's own row)."""
    return table.assign(student=table["student"].map(plain)).set_index("student")


def plain(text: str) -> str:
    """User-given text (names, room titles) for an element that renders markdown: shown exactly as typed.

    Backslash escapes are not enough: Streamlit's markdown turns bare addresses into live links. A code
    span shows its text literally and links nothing; its fence is one backtick longer than any run of
    backticks in the text.
    """
    fence = "`" * (max((len(run) for run in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or not text.strip(" ") else ""
    return f"{fence}{pad}{text}{pad}{fence}"
