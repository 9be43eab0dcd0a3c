"""Soak: N streams through the real server for a while, then dropped abruptly; checks what is left.

    python bench/soak.py --streams 5 --minutes 10        # the full run
    python bench/soak.py --streams 2 --minutes 0.5       # what CI runs (tests/test_soak.py)

After a warm-up cycle of as many streams (so that worker pools have grown), samples the server's
RSS and thread count while the streams run, reads each page for frame errors, then closes every
browser context without pressing STOP (a closed tab) and waits for the server to release the
streams' threads; streamlit-webrtc and aiortc take 20-45 s to notice a vanished peer. Exits
non-zero, saying why, when a bound is broken.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.server_load import CAMERA_PHOTOS, rss_mb, start_stream, stream_figures, wait_for_frames
from tests.browser import CHROMIUM, camera_video, chromium_args, streamlit_server


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def open_streams(browser, url: str, count: int) -> list:
    """Streams opened one after another, each once its first frame is processed (as students arrive)."""
    pages = []
    for _ in range(count):
        pages.append(start_stream(browser, url))
        wait_for_frames(pages[-1])
    return pages


def soak(streams: int, minutes: float, rss_growth_mb: float, release_s: float) -> list[str]:
    """Runs the soak and returns the broken bounds (empty when all held)."""
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as playwright:
        video = camera_video(Path(tmp) / "camera.y4m", CAMERA_PHOTOS)
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args(video))
        with streamlit_server() as server:
            # Warm-up with as many streams: the server's worker pools grow to their size and stay
            # (idle pool threads are not leaks), so the baseline is taken after one full cycle.
            warm = open_streams(browser, server.url, streams)
            for page in warm:
                page.context.close()
            time.sleep(release_s)
            base_threads, base_rss = thread_count(server.pid), rss_mb(server.pid)
            pages = open_streams(browser, server.url, streams)
            first_rss, end = rss_mb(server.pid), time.monotonic() + minutes * 60
            peak_rss, samples = first_rss, 0
            while time.monotonic() < end:
                pages[0].wait_for_timeout(min(10_000, max(0, (end - time.monotonic()) * 1000)))
                peak_rss, samples = max(peak_rss, rss_mb(server.pid)), samples + 1
                errors = sum(page.get_by_text("could not be processed").count() for page in pages)
                if errors:
                    problems.append(f"{errors} stream(s) reported frame errors")
                    break
            fps = [stream_figures(page)[0] or 0 for page in pages]
            print(
                f"{streams} streams for {minutes:g} min: RSS at start {first_rss:.0f} MB, peak {peak_rss:.0f} MB "
                f"({samples} samples); frames/s per stream at the end {[round(f) for f in fps]}",
                flush=True,
            )
            if peak_rss - first_rss > rss_growth_mb:
                problems.append(f"RSS grew by {peak_rss - first_rss:.0f} MB (bound {rss_growth_mb:g} MB)")
            if min(fps) <= 0:
                problems.append("a stream stopped processing frames")
            threads_during = thread_count(server.pid)
            for page in pages:
                page.context.close()  # abrupt: no STOP, as when a tab is closed
            deadline = time.monotonic() + release_s
            while thread_count(server.pid) > base_threads and time.monotonic() < deadline:
                time.sleep(1)
            after = thread_count(server.pid)
            print(
                f"server threads: {base_threads} before, {threads_during} with the streams, {after} after they dropped; "
                f"RSS {base_rss:.0f} MB before, {rss_mb(server.pid):.0f} MB after",
                flush=True,
            )
            if after > base_threads:
                problems.append(f"{after - base_threads} thread(s) still alive {release_s:g} s after the streams dropped")
        browser.close()
    return problems


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rss-growth-mb", type=float, default=60, help="allowed growth of RSS while the streams run")
    parser.add_argument("--release-seconds", type=float, default=45, help="time allowed to release dropped streams")
    args = parser.parse_args()
    problems = soak(args.streams, args.minutes, args.rss_growth_mb, args.release_seconds)
    for problem in problems:
        print(f"FAILED: {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
