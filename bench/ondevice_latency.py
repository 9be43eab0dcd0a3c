"""The on-device pipeline's time per frame in chromium (static/ondevice/, LiteRT.js on one thread).

    taskset -c 0 python bench/ondevice_latency.py              # one core, as a modest laptop gives a tab
    taskset -c 0 python bench/ondevice_latency.py --fer fer2013.zip   # and the browser's PublicTest accuracy
    taskset -c 0 python bench/ondevice_latency.py --against REV       # and static/ondevice/ as it was at REV

The real server serves the files; Debian's chromium (headless) loads LiteRT.js and both models once,
then analyzes bench/frames.py's 640x480 frames (0, 1, 3 and 12 faces) from a canvas: the canvas read,
BlazeFace short range, the emotion CNN for the faces due, tracking; the frames are stamped 15 a second,
as a camera sends them, so a still face is read at the tracker's bounded rate. Prints the load time and
median, p95 and mean of `analyze`, median and p95 of detection alone and of one face's classification, after 3 warm-ups.
--fer scores the FER-2013 split in the browser, one face per call, against the served model in Python.
--noise adds a camera's noise, a new draw in each of 16 copies of a frame played in turn (a still face at a
real webcam never gives the same pixels twice). --against REV also times static/ondevice/'s modules as they
were at a git revision (the same runtime, models and settings), in a page of the same chromium, each frame's
rows one after the other, for a ratio in one run.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import cast

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.frames import scenario_frames
from emotion.classifier import EmotionClassifier
from emotion.contract import DetectorSettings
from emotion.ondevice import browser_settings
from tests.support.browser import CHROMIUM, chromium_args, streamlit_server
from tests.support.files import BUNDLED_TFLITE, camera_noise
from tests.support.ondevice import CLASSIFY_CROPS, OnDevicePage, rgba

TIMINGS = """async ([name, width, height, repeats, copies]) => {
  const canvases = [];
  for (let i = 0; i < copies; i++) canvases.push(await canvasOf(`${name} ${i}`, width, height));
  const canvas = canvases[0];
  const frame = M.frameFrom(canvas), grey = M.greyFromRGBA(frame.data, width, height);
  const time = async (fn) => {
    for (let i = 0; i < 3; i++) await fn();
    const samples = [];
    for (let i = 0; i < repeats; i++) { const start = performance.now(); await fn(); samples.push(performance.now() - start); }
    return samples;
  };
  pipeline.reset();
  // Frames stamped 15 a second, as the camera sends them: a tracked face is read at a bounded rate.
  let frameNumber = 0;
  const nextFrame = () => pipeline.analyze(canvases[frameNumber % copies], { now: (frameNumber++ * 1000) / 15 });
  const faces = (await nextFrame()).faces.length;
  const analyze = await time(nextFrame);
  const detect = await time(() => pipeline.detect(frame.data, width, height));
  const box = faces ? (await pipeline.analyze(canvas, { track: false })).faces[0].box : null;
  const classify = box ? await time(() => pipeline.classify(M.faceToInput(grey, width, height, box))) : [];
  return { faces, analyze, detect, classify };
}"""

def figures(samples: list[float]) -> str:
    if not samples:
        return "-"
    return f"{statistics.median(samples):.1f} / {float(np.percentile(samples, 95)):.1f} ms"


def score_fer(page: OnDevicePage, data: str) -> None:
    from emotion.training.data import load_split

    split = load_split(data, "val")
    faces = split.images.astype(np.float32)[..., np.newaxis] / 255
    page.put("crops", faces.tobytes())
    started = time.perf_counter()
    browser = np.array(page.evaluate(CLASSIFY_CROPS))
    seconds = time.perf_counter() - started
    served = EmotionClassifier(BUNDLED_TFLITE).predict(faces)
    labels, expected = browser.argmax(1), served.argmax(1)
    print(f"FER-2013 PublicTest, {len(faces)} faces in {seconds:.1f} s in the browser")
    print(f"  accuracy: browser {(labels == split.labels).mean():.4f}, served model {(expected == split.labels).mean():.4f}")
    print(f"  same label for {(labels == expected).mean():.2%}; largest difference {np.abs(browser - served).max():.2e}")


def modules_at(revision: str) -> dict[str, bytes]:
    """static/ondevice/'s files as they were at a git revision, by name."""
    root = Path(__file__).resolve().parent.parent
    listed = subprocess.run(["git", "ls-tree", "--name-only", f"{revision}:static/ondevice"], cwd=root, check=True,
                            capture_output=True, text=True).stdout.split()
    return {name: subprocess.run(["git", "show", f"{revision}:static/ondevice/{name}"], cwd=root, check=True,
                                 capture_output=True).stdout for name in listed}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python bench/ondevice_latency.py", description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=100)
    parser.add_argument("--fer", help="fer2013.zip (or its folder, or the CSV): also score its PublicTest faces in the browser")
    parser.add_argument("--against", help="a git revision whose static/ondevice/ modules to time as well")
    parser.add_argument("--noise", type=float, default=0, help="a camera's noise in the frames (standard deviation, of 255)")
    args = parser.parse_args(argv)
    from playwright.sync_api import sync_playwright

    with streamlit_server() as server, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
        started = time.perf_counter()
        page = OnDevicePage(chromium, server.url, browser_settings())
        print(f"page, LiteRT.js and both models loaded in {time.perf_counter() - started:.2f} s")
        # Revisions a595603..6acfe67 kept a still face's boxes by their overlap, windows.STILL_IOU (0.9); others ignore it.
        earlier = browser_settings()
        earlier["detector"] = cast(DetectorSettings, {**earlier["detector"], "stillIou": 0.9})
        pages = {"now": page} | ({args.against: OnDevicePage(chromium, server.url, earlier, modules_at(args.against))}
                                 if args.against else {})
        columns = f"{'analyze (median / p95)':>24}  {'mean':>8}  {'detect':>18}  {'classify one face':>18}"
        print(f"{'frame':<10} {'pipeline':<10} {'faces':>5}  {columns}")
        rng = np.random.default_rng(0)
        for name, frame in scenario_frames().items():
            height, width = frame.shape[:2]
            copies = [camera_noise(frame, rng, args.noise) for _ in range(16)] if args.noise else [frame]
            for label, timed in pages.items():
                for number, copy in enumerate(copies):
                    timed.put(f"{name} {number}", rgba(copy))
                found = timed.evaluate(TIMINGS, [name, width, height, args.repeats, len(copies)])
                print(
                    f"{name:<10} {label[:10]:<10} {found['faces']:>5}  {figures(found['analyze']):>24}  "
                    f"{statistics.mean(found['analyze']):>5.1f} ms  {figures(found['detect']):>18}  "
                    f"{figures(found['classify']):>18}"
                )
        if args.fer:
            score_fer(page, args.fer)
        print(f"chromium {chromium.version}, user agent {page.evaluate('navigator.userAgent')}")
        chromium.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
