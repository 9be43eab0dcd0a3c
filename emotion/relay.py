"""The relay between the server's video tracks: newest frame only, so a slow encoder drops frames instead of lagging.

streamlit-webrtc passes the camera's track and the processed track through aiortc's MediaRelay, whose
consumers are buffered by default: an unbounded queue each. The processed frames are taken from that
queue by aiortc's VP8 encoder, which shares the server's cores with every other stream; when it falls
below the camera's 15 frames/s, the queue grows for as long as the stream runs. With six streams on
two cores up to 32 processed frames were queued per stream, about a megabyte each; a 20-minute soak
of five streams grew from 390 MB to over 1 GB and gave it all back when the streams dropped. Each
queued frame is also delay: the returned video fell seconds behind the camera (bench/README.md).
aiortc added unbuffered consumers for this case (aiortc pull request #498); this relay makes every
consumer one, so each takes the newest frame and the ones it could not take are dropped, as live
video should.

Not imported by the test process itself: aiortc there, after TensorFlow, crashes it (see tests/conftest.py).
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import streamlit_webrtc.relay
from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay
from streamlit.runtime import Runtime

LOGGER = logging.getLogger(__name__)
_install_lock = threading.Lock()


class LatestFrameRelay(MediaRelay):
    """A MediaRelay whose consumers always get the newest frame of their source."""

    def subscribe(self, track: MediaStreamTrack, buffered: bool = False) -> MediaStreamTrack:
        return super().subscribe(track, buffered=False)


def use_latest_frame_relay(runtime: Any | None = None) -> bool:
    """Make streamlit-webrtc relay this server's tracks through a LatestFrameRelay; False where it cannot.

    Call before each webrtc_streamer: streamlit-webrtc keeps one relay per server, on the Streamlit
    runtime under the attribute named in streamlit_webrtc.relay, and creates its own on first use;
    streams already running keep the relay they started with. That name is private to the library:
    tests/test_relay.py checks that the library still reads the relay set here.
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
