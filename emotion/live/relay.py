"""The relay between the server's video tracks: newest frame only, so a slow encoder drops frames instead of lagging.

streamlit-webrtc passes the camera's track and the processed track through aiortc's MediaRelay, whose
consumers are buffered by default: an unbounded queue each. The processed frames are taken from that
queue by aiortc's VP8 encoder, which shares the server's cores with every other stream; when it falls
below the camera's frame rate, the queue grows for as long as the stream runs, a decoded frame per
entry, and every queued frame is also delay in the returned video (the soak runs in
docs/bench-history.md measured both). aiortc added unbuffered consumers for this case (aiortc pull
request #498); this relay makes every consumer one, so each takes the newest frame and the ones it
could not take are dropped, as live video should.

Installed as streamlit-webrtc's server relay by emotion.live.workarounds.use_latest_frame_relay.
Not imported by the test process itself: aiortc there, after TensorFlow, crashes it (tests/support/files.py, run_probe).
"""

from __future__ import annotations

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay


class LatestFrameRelay(MediaRelay):
    """A MediaRelay whose consumers always get the newest frame of their source."""

    def subscribe(self, track: MediaStreamTrack, buffered: bool = False) -> MediaStreamTrack:
        return super().subscribe(track, buffered=False)
