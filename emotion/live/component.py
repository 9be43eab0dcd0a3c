"""The WebRTC video component on a page: a session's stream, the webcam through it, and failed starts noticed.

Where WebRTC cannot connect (a firewall that blocks UDP, a host without a TURN server) the component just
waits after START. The page must say so and offer the on-device path, which needs no WebRTC: `Connection`
tells a start that cannot connect or that brings no frame; `connection_advice` says it and offers the switch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import streamlit as st
from streamlit_webrtc import WebRtcMode, WebRtcStreamerContext, webrtc_streamer

from emotion.live.stream import LiveStream
from emotion.live.workarounds import keep_rendered_context, use_latest_frame_relay, use_phone_speed_vp8
from emotion.pipeline import Face, Models, PipelineSettings

VIDEO_CONSTRAINTS: dict = {"video": {"width": 640, "height": 480, "frameRate": {"ideal": 15}}, "audio": False}
SEND_ONLY_FPS = 5  # a class room's figures need a few frames a second, not video

CONNECT_SECONDS = 8.0  # START to connected: over loopback 0.1 s, through a TURN relay a second or two
STALL_SECONDS = 8.0  # connected to the first frame at the server
CONNECT_MESSAGE = (
    "Your video cannot reach the server: this network seems to block the kind of connection live video needs "
    "(WebRTC), as many school and office firewalls do. Read your faces on this device instead: it needs no such "
    "connection, and your video stays on this device."
)
STALL_MESSAGE = (
    "No video has reached the server since you pressed START. Press STOP, then START again, "
    "or read your faces on this device instead."
)
SWITCH_LABEL = "Read my faces on this device"


def session_stream(
    key: str, models: Models, settings: PipelineSettings, on_faces: Callable[[list[Face]], None] | None = None
) -> LiveStream:
    """This session's stream under `key`, made on first use; it follows the sidebar's current settings."""
    if key not in st.session_state:
        st.session_state[key] = LiveStream(models, settings, on_faces=on_faces)
    stream: LiveStream = st.session_state[key]
    stream.settings = settings
    return stream


@dataclass
class Connection:
    """What happened since the user pressed START, to tell a network that blocks WebRTC from a working start.

    `frames` is the stream's count of frames processed (LiveStream.snapshot().frames), `now` a monotonic clock.
    """

    since: float  # when START was noticed
    frames: int  # the stream's frames then
    playing_since: float | None = None  # when the browser said connected
    ended_unplayed: bool = False  # the component gave up (ICE failed) before it ever connected

    def seen(self, playing: bool, signalling: bool, now: float) -> None:
        """The component's state in a run that drew it."""
        if playing and self.playing_since is None:
            self.playing_since = now
        elif not (playing or signalling) and self.playing_since is None:
            self.ended_unplayed = True

    def trouble(self, frames: int, now: float) -> str | None:
        """Plain words for the user when the start failed; None while it works or may still work."""
        if frames != self.frames:
            return None
        if self.playing_since is None:
            return CONNECT_MESSAGE if self.ended_unplayed or now - self.since > CONNECT_SECONDS else None
        # Now and then a connection says connected but no frame reaches the server (cause not yet found);
        # STOP and START always recovered in the tests, so the advice names both ways on.
        return STALL_MESSAGE if now - self.playing_since > STALL_SECONDS else None

    def waiting(self, frames: int) -> bool:
        """Whether a start is still waiting for its first frame, so something must look again later."""
        return frames == self.frames and not self.ended_unplayed


def note_connection(key: str, stream: LiveStream, playing: bool, signalling: bool) -> None:
    """Follow the component's START: a new one is noted with the stream's frames then; STOP ends a working one."""
    marker = f"{key}_connection"
    connection: Connection | None = st.session_state.get(marker)
    now, frames = time.monotonic(), stream.snapshot().frames
    if connection is None or (connection.ended_unplayed and (playing or signalling)):
        if not (playing or signalling):
            return
        connection = st.session_state[marker] = Connection(now, frames)
    connection.seen(playing, signalling, now)
    if not (playing or signalling) and connection.playing_since is not None:
        del st.session_state[marker]  # stopped after it worked: nothing to tell


def forget_connection(key: str) -> None:
    """The component is not drawn (paused, or the other path): a later START is judged afresh."""
    st.session_state.pop(f"{key}_connection", None)
    st.session_state.pop(f"{key}_trouble_drawn", None)


def connection_trouble(key: str, stream: LiveStream) -> str | None:
    """What to tell the user about the current start, if it failed (see Connection.trouble)."""
    connection: Connection | None = st.session_state.get(f"{key}_connection")
    return None if connection is None else connection.trouble(stream.snapshot().frames, time.monotonic())


def connection_advice(key: str, stream: LiveStream, switch_to_device: Callable[[], None]) -> bool:
    """Say plainly why no video comes and offer the on-device path in one click; look again while a start waits.

    Drawn in the page's full run, beside the video component and the path control: the button acts in its
    callback, before the next run draws the path control, so the switch is never lost to a fragment's rerun.
    Returns whether the advice is shown.
    """
    trouble = connection_trouble(key, stream)
    st.session_state[f"{key}_trouble_drawn"] = trouble
    if trouble is not None:
        st.warning(trouble)
        st.button(SWITCH_LABEL, key=f"{key}_to_device", type="primary", on_click=switch_to_device)
    connection: Connection | None = st.session_state.get(f"{key}_connection")
    if connection is not None and connection.waiting(stream.snapshot().frames):
        watch_connection(key, stream)
    return trouble is not None


@st.fragment(run_every=1.0)
def watch_connection(key: str, stream: LiveStream) -> None:
    """While a start waits for its first frame, rerun the page once what it should say changes (it draws nothing).

    Without it nothing would run: after START, a connection that never comes up sends no more events.
    """
    connection: Connection | None = st.session_state.get(f"{key}_connection")
    drawn = st.session_state.get(f"{key}_trouble_drawn")
    if connection is None or connection_trouble(key, stream) != drawn or not connection.waiting(stream.snapshot().frames):
        st.rerun()  # the whole page: the advice appears or goes, and this watch stops once the frames flow


def live_video(
    key: str, stream: LiveStream, ice_servers: list[dict], *, send_only: bool = False
) -> WebRtcStreamerContext:
    """The WebRTC component sending the webcam through `stream`; notes each START for `connection_advice`.

    By default the labelled video comes back. `send_only`: nothing comes back, so the component shows no
    video (emotion.live.device.self_view is the page's preview), and the camera is asked for SEND_ONLY_FPS:
    the server neither encodes video nor reads frames it needs no more of; the class room's figures are all
    that is kept.
    """
    keep_rendered_context(st.session_state, key)
    use_latest_frame_relay()
    use_phone_speed_vp8()
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
    note_connection(key, stream, ctx.state.playing, ctx.state.signalling)
    return ctx
