"""Helpers for the browser tests: a real Streamlit server, headless chromium, a fake camera."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.support.files import ROOT, read_photo

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CAMERA_PHOTOS = ("facerec_obama.jpg", "facerec_biden.jpg")  # the fake camera's default loop (tests/data)
WEBRTC_IFRAME = 'iframe[title="streamlit_webrtc.component.webrtc_streamer"]'
ARTIFACTS = ROOT / "test-artifacts"
DUMPING_LAUNCHER = (
    "import faulthandler, signal, sys; from streamlit.web.cli import main; "
    "faulthandler.register(signal.SIGUSR1, all_threads=True); sys.exit(main(prog_name='streamlit'))"
)


def require_browser() -> None:
    """Skip without chromium or Playwright, except under CI, where the browser tests must run."""
    missing = [name for name, ok in (("chromium", Path(CHROMIUM).exists()), ("playwright", _has_playwright())) if not ok]
    if missing and os.environ.get("CI") != "true":
        pytest.skip(f"{' and '.join(missing)} not installed (apt-get install chromium; pip install playwright)")
    assert not missing, f"CI must run the browser tests, but {missing} are missing"


def _has_playwright() -> bool:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass(frozen=True)
class RunningServer:
    url: str
    pid: int


@contextlib.contextmanager
def streamlit_server(
    extra_env: dict[str, str] | None = None,
    log_path: Path | None = None,
    cpus: str | None = None,
    thread_dumps: bool = False,
    base_url_path: str = "",
) -> Iterator[RunningServer]:
    """`streamlit run app.py` on a free loopback port, yielded once /_stcore/health answers; with
    `base_url_path`, the app is served under it (server.baseUrlPath, as behind a proxy) and so is the url.

    `cpus` pins it (taskset); `thread_dumps` makes SIGUSR1 print every thread's stack to the log
    (faulthandler), which the soak uses to tell leaked threads from idle pool workers.
    """
    port = free_port()
    # As the Procfile starts it: glibc's heap limit can only come from the environment (emotion/live/memory.py).
    env = {**os.environ, "EMOTION_ICE_SERVERS": "[]", "MALLOC_ARENA_MAX": "2", **(extra_env or {})}
    log = open(log_path or os.devnull, "wb")  # noqa: SIM115 - closed below, after the server stops
    launcher = ["-m", "streamlit"]
    if thread_dumps:
        launcher = ["-c", DUMPING_LAUNCHER]
    command = [
        sys.executable,
        *launcher,
        "run",
        "app.py",
        "--server.headless",
        "true",
        "--server.port",
        str(port),
        "--server.address",
        "127.0.0.1",
        "--browser.gatherUsageStats",
        "false",
        *(["--server.baseUrlPath", base_url_path] if base_url_path else []),
    ]
    if cpus is not None:
        command = ["taskset", "-c", cpus, *command]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = "/".join(part for part in (f"http://127.0.0.1:{port}", base_url_path.strip("/")) if part)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            assert server.poll() is None, "the Streamlit server exited during start-up"
            assert time.monotonic() < deadline, "the Streamlit server did not become healthy within 60 s"
            time.sleep(0.2)
        yield RunningServer(url, server.pid)
    finally:
        stop(server)
        log.close()


def stop(process: subprocess.Popen, timeout_s: float = 10) -> None:
    """Ask a child process to end, and kill it if it has not within `timeout_s`."""
    process.terminate()
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def letterbox(image: np.ndarray, width: int = 640, height: int = 480) -> np.ndarray:
    """`image` scaled to fit a `width` x `height` camera frame, centred on grey (480 x 640 is a phone held upright)."""
    scale = min(width / image.shape[1], height / image.shape[0])
    resized = cv2.resize(image, (round(image.shape[1] * scale), round(image.shape[0] * scale)), interpolation=cv2.INTER_AREA)
    canvas = np.full((height, width, 3), 40, np.uint8)
    top, left = (height - resized.shape[0]) // 2, (width - resized.shape[1]) // 2
    canvas[top : top + resized.shape[0], left : left + resized.shape[1]] = resized
    return canvas


def write_y4m(path: Path, frames: list[np.ndarray], fps: int = 15) -> Path:
    """A fake-camera video chromium can loop: YUV 4:2:0 frames behind a YUV4MPEG2 header."""
    height, width = frames[0].shape[:2]
    with path.open("wb") as out:
        out.write(f"YUV4MPEG2 W{width} H{height} F{fps}:1 Ip A1:1 C420jpeg\n".encode())
        for frame in frames:
            out.write(b"FRAME\n")
            out.write(cv2.cvtColor(frame, cv2.COLOR_BGR2YUV_I420).tobytes())
    return path


def camera_video(
    path: Path, photos: tuple[str, ...], seconds_each: float = 1.0, fps: int = 15, size: tuple[int, int] = (640, 480)
) -> Path:
    """A fake camera's video looping `photos`; `size` is (width, height): (480, 640) for a phone's portrait camera."""
    frames = []
    for name in photos:
        frames += [letterbox(read_photo(name), *size)] * round(seconds_each * fps)
    return write_y4m(path, frames, fps)


def chromium_args(fake_video: Path | None = None) -> list[str]:
    args = [
        "--no-sandbox",
        "--disable-gpu",
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--disable-quic",
    ]
    if fake_video is not None:
        args.append(f"--use-file-for-fake-video-capture={fake_video}")
    return args


def drawn_pixels(returned_bgr: np.ndarray, sources: list[np.ndarray], threshold: int = 80) -> int:
    """Pixels of a returned video frame that differ strongly from the camera frame it came from.

    The source is the camera frame closest to it; compression changes pixels a little, while the
    drawn boxes and label bands change them a lot, whatever the emotion's colour. A frame of another
    size than the camera's (chromium's video element can show a 2x2 frame as the stream starts) is
    not the returned video yet: 0.
    """
    if returned_bgr.shape[:2] != sources[0].shape[:2]:
        return 0
    returned = returned_bgr[..., :3].astype(np.int16)
    source = min(sources, key=lambda s: float(np.abs(returned - s.astype(np.int16)).mean()))
    return int((np.abs(returned - source.astype(np.int16)).max(axis=2) > threshold).sum())


def start_button(page):
    """The START button inside the WebRTC component's iframe."""
    return page.frame_locator(WEBRTC_IFRAME).get_by_role("button", name=re.compile(r"^start$", re.I))


def press_start(page, ready, timeout_s: float = 60, retries: int = 3) -> int:
    """Press START and wait until `ready()`; when the start fails, do what a user would.

    Two failures were seen now and then: the connection starts but no frame reaches the server (the
    app then tells the user to press STOP and START; cause not yet found), and the connection comes
    up and drops seconds later, so the component shows START again. The second was streamlit-webrtc
    stopping its own new worker on a stale run count; emotion.live.workarounds.keep_rendered_context prevents it.

    The test follows the advice, or presses START again, at most `retries` times in all, and saves a
    screenshot when the video never comes. Returns the retries used.
    """
    allowed = retries
    frame = page.frame_locator(WEBRTC_IFRAME)
    start = start_button(page)
    start.click(timeout=60_000)
    pressed = time.monotonic()
    deadline = pressed + timeout_s
    while not ready():
        stalled = page.get_by_text("No video has reached the server")
        if retries and stalled.count():
            frame.get_by_role("button", name=re.compile(r"^stop$", re.I)).click()
            start.click(timeout=30_000)
            retries -= 1
            # The old advice stays on the page until the next rerun; a fresh start gets its full time.
            stalled.first.wait_for(state="detached", timeout=15_000)
            pressed, deadline = time.monotonic(), max(deadline, time.monotonic() + 20)
        elif retries and time.monotonic() - pressed > 15 and start.is_visible():
            start.click(timeout=30_000)  # the connection did not come up: the component is back at START
            retries -= 1
            pressed, deadline = time.monotonic(), max(deadline, time.monotonic() + 20)
        if time.monotonic() > deadline:
            ARTIFACTS.mkdir(exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "no-frames.png"), full_page=True)
            raise AssertionError("no processed frame, even after STOP and START (test-artifacts/no-frames.png)")
        page.wait_for_timeout(250)
    return allowed - retries


def metric_text(page, label: str) -> str:
    """What a Streamlit metric labelled `label` shows ("" while the page has no such metric)."""
    value = page.locator('[data-testid="stMetric"]', has_text=label).locator('[data-testid="stMetricValue"]')
    return value.first.inner_text().strip() if value.count() else ""


def metric_value(page, label: str) -> int | None:
    """The whole number a Streamlit metric labelled `label` shows, or None while it shows none."""
    text = metric_text(page, label)
    return int(text) if text.isdigit() else None


@contextlib.contextmanager
def chromium_with_camera(
    folder: Path, photos: tuple[str, ...] = CAMERA_PHOTOS, size: tuple[int, int] = (640, 480)
) -> Iterator:
    """Headless chromium (Playwright) whose fake camera loops `photos`, a second each, in frames of `size` (width, height)."""
    from playwright.sync_api import sync_playwright

    video = camera_video(folder / "camera.y4m", photos, size=size)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args(video))
        try:
            yield chromium
        finally:
            chromium.close()


def open_page(browser, url: str):
    """The app in a fresh browser context (a student's own browser), camera allowed."""
    context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(url)
    return page


def stream_figures(page) -> tuple[float | None, float | None, float | None]:
    """(frames per second, median ms, p95 ms) as the Live page shows them for its stream."""

    def metric(label: str) -> float | None:
        found = re.search(r"[\d.]+", metric_text(page, label))  # a number, or a number and " ms"; "–" while there is none
        return float(found.group()) if found else None

    caption = page.get_by_text(re.compile(r"p95 \d+ ms"))
    p95 = re.search(r"p95 (\d+) ms", caption.first.inner_text()) if caption.count() else None
    return metric("Frames / s"), metric("Time per frame"), float(p95.group(1)) if p95 else None


def process_tree_files(pid: int, name: str) -> list[str]:
    """/proc/<p>/<name> of a process and each of its descendants alive now (those gone meanwhile are skipped)."""
    texts, pids = [], [pid]
    while pids:
        current = pids.pop()
        try:
            texts.append(Path(f"/proc/{current}/{name}").read_text())
            pids += [int(child) for child in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
        except FileNotFoundError:
            continue
    return texts


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process and its children alive now have used, from /proc (seconds)."""
    ticks = 0
    for stat in process_tree_files(pid, "stat"):
        fields = stat.rsplit(")", 1)[1].split()  # after the command's name: state, ppid, ... utime is the 14th field
        ticks += int(fields[11]) + int(fields[12])
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_mb(pid: int) -> float:
    """Resident memory of a process and its children, from /proc."""
    found = (re.search(r"VmRSS:\s+(\d+) kB", status) for status in process_tree_files(pid, "status"))
    return sum(int(match.group(1)) for match in found if match) / 1024
