"""Live: the webcam through WebRTC, every face boxed and labelled, the figures beside the video.

Or "On this device": the browser reads the faces itself. Where WebRTC cannot connect, the server path says
so and switches to it in one click (emotion.live.component.connection_advice).
"""

from __future__ import annotations

import numpy as np
import streamlit as st

from emotion.labels import EMOTIONS
from emotion.live.component import connection_advice, forget_connection, live_video, session_stream
from emotion.live.device import device_camera
from emotion.live.stream import LiveStream
from emotion.pipeline import PipelineSettings
from webapp.charts import emotion_bars
from webapp.resources import ice_servers_or_stop, models_or_stop
from webapp.widgets import PRIVACY_NOTE, device_sidebar_settings, sidebar_settings

WHERE = {"server": "On the server (video through WebRTC)", "device": "On this device (no video leaves it)"}


def live_page() -> None:
    st.title("Live emotion recognition")
    where = st.segmented_control(
        "Where faces are read",
        options=list(WHERE),
        format_func=WHERE.__getitem__,
        default="server",
        key="live_where",
        help="On this device, your browser runs the face finder (BlazeFace) and the emotion model itself: "
        "it works where WebRTC cannot connect, and nothing but the page is loaded from the server.",
    )
    if where == "device":
        forget_connection("live")  # the server path's component is gone; coming back, a START is judged afresh
        device_page()
        return
    st.caption("Press START and allow the camera. Every face is boxed and labelled with its emotion. " + PRIVACY_NOTE)
    models = models_or_stop()  # a broken model is reported before anything else is drawn
    stream = session_stream("live_stream", models, sidebar_settings(live=True))
    video, figures = st.columns([3, 2])
    with video:
        ctx = live_video("live", stream, ice_servers_or_stop())
        if not connection_advice("live", stream, read_on_this_device):
            st.caption("No video? Your network may block WebRTC: the choice above can read faces in your browser instead.")
    with figures:
        if ctx.state.playing:
            live_figures(stream)
        else:
            session_summary(stream)


def read_on_this_device() -> None:
    """The advice's button: the path control shows "On this device" in the run this click starts."""
    st.session_state["live_where"] = "device"


@st.fragment(run_every=1.0)
def live_figures(stream: LiveStream) -> None:
    stats = stream.snapshot()
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
        st.vega_lite_chart(emotion_bars(stats.current_mix), width="stretch")
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
    st.vega_lite_chart(emotion_bars({name: count / total for name, count in stats.session_counts.items()}), width="stretch")


def device_page() -> None:
    st.caption(
        "Allow the camera: your browser finds the faces and reads their emotions itself, with the same models "
        "as the server. Your video stays on this device."
    )
    settings = device_sidebar_settings()
    device_view(settings)


@st.fragment
def device_view(settings: PipelineSettings) -> None:
    video, figures = st.columns([3, 2])
    with video:
        state = device_camera("live_device", settings)
    with figures:
        if state.problem is not None:
            st.warning(f"{state.problem['message']} You can read faces on the server instead (above), or use the Photo page.")
        if state.figures is None:
            st.info("Waiting for the first frame read on this device…")
            return
        faces, fps, latency = st.columns(3)
        faces.metric("Faces in view", len(state.figures.faces))
        fps.metric("Frames / s", f"{state.figures.fps:.0f}" if state.figures.fps else "–")
        latency.metric("Time per frame", f"{state.figures.ms_median:.0f} ms" if state.figures.ms_median else "–")
        if state.figures.faces:
            st.subheader("Emotion mix now")
            st.vega_lite_chart(emotion_bars(dict(zip(EMOTIONS, np.mean(state.figures.faces, axis=0).tolist()))), width="stretch")
        else:
            st.info("No face in view.")
