"""Photo: a snapshot or an uploaded photo, annotated, with every face's probabilities; works without WebRTC."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from emotion.images import ImageError, read_image
from emotion.pipeline import FrameAnalysis, analyze_frame
from emotion.preprocess import EMOTIONS
from webapp.resources import models_or_stop
from webapp.widgets import PRIVACY_NOTE, sidebar_settings


def face_table(analysis: FrameAnalysis) -> pd.DataFrame:
    rows = [
        {"face": i + 1, "emotion": face.label, "confidence": face.confidence, **dict(zip(EMOTIONS, face.probabilities.tolist()))}
        for i, face in enumerate(analysis.faces)
    ]
    return pd.DataFrame(rows).set_index("face")


def percent_columns() -> dict:
    return {
        name: st.column_config.ProgressColumn(name, format="percent", min_value=0.0, max_value=1.0)
        for name in ("confidence", *EMOTIONS)
    }


def photo_page() -> None:
    st.title("Photo")
    st.caption("Upload a photo or take a snapshot; works where live video cannot connect. " + PRIVACY_NOTE)
    models = models_or_stop()
    settings = sidebar_settings(live=False)
    upload_tab, camera_tab = st.tabs(["Upload a photo", "Take a snapshot"])
    with upload_tab:
        upload = st.file_uploader("Photo", type=["jpg", "jpeg", "png", "webp", "bmp", "gif", "tif", "tiff"])
    with camera_tab:
        snapshot = st.camera_input("Snapshot")
    source = upload or snapshot
    if source is None:
        return
    try:
        image = read_image(source.getvalue(), source.name)
    except ImageError as error:
        st.error(str(error))
        return
    analysis = analyze_frame(image, models, settings)
    st.image(analysis.image, channels="BGR", caption=f"{len(analysis.faces)} face(s) found")
    if not analysis.faces:
        st.info("No face found. Try a brighter, frontal photo, or lower the minimum face size or the detection strictness.")
        return
    if analysis.skipped_faces:
        st.warning(f"{analysis.skipped_faces} more faces were found than are labelled (at most {settings.max_faces}).")
    st.dataframe(face_table(analysis), column_config=percent_columns())


