"""The real server under load: cold start, memory, and frame rate and latency per stream.

    python bench/server_load.py [--streams 1 5 10] [--seconds 20]
    taskset -c 1 python bench/server_load.py --server-cpus 0 --streams 1 2 3 4   # streams per core

Starts `streamlit run app.py`, then opens chromium tabs whose fake cameras loop real photos, each
pressing START, up to every count in --streams. Prints the seconds from `streamlit run` to the
page with its START button and to the first processed frame shown in the tab (START pressed as
soon as it shows), the server's RSS idle and at each count, and every stream's processed
frames per second and latency (median and p95, measured in the video callback). Chromium runs
on the same machine and takes its share of the cores, so treat the figures as a lower bound; the
server's own CPU time over each level (from /proc, its whole process tree) divided by the frames its
streams processed meanwhile gives its cost a frame, and so how many 15 fps streams a core of it would
carry, whatever keeps the browsers from sending more.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.browser import (
    WEBRTC_IFRAME,
    chromium_with_camera,
    cpu_seconds,
    open_page,
    rss_mb,
    start_button,
    stream_figures,
    streamlit_server,
)


def start_stream(browser, url: str):
    page = open_page(browser, url)
    start_button(page).click(timeout=60_000)
    return page


def wait_for_returned_video(page, timeout_s: float = 60) -> None:
    """Until the tab shows the first frame that came back from the server (every returned frame was
    processed); faster to notice than the figures, which the page refreshes once a second."""
    video = page.frame_locator(WEBRTC_IFRAME).locator("video")
    deadline = time.monotonic() + timeout_s
    while not (video.count() and video.first.evaluate("v => v.readyState >= 2 && v.videoWidth > 0")):
        if time.monotonic() > deadline:
            raise SystemExit(f"no video came back within {timeout_s:.0f} s")
        page.wait_for_timeout(20)


def wait_for_frames(page, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        fps, _, _ = stream_figures(page)
        if fps:
            return
        page.wait_for_timeout(100)
    raise SystemExit("no processed frame within 60 s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, nargs="+", default=[1, 5, 10])
    parser.add_argument("--seconds", type=float, default=20, help="how long each load level runs before it is read")
    parser.add_argument("--server-cpus", help="pin the server to these CPUs (taskset list), e.g. 0")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp, chromium_with_camera(Path(tmp)) as browser:
        started = time.monotonic()
        with streamlit_server(cpus=args.server_cpus) as server:
            url, server_pid = server.url, server.pid
            ready = time.monotonic() - started
            idle = rss_mb(server_pid)
            pages = [open_page(browser, url)]
            start_button(pages[0]).wait_for(timeout=60_000)
            page_ready = time.monotonic() - started
            start_button(pages[0]).click()
            wait_for_returned_video(pages[0])
            first_frame = time.monotonic() - started
            wait_for_frames(pages[0])
            figures_shown = time.monotonic() - started
            print(
                f"cold start: server healthy after {ready:.1f} s, page with START after {page_ready:.1f} s, "
                f"first processed frame back in the tab after {first_frame:.1f} s (figures shown after {figures_shown:.1f} s)"
            )
            print(f"server RSS idle: {idle:.0f} MB")
            for count in args.streams:
                while len(pages) < count:
                    pages.append(start_stream(browser, url))
                for page in pages:
                    wait_for_frames(page)
                cpu_before, wall_before = cpu_seconds(server_pid), time.monotonic()
                pages[0].wait_for_timeout(args.seconds * 1000)
                cpu, wall = cpu_seconds(server_pid) - cpu_before, time.monotonic() - wall_before
                figures = [stream_figures(page) for page in pages]
                fps = [f[0] or 0 for f in figures]
                p95 = [f[2] or float("nan") for f in figures]
                per_frame = cpu * 1000 / max(sum(fps) * wall, 1)
                print(
                    f"{count:>2} streams: server RSS {rss_mb(server_pid):.0f} MB; processed frames/s per stream "
                    f"min {min(fps):.0f} median {sorted(fps)[len(fps) // 2]:.0f}; worst stream p95 {max(p95):.0f} ms; "
                    f"server CPU {cpu / wall:.0%} of a core, {per_frame:.1f} ms a frame "
                    f"({1000 / per_frame / 15:.1f} streams of 15 fps a core)",
                    flush=True,
                )


if __name__ == "__main__":
    main()
