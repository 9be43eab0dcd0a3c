"""Streamlit helpers shared by the app's pages: the cached models and room store, common controls."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, MutableMapping

import streamlit as st
from streamlit_webrtc import WebRtcMode, webrtc_streamer

from emotion.annotate import load_models
from emotion.classifier import DEFAULT_MODEL, ModelError
from emotion.detection import DetectionSettings
from emotion.memory import return_frame_buffers_to_the_system, trim_heap_periodically
from emotion.pipeline import Face, Models, PipelineSettings
from emotion.relay import use_latest_frame_relay
from emotion.rooms import MemoryStore, RedisStore, RoomStore
from emotion.stream import LiveStream, ice_servers

PHOTO_MIN_FACE = 40  # photos: groups further away are worth the slower search
SCALE_FACTORS = {"fast": 1.3, "balanced": 1.2, "thorough": 1.1}  # Haar pyramid step for live video
PRIVACY_NOTE = (
    "Video frames and photos are processed in the server's memory and are never stored or logged. "
    "Only the emotion figures shown on the page are kept, for as long as the page is open."
)


def secrets() -> dict:
    try:
        return dict(st.secrets)
    except FileNotFoundError:
        return {}


@st.cache_resource(show_spinner="Loading the emotion model…")
def shared_models() -> Models:
    """One detector and one LiteRT interpreter per server process, shared by every session.

    EMOTION_MODEL may name another .tflite file; the default is the bundled model/emotion_cnn.tflite.
    Runs once per process, so it also sets how the process frees memory (emotion.memory).
    """
    models = load_models(os.environ.get("EMOTION_MODEL") or DEFAULT_MODEL)
    # After the load: a failed load is not cached and runs again, which would start another trimmer.
    return_frame_buffers_to_the_system()
    trim_heap_periodically()
    return models


def models_or_stop() -> Models:
    try:
        return shared_models()
    except (ModelError, FileNotFoundError) as error:
        st.error(f"The emotion model could not be loaded. {error}")
        st.stop()


@st.cache_resource
def shared_store() -> RoomStore:
    """Rooms in Redis when REDIS_URL is set (several replicas), else in this process's memory."""
    url = os.environ.get("REDIS_URL") or secrets().get("REDIS_URL")
    return RedisStore(url) if url else MemoryStore()


def ice_servers_or_stop() -> list[dict]:
    try:
        return ice_servers(secrets=secrets())
    except ValueError as error:
        st.error(f"The WebRTC settings are invalid: {error}")
        st.stop()


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


VIDEO_CONSTRAINTS = {"video": {"width": 640, "height": 480, "frameRate": {"ideal": 15}}, "audio": False}


STALL_SECONDS = 8.0
STALL_MESSAGE = "No video has reached the server since you pressed START. Press STOP, then START again."


def mark_playing(key: str, stream: LiveStream, playing: bool) -> None:
    """Note when a stream started playing and how many frames it had then, to notice a stalled start.

    Now and then a WebRTC connection reports success but delivers no frame to the server (cause not
    yet found); STOP and START always recovers, so the page tells the user to do that.
    """
    marker = f"{key}_playing_since"
    if playing and marker not in st.session_state:
        st.session_state[marker] = (time.monotonic(), stream.snapshot().frames)
    elif not playing:
        st.session_state.pop(marker, None)


def stalled(key: str, stream: LiveStream) -> bool:
    started = st.session_state.get(f"{key}_playing_since")
    if started is None:
        return False
    since, frames_then = started
    return stream.snapshot().frames == frames_then and time.monotonic() - since > STALL_SECONDS


def session_stream(key: str, settings: PipelineSettings, on_faces: Callable[[list[Face]], None] | None = None) -> LiveStream:
    """This session's stream under `key`, made on first use; it follows the sidebar's current settings."""
    if key not in st.session_state:
        st.session_state[key] = LiveStream(models_or_stop(), settings, on_faces=on_faces)
    stream: LiveStream = st.session_state[key]
    stream.settings = settings
    return stream


COMPLETED_RUNS = "completed_script_runs"


def count_completed_run() -> None:
    """Called at the end of app.py, so it counts the full script runs that were not cut short by a rerun."""
    st.session_state[COMPLETED_RUNS] = st.session_state.get(COMPLETED_RUNS, 0) + 1


def keep_rendered_context(session_state: MutableMapping, key: str) -> None:
    """Keep streamlit-webrtc from resetting the context of a component that the last run did render.

    streamlit-webrtc 0.79 stops a context's worker when it believes a script run went by without the
    component (the user left the page and came back). It compares the session's run count now with the
    count it read in its last run; Streamlit advances that count on the event loop when it sends a run's
    end, so a rerun that starts before then reads a stale count, and the next run seems to have skipped
    one. During signalling the reruns come back to back, and about 1 start in 10-20 connected and was
    dropped 5 s later. This app counts its completed runs itself, on the script thread; when none went
    by since the component was last rendered, it clears the library's record, which skips the check once.
    Relies on a private attribute: tests/test_stream.py pins what the library does with it.
    """
    completed = session_state.get(COMPLETED_RUNS, 0)
    rendered_after = session_state.get(f"{key}_rendered_after")
    context = session_state.get(key)
    if context is not None and rendered_after is not None and rendered_after >= completed - 1:
        context._last_rendered_run_count = None
    session_state[f"{key}_rendered_after"] = completed


def live_video(key: str, stream: LiveStream):
    """The WebRTC component sending the webcam through `stream`, with the app's settings; notes stalled starts."""
    keep_rendered_context(st.session_state, key)
    use_latest_frame_relay()
    ctx = webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": ice_servers_or_stop()},
        media_stream_constraints=VIDEO_CONSTRAINTS,
        video_frame_callback=stream.process,
        async_processing=True,
    )
    mark_playing(key, stream, ctx.state.playing)
    return ctx
