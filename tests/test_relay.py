"""The relay between the server's tracks hands on the newest frame (emotion.live.relay), and the video sent
back is encoded at a phone's speed (emotion.live.workarounds.use_phone_speed_vp8).

Run in fresh processes: importing aiortc into the test process after TensorFlow crashes it.
"""

from __future__ import annotations

import json

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


# aiortc's own VP8 encoder and the app's, each given the same 30 frames of a real face at 640x480 with a
# camera's noise. libvpx's options cannot be read back from an opened context, so each encoder's bitstream
# is compared with that of a context opened here with the options the test names (libvpx at a fixed speed
# gives the same bytes for the same settings). Prints the comparisons, the picture each sends (PSNR against
# the frames) and which encoders aiortc's sender gets before and after use_phone_speed_vp8.
ENCODER_PROBE = """
import dis
import fractions
import json
import sys

import aiortc.rtcrtpsender
import av
import numpy as np
from aiortc.codecs.vpx import Vp8Encoder
from aiortc.rtcrtpparameters import RTCRtpCodecParameters
from aiortc.rtcrtpsender import RTCRtpSender

from bench.returned_video import psnr, vp8_data
from emotion.live.workarounds import PhoneSpeedVp8Encoder, use_phone_speed_vp8
from tests.support.browser import letterbox
from tests.support.files import camera_noise, read_photo

AIORTC_OPTIONS, PHONE_OPTIONS = json.loads(sys.argv[1]), json.loads(sys.argv[2])

rng = np.random.default_rng(0)
face = letterbox(read_photo("facerec_obama.jpg"))
frames = []
for index in range(30):
    frame = av.VideoFrame.from_ndarray(camera_noise(face, rng, 4), format="bgr24").reformat(format="yuv420p")
    frame.pts, frame.time_base = index * 6000, fractions.Fraction(1, 90000)
    frames.append(frame)


def sent(encoder, count=30, start=0):
    return [vp8_data(encoder.encode(frame)[0]) for frame in frames[start:count]]


def reference(options, bitrate=500_000, count=30, start=0):
    context = av.CodecContext.create("libvpx", "w")
    context.width, context.height, context.bit_rate, context.pix_fmt = 640, 480, bitrate, "yuv420p"
    context.gop_size, context.qmin, context.qmax, context.thread_count = 3000, 2, 56, 1
    context.options = {key: value.replace("BITRATE", str(bitrate)) for key, value in options.items()}
    return [b"".join(bytes(packet) for packet in context.encode(frame)) for frame in frames[start:count]]


def luma_psnr(chunks):
    decoder, values = av.CodecContext.create("libvpx", "r"), []
    for frame, chunk in zip(frames, chunks):
        values += [psnr(frame.to_ndarray()[:480], out.to_ndarray()[:480]) for out in decoder.decode(av.Packet(chunk))]
    return float(np.mean(values[5:]))


theirs, ours = sent(Vp8Encoder()), sent(PhoneSpeedVp8Encoder())
at_1mbps = PhoneSpeedVp8Encoder()
at_1mbps.target_bitrate = 1_000_000  # as aiortc's sender sets it from the browser's bandwidth estimate
raced = PhoneSpeedVp8Encoder()
sent(raced, 5)
foreign = Vp8Encoder()
sent(foreign, 1)
raced.codec = foreign.codec  # as when the sender's thread changes the bitrate between raced's check and aiortc's
report = {
    "ours_again_after_a_race": sent(raced, 15, 5) == reference(PHONE_OPTIONS, count=15, start=5),
    "theirs_as_named": theirs == reference(AIORTC_OPTIONS),
    "ours_as_named": ours == reference(PHONE_OPTIONS),
    "ours_differ": ours != theirs,
    "ours_at_1mbps_as_named": sent(at_1mbps, 10) == reference(PHONE_OPTIONS, 1_000_000, 10),
    "theirs_psnr": luma_psnr(theirs),
    "ours_psnr": luma_psnr(ours),
}
vp8 = RTCRtpCodecParameters(mimeType="video/VP8", clockRate=90000, payloadType=96)
opus = RTCRtpCodecParameters(mimeType="audio/opus", clockRate=48000, channels=2, payloadType=111)
report["before"] = type(aiortc.rtcrtpsender.get_encoder(vp8)).__name__
use_phone_speed_vp8()
report["after"] = [type(aiortc.rtcrtpsender.get_encoder(codec)).__name__ for codec in (vp8, opus)]
sender_code = RTCRtpSender._next_encoded_frame
report["sender_asks_by_name"] = sender_code.__globals__ is vars(aiortc.rtcrtpsender) and any(
    step.opname == "LOAD_GLOBAL" and step.argval == "get_encoder" for step in dis.get_instructions(sender_code)
)
print(json.dumps(report))
"""

# aiortc 1.16's VP8 settings (aiortc/codecs/vpx.py), BITRATE standing for the target bitrate.
AIORTC_VP8_OPTIONS = {
    "bufsize": "BITRATE", "cpu-used": "-6", "deadline": "realtime", "lag-in-frames": "0", "minrate": "BITRATE",
    "maxrate": "BITRATE", "noise-sensitivity": "4", "overshoot-pct": "15", "partitions": "0", "static-thresh": "1",
    "undershoot-pct": "100",
}


def test_the_video_sent_back_is_encoded_at_a_phones_speed_as_well_as_aiortc_does():
    """Pins the contract written in emotion/live/workarounds.py: aiortc's settings but for PHONE_SPEED."""
    phone = {**AIORTC_VP8_OPTIONS, "cpu-used": "-12", "noise-sensitivity": "1"}
    report = json.loads(run_probe(ENCODER_PROBE, json.dumps(AIORTC_VP8_OPTIONS), json.dumps(phone)).splitlines()[-1])
    assert report["theirs_as_named"], "aiortc's VP8 settings changed: compare emotion.live.workarounds.vp8_context"
    assert report["ours_as_named"] and report["ours_differ"] and report["ours_at_1mbps_as_named"]
    assert report["ours_again_after_a_race"]
    assert report["ours_psnr"] > 30 and report["ours_psnr"] > report["theirs_psnr"] - 0.5
    assert report["before"] == "Vp8Encoder" and report["after"] == ["PhoneSpeedVp8Encoder", "OpusEncoder"]
    assert report["sender_asks_by_name"]
