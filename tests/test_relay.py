"""The relay between the server's tracks hands on the newest frame (emotion.live.relay).

Run in fresh processes: importing aiortc into the test process after TensorFlow crashes it.
"""

from __future__ import annotations

from tests.support.files import run_probe

# A source that has produced 30 frames by the time its consumer, as slow as a starved encoder, asks
# for one; prints the index of the frame the consumer gets from each kind of relay.
SLOW_CONSUMER_PROBE = """
import asyncio
import sys

from aiortc import MediaStreamTrack
from aiortc.contrib.media import MediaRelay

from emotion.live.relay import LatestFrameRelay


class Counter(MediaStreamTrack):
    kind = "video"

    def __init__(self):
        super().__init__()
        self.produced = 0

    async def recv(self):
        await asyncio.sleep(0.001)
        self.produced += 1
        return self.produced


async def main(relay):
    source = Counter()
    consumer = relay.subscribe(source)
    first = await consumer.recv()
    while source.produced < first + 30:
        await asyncio.sleep(0.005)
    print(first, await consumer.recv(), source.produced)
    consumer.stop()


asyncio.run(main(LatestFrameRelay() if sys.argv[1] == "latest" else MediaRelay()))
"""


def frames_taken(relay: str) -> tuple[int, int, int]:
    first, second, produced = map(int, run_probe(SLOW_CONSUMER_PROBE, relay).split()[-3:])
    return first, second, produced


def test_a_slow_consumer_gets_the_newest_frame():
    first, second, produced = frames_taken("latest")
    assert second >= first + 30 and second >= produced - 1


def test_aiortc_default_relay_queues_every_frame():
    """Why the app replaces it: a consumer behind its source gets the oldest frame, and the rest wait in memory."""
    first, second, _ = frames_taken("default")
    assert second == first + 1


WIRING_PROBE = """
import types

import streamlit_webrtc.relay

from emotion.live.relay import LatestFrameRelay
from emotion.live.workarounds import use_latest_frame_relay

runtime = types.SimpleNamespace()  # stands in for Streamlit's Runtime singleton, which needs a server
streamlit_webrtc.relay.Runtime = types.SimpleNamespace(instance=lambda: runtime)
print(use_latest_frame_relay(runtime), isinstance(streamlit_webrtc.relay.get_global_relay(), LatestFrameRelay))
"""


def test_streamlit_webrtc_uses_the_relay_the_app_sets():
    """The relay lives under a name private to streamlit-webrtc; this fails if the library stops reading it."""
    assert run_probe(WIRING_PROBE).split()[-2:] == ["True", "True"]
