"""The WebRTC video component on a page: a session's stream, the webcam through it, and stalled starts noticed."""

from __future__ import annotations

import time
from collections.abc import Callable

import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from emotion.live.stream import LiveStream
from emotion.live.workarounds import keep_rendered_context, use_latest_frame_relay
from emotion.pipeline import Face, Models, PipelineSettings

VIDEO_CONSTRAINTS: dict = {"video": {"width": 640, "height": 480, "frameRate": {"ideal": 15}}, "audio": False}
SEND_ONLY_FPS = 5  # a class room's figures need a few frames a second, not video

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


def live_video(
    key: str, stream: LiveStream, ice_servers: list[dict], *, send_only: bool = False
) -> WebRtcStreamerContext:
    """The WebRTC component sending the webcam through `stream`; notes stalled starts.

    By default the labelled video comes back. `send_only`: nothing comes back, so the component shows no
    video (emotion.live.device.self_view is the page's preview), and the camera is asked for SEND_ONLY_FPS:
    the server neither encodes video nor reads frames it needs no more of; the class room's figures are all
    that is kept.
    """
    keep_rendered_context(st.session_state, key)
    use_latest_frame_relay()
    constraints = VIDEO_CONSTRAINTS
    if send_only:
        constraints = {**VIDEO_CONSTRAINTS, "video": {**VIDEO_CONSTRAINTS["video"], "frameRate": {"ideal": SEND_ONLY_FPS}}}
    ctx = webrtc_streamer(
        key=key,
        mode=WebRtcMode.SENDONLY if send_only else WebRtcMode.SENDRECV,
        rtc_configuration={"iceServers": ice_servers},
        media_stream_constraints=constraints,
        video_frame_callback=stream.process,
        async_processing=True,
    )
    mark_playing(key, stream, ctx.state.playing)
    return ctx
