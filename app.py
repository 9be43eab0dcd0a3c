"""Classroom emotion recognition: `streamlit run app.py`.

Pages: Live (webcam through WebRTC), Photo (snapshot or upload, the fallback where WebRTC
cannot connect), Join a class and Class mood (the students' and the teacher's side of a class
room) and About (the model's figures and the privacy note).
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from emotion.charts import emotion_bars
from emotion.class_pages import student_page, teacher_page
from emotion.images import ImageError, read_image
from emotion.pipeline import FrameAnalysis, analyze_frame
from emotion.preprocess import EMOTIONS
from emotion.stream import LiveStream
from emotion.ui import (
    PRIVACY_NOTE,
    STALL_MESSAGE,
    count_completed_run,
    live_video,
    models_or_stop,
    session_stream,
    sidebar_settings,
    stalled,
)

MODEL_DIR = Path(__file__).resolve().parent / "model"


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


def live_page() -> None:
    st.title("Live emotion recognition")
    st.caption("Press START and allow the camera. Every face is boxed and labelled with its emotion. " + PRIVACY_NOTE)
    models_or_stop()  # a broken model is reported before anything else is drawn
    stream = session_stream("live_stream", sidebar_settings(live=True))
    video, figures = st.columns([3, 2])
    with video:
        ctx = live_video("live", stream)
        st.caption("No video? Your network may block WebRTC: use the **Photo** page instead.")
    with figures:
        if ctx.state.playing:
            live_figures(stream)
        else:
            session_summary(stream)


@st.fragment(run_every=1.0)
def live_figures(stream: LiveStream) -> None:
    stats = stream.snapshot()
    if stalled("live", stream):
        st.warning(STALL_MESSAGE)
    faces, fps, latency = st.columns(3)
    faces.metric("Faces in view", stats.faces_in_view)
    fps.metric("Frames / s", f"{stats.fps:.0f}" if stats.fps else "–")
    latency.metric("Time per frame", f"{stats.latency_ms_median:.0f} ms" if stats.latency_ms_median else "–")
    if stats.latency_ms_p95:
        st.caption(f"Time per frame: median of the last 60 frames; p95 {stats.latency_ms_p95:.0f} ms.")
    if stats.error:
        st.error(f"A frame could not be processed ({stats.error}); the video goes on unlabelled.")
    if stats.skipped_faces:
        st.warning(f"{stats.skipped_faces} more faces are in view than the app labels per frame; the largest are labelled.")
    if stats.current_mix:
        st.subheader("Emotion mix now")
        st.altair_chart(emotion_bars(stats.current_mix), width="stretch")
    elif stats.frames:
        st.info("No face in view.")
    else:
        st.info("Waiting for the first video frame…")


def session_summary(stream: LiveStream) -> None:
    stats = stream.snapshot()
    total = sum(stats.session_counts.values())
    if not total:
        st.info("Figures appear here while the video runs.")
        return
    st.subheader("This session so far")
    st.caption(f"{stats.frames} frames, {total} labelled faces")
    st.altair_chart(emotion_bars({name: count / total for name, count in stats.session_counts.items()}), width="stretch")


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


def about_page() -> None:
    st.title("About")
    st.markdown(
        "Faces are found with OpenCV's Haar cascade, cropped to 48x48 grey levels and classified into seven "
        "emotions by a VGG-style CNN trained on FER-2013, served through LiteRT. "
        "It is a classroom aid to read the room, **never** a basis for grading or discipline: "
        "a face's expression is not a person's feeling, and the model errs (see below)."
    )
    st.subheader("Privacy")
    st.write(PRIVACY_NOTE)
    metrics_path = MODEL_DIR / "metrics.json"
    if not metrics_path.exists():
        st.warning("model/metrics.json is missing: run `python -m emotion.report` to produce the model's figures.")
        return
    metrics = json.loads(metrics_path.read_text())["tflite"]
    st.subheader(f"The model on FER-2013 PublicTest ({metrics['n']} faces)")
    cols = st.columns(4)
    headline = [
        ("Accuracy", "accuracy"),
        ("Balanced accuracy", "balanced_accuracy"),
        ("Macro F1", "macro_f1"),
        ("Weighted F1", "weighted_f1"),
    ]
    for col, (label, key) in zip(cols, headline):
        col.metric(label, f"{metrics[key]:.1%}")
    three_places = {k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")}
    st.dataframe(pd.DataFrame(metrics["per_class"]).T, column_config=three_places)
    if (MODEL_DIR / "confusion_matrix.png").exists():
        st.image(str(MODEL_DIR / "confusion_matrix.png"), caption="Confusion matrix (rows: true emotion)")
    st.caption("Details: model/README.md, the model card.")


pages = st.navigation(
    [
        st.Page(live_page, title="Live", icon=":material/videocam:", default=True),
        st.Page(photo_page, title="Photo", icon=":material/photo_camera:", url_path="photo"),
        st.Page(student_page, title="Join a class", icon=":material/login:", url_path="join"),
        st.Page(teacher_page, title="Class mood", icon=":material/groups:", url_path="teach"),
        st.Page(about_page, title="About", icon=":material/info:", url_path="about"),
    ]
)
st.set_page_config(page_title="Classroom emotion recognition", page_icon=":material/mood:", layout="wide")
pages.run()
count_completed_run()  # not reached when a rerun cuts the run short: see keep_rendered_context
