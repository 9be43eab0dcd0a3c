"""Every place where the app reaches into a library's private API, each with the contract it relies on.

Each workaround is pinned by a test that fails when the library stops behaving as written here:
tests/test_stream.py for the run count, tests/test_relay.py for the relay and the encoder. When such a test fails,
the library changed; read its release notes, then mend or drop the workaround.
"""

from __future__ import annotations

import logging
import multiprocessing
import threading
from collections.abc import MutableMapping
from typing import Any

import aiortc.codecs
import aiortc.codecs.vpx
import aiortc.rtcrtpsender
import av
import streamlit as st
import streamlit_webrtc.relay
from aiortc.codecs.base import Encoder
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from av.frame import Frame
from av.video.codeccontext import VideoCodecContext
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime import Runtime

from emotion.live.relay import LatestFrameRelay

LOGGER = logging.getLogger(__name__)

# --- streamlit-webrtc's orphan check and Streamlit's run count -------------------------------------
#
# Contract (streamlit-webrtc 0.79, streamlit_webrtc.component): a context object lives in
# st.session_state under the component's key and keeps `_last_rendered_run_count`, the session's
# `script_run_count` when the component was last drawn. When a later run sees that count jump by more
# than one, the library takes it for a run without the component (the user left the page) and stops
# the context's worker. Setting the attribute to None skips that check once.

COMPLETED_RUNS = "completed_script_runs"


def count_completed_run() -> None:
    """Count one full script run of this session (run_counting_completed_runs calls it after the page)."""
    st.session_state[COMPLETED_RUNS] = st.session_state.get(COMPLETED_RUNS, 0) + 1


def run_counting_completed_runs(page: StreamlitPage) -> None:
    """Run the page, then count the run, which keep_rendered_context reads.

    app.py runs every page through this; a run that a rerun cuts short raises out of page.run()
    and is not counted, which is the point.
    """
    page.run()
    count_completed_run()


def keep_rendered_context(session_state: MutableMapping, key: str) -> None:
    """Keep streamlit-webrtc from resetting the context of a component that the last run did render.

    Streamlit advances the session's run count on the event loop when it sends a run's end, so a
    rerun that starts before then reads a stale count, and the next run seems to have skipped one.
    During signalling the reruns come back to back, and now and then a start connected and was
    dropped seconds later. This app counts its completed runs itself, on the
    script thread; when none went by since the component was last rendered, it clears the library's
    record, which skips the check once. Leaving the page and coming back still resets the context.
    """
    completed = session_state.get(COMPLETED_RUNS, 0)
    rendered_after = session_state.get(f"{key}_rendered_after")
    context = session_state.get(key)
    if context is not None and rendered_after is not None and rendered_after >= completed - 1:
        context._last_rendered_run_count = None
    session_state[f"{key}_rendered_after"] = completed


# --- streamlit-webrtc's server relay -----------------------------------------------------------------
#
# Contract (streamlit-webrtc 0.79, streamlit_webrtc.relay): the library keeps one aiortc MediaRelay per
# server, on Streamlit's Runtime singleton under the attribute named by
# streamlit_webrtc.relay._SERVER_GLOBAL_RELAY_ATTR_NAME_, creates it on first use, and subscribes every
# stream's tracks through it. A relay set there before a stream starts is the one that stream uses.

_install_lock = threading.Lock()


def use_latest_frame_relay(runtime: Any | None = None) -> bool:
    """Make streamlit-webrtc relay this server's tracks through a LatestFrameRelay; False where it cannot.

    Call before each webrtc_streamer; streams already running keep the relay they started with.
    """
    attribute = getattr(streamlit_webrtc.relay, "_SERVER_GLOBAL_RELAY_ATTR_NAME_", None)
    if attribute is None:
        LOGGER.warning("streamlit-webrtc no longer names its relay; video may lag on a busy server")
        return False
    runtime = runtime if runtime is not None else Runtime.instance()
    with _install_lock:
        if not isinstance(getattr(runtime, attribute, None), LatestFrameRelay):
            setattr(runtime, attribute, LatestFrameRelay())
    return True


# --- aiortc's VP8 encoder settings ----------------------------------------------------------------------
#
# Contract (aiortc 1.16, aiortc.codecs.vpx.Vp8Encoder.encode): the encoder opens a libvpx context in its
# `codec` attribute when that is None, and keeps the one it finds while the frame's size matches it and
# the target bitrate is within 10% of its bit_rate; RTCRtpSender makes its encoder with the name
# `get_encoder` of aiortc.rtcrtpsender. Neither aiortc nor streamlit-webrtc lets the app choose the settings.

PHONE_SPEED = {"cpu-used": "-12", "noise-sensitivity": "1"}
"""libvpx's speed and denoiser as WebRTC's own VP8 encoder sets them on a phone with up to three cores
(LibvpxVp8Encoder::GetCpuSpeed; the denoiser on the Y plane only). aiortc sets -6 and the adaptive denoiser,
a desktop's choice for its one stream; a server encodes one stream a student. Measured at 640x480: less time a
frame for the same picture quality (bench/README.md). Only VP8: a browser that chooses H264 gets aiortc's."""


class PhoneSpeedVp8Encoder(Vp8Encoder):
    """aiortc's VP8 encoder, but for PHONE_SPEED: the context is opened here with aiortc's own settings."""

    def __init__(self) -> None:
        super().__init__()
        self._opened_here: VideoCodecContext | None = None

    def encode(self, frame: Frame, force_keyframe: bool = False) -> tuple[list[bytes], int]:
        assert isinstance(frame, av.VideoFrame)  # as aiortc's encoder asserts: it is given video
        codec, bitrate = self.codec, self.target_bitrate
        # Not ours: the sender's thread changed the bitrate between this check and aiortc's, which opened its own
        # for one frame (a keyframe); ours then starts with another.
        if codec is None or codec is not self._opened_here or (codec.width, codec.height) != (frame.width, frame.height) \
                or not codec.bit_rate or abs(bitrate - codec.bit_rate) / codec.bit_rate > 0.1:
            self.codec = self._opened_here = vp8_context(frame.width, frame.height, bitrate)
        return super().encode(frame, force_keyframe)


def vp8_context(width: int, height: int, bitrate: int) -> VideoCodecContext:
    """A libvpx context as aiortc's Vp8Encoder opens one (tests/test_relay.py compares them), at PHONE_SPEED."""
    context = av.CodecContext.create("libvpx", "w")
    context.width, context.height, context.bit_rate, context.pix_fmt = width, height, bitrate, "yuv420p"
    context.gop_size, context.qmin, context.qmax = 3000, 2, 56
    context.options = {
        "bufsize": str(bitrate),
        "deadline": "realtime",
        "lag-in-frames": "0",
        "minrate": str(bitrate),  # minrate = maxrate = bit_rate: constant bitrate
        "maxrate": str(bitrate),
        "overshoot-pct": "15",
        "partitions": "0",
        "static-thresh": "1",
        "undershoot-pct": "100",
        **PHONE_SPEED,
    }
    context.thread_count = aiortc.codecs.vpx.number_of_threads(width * height, multiprocessing.cpu_count())
    return context


def _encoder_for(codec: RTCRtpCodecParameters) -> Encoder:
    return PhoneSpeedVp8Encoder() if codec.mimeType.lower() == "video/vp8" else aiortc.codecs.get_encoder(codec)


def use_phone_speed_vp8() -> None:
    """Make aiortc encode the video it sends back with PHONE_SPEED; streams already sending keep their encoder."""
    aiortc.rtcrtpsender.get_encoder = _encoder_for
