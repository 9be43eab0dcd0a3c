"""Photo: a snapshot or an uploaded photo, annotated, with every face's probabilities; works without WebRTC."""

from __future__ import annotations

import time

import pandas as pd
import streamlit as st

from emotion.images import ImageError, read_image
from emotion.labels import EMOTIONS
from emotion.pipeline import FrameAnalysis, analyze_frame
from webapp.resources import models_or_stop
from webapp.widgets import PRIVACY_NOTE, sidebar_settings

# The two inputs, by key: what the page calls each, and the name read_image's messages use (never the
# file's own name, which is the user's text and would be read as Markdown in a message).
SOURCES = {"photo_upload": ("Uploaded photo", "This photo"), "photo_snapshot": ("Snapshot", "This snapshot")}
PERCENT_WIDTH = 86  # px: ten columns fit the main column of a 1280 px wide window, beside the sidebar


def face_table(analysis: FrameAnalysis) -> pd.DataFrame:
    """One row per face, numbered from 1 as on the image; confidence and probabilities in percent."""
    rows = [
        {
            "face": number,
            "emotion": face.label,
            "confidence": 100 * face.confidence,
            **{name: 100 * float(p) for name, p in zip(EMOTIONS, face.probabilities)},
        }
        for number, face in enumerate(analysis.faces, start=1)
    ]
    return pd.DataFrame(rows).set_index("face")


def table_columns() -> dict:
    """Narrow columns, so that the whole table fits beside the sidebar: a bar and a whole percentage each."""
    percent = {
        name: st.column_config.ProgressColumn(name, format="%.0f%%", min_value=0, max_value=100, width=PERCENT_WIDTH)
        for name in ("confidence", *EMOTIONS)
    }
    return {"emotion": st.column_config.TextColumn("emotion", width=76), **percent}


def note_change(key: str) -> None:
    """on_change of the uploader and the camera: which of the two the user changed last."""
    turn = st.session_state.get("photo_turn", 0) + 1
    st.session_state.photo_turn = turn
    st.session_state[f"{key}_turn"] = turn


def newest_input(values: dict) -> str | None:
    """The key of the input changed last among those holding a photo (None where neither does)."""
    present = [key for key, value in values.items() if value is not None]
    return max(present, key=lambda key: st.session_state.get(f"{key}_turn", 0), default=None)


def photo_page() -> None:
    st.title("Photo")
    st.caption("Upload a photo or take a snapshot; works where live video cannot connect. " + PRIVACY_NOTE)
    models = models_or_stop()
    settings = sidebar_settings(live=False)
    upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a snapshot"])
    with upload_tab:
        upload = st.file_uploader(
            "Photo",
            type=["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"],
            key="photo_upload",
            on_change=note_change,
            args=("photo_upload",),
        )
    with camera_tab:
        snapshot = st.camera_input("Snapshot", key="photo_snapshot", on_change=note_change, args=("photo_snapshot",))
    inputs = {"photo_upload": upload, "photo_snapshot": snapshot}
    key = newest_input(inputs)
    if key is None:
        return
    source, (title, name) = inputs[key], SOURCES[key]
    assert source is not None
    started = time.perf_counter()
    status = st.status(f"Reading the photo ({source.size / 2**20:.1f} MB)…")
    try:
        image = read_image(source.getvalue(), name)
    except ImageError as error:
        status.update(label="The photo could not be read", state="error")
        st.error(str(error))
        return
    status.update(label=f"Finding faces and their emotions ({image.shape[1]}x{image.shape[0]} pixels)…")
    analysis = analyze_frame(image, models, settings)
    status.update(label=f"Read and analysed in {time.perf_counter() - started:.1f} s", state="complete")
    numbered = ", numbered as in the table" if analysis.faces else ""
    st.image(analysis.image, channels="BGR", caption=f"{title}: {len(analysis.faces)} face(s) found{numbered}")
    if not analysis.faces:
        st.info("No face found. Try a brighter, frontal photo, or lower the minimum face size or the detection strictness.")
        return
    if analysis.skipped_faces:
        st.warning(f"{analysis.skipped_faces} more faces were found than are labelled (at most {settings.max_faces}).")
    st.dataframe(face_table(analysis), column_config=table_columns())
