"""What sending a labelled frame back costs the server: conversion and VP8 encoding, aiortc's way and the app's.

    taskset -c 0 python bench/returned_video.py            # one core; --noise 0 for a camera without noise

aiortc's way: the labelled BGR frame as a video frame, converted to yuv420p by its encoder (libswscale), and
aiortc's Vp8Encoder. The app's: emotion.live.stream.returned_frame (OpenCV's conversion) and
PhoneSpeedVp8Encoder (emotion/live/workarounds.py). Frames: bench/frames.py's 640x480 scenes with a camera's
noise, new each frame, shifted a pixel every few frames; each encoder at aiortc's starting bitrate. Prints the
median and p95 milliseconds of making the video frame and of encoding it (aiortc's encoder converts a BGR
frame to yuv420p inside, so its conversion is counted there), and the picture sent (PSNR of the decoded luma
against the frame given), all from frame 20 on.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import av
import numpy as np
from aiortc.codecs.vpx import Vp8Encoder

from bench.frames import scenario_frames
from emotion.live.stream import returned_frame
from emotion.live.workarounds import PhoneSpeedVp8Encoder
from tests.support.files import camera_noise

VP8_DESCRIPTOR = 4  # aiortc's payload descriptor before each packet's VP8 data (a 15-bit picture id)
WARM_UP = 20


def moving_frames(image: np.ndarray, noise: float, count: int) -> list[np.ndarray]:
    rng = np.random.default_rng(0)
    return [camera_noise(np.roll(image, (index // 10) % 4, axis=1), rng, noise) for index in range(count)]


def bgr_frame(image: np.ndarray) -> av.VideoFrame:
    """The labelled image as the app made its video frame before returned_frame."""
    return av.VideoFrame.from_ndarray(image, format="bgr24")


def figures(samples: list[float]) -> str:
    return f"median {statistics.median(samples):5.2f} ms, p95 {statistics.quantiles(samples, n=20)[-1]:5.2f} ms"


def send(images: list[np.ndarray], convert, encoder) -> tuple[list[float], list[float], float]:
    """Milliseconds converting and encoding each frame after the warm-up, and the mean PSNR of what was sent."""
    decoder, converting, encoding, psnr = av.CodecContext.create("libvpx", "r"), [], [], []
    for index, image in enumerate(images):
        started = time.perf_counter()
        frame = convert(image)
        converted = time.perf_counter()
        frame.pts, frame.time_base = index * 6000, Fraction(1, 90000)
        payloads, _ = encoder.encode(frame)
        encoded = time.perf_counter()
        if index >= WARM_UP:
            converting.append((converted - started) * 1000)
            encoding.append((encoded - converted) * 1000)
        for out in decoder.decode(av.Packet(b"".join(payload[VP8_DESCRIPTOR:] for payload in payloads))):
            if index >= WARM_UP:
                sent = av.VideoFrame.from_ndarray(image, format="bgr24").to_ndarray(format="gray").astype(float)
                error = np.mean((out.to_ndarray(format="gray").astype(float) - sent) ** 2)
                psnr.append(10 * np.log10(255**2 / max(error, 1e-9)))
    return converting, encoding, float(np.mean(psnr))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    parser.add_argument("--noise", type=float, default=4.0, help="a camera's noise, standard deviation in levels")
    args = parser.parse_args()
    ways = {
        "aiortc (libswscale, cpu-used -6, denoiser 4)": (bgr_frame, Vp8Encoder),
        "app (OpenCV, cpu-used -12, denoiser 1)": (returned_frame, PhoneSpeedVp8Encoder),
    }
    for scene in ("1 face", "12 faces"):
        images = moving_frames(scenario_frames()[scene], args.noise, args.frames)
        print(f"{scene}, 640x480, noise {args.noise:g}:")
        for name, (convert, make_encoder) in ways.items():
            converting, encoding, psnr = send(images, convert, make_encoder())
            print(f"  {name:45s} to a frame {figures(converting)}; encode {figures(encoding)}; PSNR {psnr:.2f} dB")


if __name__ == "__main__":
    main()
