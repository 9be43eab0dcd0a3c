"""The WebRTC video component on a page: a session's stream, the webcam through it, and stalled starts noticed."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from emotion.live.stream import LiveStream
from emotion.live.workarounds import keep_rendered_context, use_latest_frame_relay
from emotion.pipeline import Face, Models, PipelineSettings

VIDEO_CONSTRAINTS = {"video": {"width": 640, "height": 480, "frameRate": {"ideal": 15}}, "audio": False}

STALL_SECONDS = 8.0
STALL_MESSAGE = "No video has reached the server since you pressed START. Press STOP, then START again."


def session_stream(
    key: str, models: Models, settings: PipelineSettings, on_faces: Callable[[list[Face]], None] | None = None
) -> LiveStream:
    """This session's stream under `key`, made on first use; it follows the sidebar's current settings."""
    if key not in st.session_state:
        st.session_state[key] = LiveStream(models, settings, on_faces=on_faces)
    stream: LiveStream = st.session_state[key]
    stream.settings = settings
    return stream


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


def live_video(key: str, stream: LiveStream, ice_servers: list[dict]) -> WebRtcStreamerContext:
    """The WebRTC component sending the webcam through `stream` and showing it labelled; notes stalled starts."""
    keep_rendered_context(st.session_state, key)
    use_latest_frame_relay()
    ctx = webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": ice_servers},
        media_stream_constraints=VIDEO_CONSTRAINTS,
        video_frame_callback=stream.process,
        async_processing=True,
    )
    mark_playing(key, stream, ctx.state.playing)
    return ctx
