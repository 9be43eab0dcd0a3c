"""What sending a labelled frame back costs the server: the video frame made and VP8-encoded, aiortc's way and the app's.

    taskset -c 0 python bench/returned_video.py            # one core; --noise 0 for a camera without noise

aiortc's way: the labelled BGR image as a bgr24 video frame, which aiortc's Vp8Encoder converts to yuv420p
with libswscale before encoding. The app's: emotion.live.stream.returned_frame (yuv420p made with OpenCV) and
PhoneSpeedVp8Encoder (emotion/live/workarounds.py). With the server's memory setting (frame-sized buffers
mapped and unmapped each time: emotion/live/memory.py). Frames: bench/frames.py's 640x480 scenes with a
camera's noise, new each frame, shifted a pixel every few frames; each encoder at aiortc's starting bitrate.
Prints the median and p95 milliseconds a frame, and the picture sent (PSNR of the decoded frame against
libswscale's yuv420p of the image, luma and chroma), all after WARM_UP frames.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import numpy as np
from aiortc.codecs.vpx import Vp8Encoder

from bench.frames import scenario_frames
from emotion.live.memory import return_frame_buffers_to_the_system
from emotion.live.stream import returned_frame
from emotion.live.workarounds import PhoneSpeedVp8Encoder
from tests.support.files import camera_noise

VP8_DESCRIPTOR = 4  # aiortc's payload descriptor before each packet's VP8 data (a 15-bit picture id)
WARM_UP = 20


def moving_frames(image: np.ndarray, noise: float, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [camera_noise(np.roll(image, (index // 10) % 4, axis=1), rng, noise) for index in range(count)]


def timing_text(samples: list[float]) -> str:
    return f"median {statistics.median(samples):5.2f} ms, p95 {statistics.quantiles(samples, n=20)[-1]:5.2f} ms"


def vp8_data(payloads: list[bytes]) -> bytes:
    """One frame's RTP payloads from aiortc's VP8 encoder as the bitstream a decoder reads: their descriptors cut."""
    return b"".join(payload[VP8_DESCRIPTOR:] for payload in payloads)


def psnr(sent: np.ndarray, received: np.ndarray) -> float:
    error = np.mean((sent.astype(float) - received.astype(float)) ** 2)
    return float(10 * np.log10(255**2 / max(error, 1e-9)))


def bgr_frame(image: np.ndarray) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def send(
    images: list[np.ndarray], make_frame: Callable[[np.ndarray], av.VideoFrame], encoder: Vp8Encoder
) -> tuple[list[float], float, float]:
    """Milliseconds making and encoding each frame after the warm-up, and the mean luma and chroma PSNR sent."""
    decoder, encoding, luma, chroma = av.CodecContext.create("libvpx", "r"), [], [], []
    for index, image in enumerate(images):
        started = time.perf_counter()
        frame = make_frame(image)
        frame.pts, frame.time_base = index * 6000, Fraction(1, 90000)
        payloads, _ = encoder.encode(frame)
        if index >= WARM_UP:
            encoding.append((time.perf_counter() - started) * 1000)
        for out in decoder.decode(av.Packet(vp8_data(payloads))):
            if index >= WARM_UP:
                sent, received = bgr_frame(image).reformat(format="yuv420p").to_ndarray(), out.to_ndarray()
                height = frame.height
                luma.append(psnr(sent[:height], received[:height]))
                chroma.append(psnr(sent[height:], received[height:]))
    return encoding, float(np.mean(luma)), float(np.mean(chroma))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--noise", type=float, default=4.0, help="a camera's noise, standard deviation in levels")
    args = parser.parse_args()
    ways = {
        "aiortc (libswscale, cpu-used -6, denoiser 4)": (bgr_frame, Vp8Encoder),
        "app (OpenCV, cpu-used -12, denoiser 1)": (returned_frame, PhoneSpeedVp8Encoder),
    }
    return_frame_buffers_to_the_system()
    for scene in ("1 face", "12 faces"):
        images = moving_frames(scenario_frames()[scene], args.noise, args.frames)
        print(f"{scene}, 640x480, noise {args.noise:g}:")
        for name, (make_frame, make_encoder) in ways.items():
            encoding, luma, chroma = send(images, make_frame, make_encoder())
            print(f"  {name:45s} {timing_text(encoding)}; PSNR luma {luma:.2f} dB, chroma {chroma:.2f} dB")


if __name__ == "__main__":
    main()
