"""The soak: N streams through the real server for a while, then dropped abruptly; what is left is checked.

Run by bench/soak.py (the full run, with its bounds as options) and by tests/test_soak.py (a short
one in the default suite, the full one marked slow).

After a warm-up cycle of as many streams (so that worker pools have grown), samples the server's
RSS and thread count while the streams run, reads each page for frame errors, then closes every
browser context without pressing STOP (a closed tab) and waits for the server to release the
streams' threads; streamlit-webrtc and aiortc notice a vanished peer only after a while (hence release_s).
"""

from __future__ import annotations

import os
import re
import signal
import statistics
import tempfile
import time
from collections import Counter
from pathlib import Path

from tests.support.browser import chromium_with_camera, open_page, press_start, rss_mb, stream_figures, streamlit_server

# Innermost frames of a pool worker waiting for work: concurrent.futures (asyncio's default
# executor) and anyio (the web server's worker threads, which retire after 10 s idle).
IDLE_POOL_WORKERS = (("thread.py:_worker",), ("threading.py:wait", "queue.py:get", "_asyncio.py:run"))


def thread_count(pid: int) -> int:
    return len(list(Path(f"/proc/{pid}/task").iterdir()))


def process_state(pid: int) -> str:
    """'R (running)', 'Z (zombie)' for a server that died, and so on; 'gone' once it was reaped."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return "gone"
    return next(line.split(":", 1)[1].strip() for line in status.splitlines() if line.startswith("State:"))


def parse_thread_dump(dump: str) -> list[tuple[str, ...]]:
    """Each Python thread's stack in a faulthandler dump, innermost frame first, as 'file.py:function'."""
    stacks = []
    for block in re.split(r"\n(?=(?:Current thread|Thread) 0x)", dump):
        if re.match(r"(Current thread|Thread) 0x", block):
            frames = re.findall(r'File "([^"]+)", line \d+ in (\S+)', block)
            stacks.append(tuple(f"{Path(file).name}:{function}" for file, function in frames))
    return stacks


def is_idle_pool_worker(stack: tuple[str, ...]) -> bool:
    return any(stack[: len(idle)] == idle for idle in IDLE_POOL_WORKERS)


def thread_census(pid: int, log_path: Path) -> tuple[Counter, int]:
    """Busy Python threads by their innermost frames, and how many threads Python does not see (native)."""
    offset = log_path.stat().st_size
    os.kill(pid, signal.SIGUSR1)
    deadline = time.monotonic() + 10
    while b"Current thread" not in log_path.read_bytes()[offset:]:
        assert time.monotonic() < deadline, f"the server wrote no thread dump (process state: {process_state(pid)})"
        time.sleep(0.2)
    time.sleep(0.5)  # let the dump finish
    stacks = parse_thread_dump(log_path.read_bytes()[offset:].decode(errors="replace"))
    busy = Counter(" < ".join(stack[:4]) for stack in stacks if not is_idle_pool_worker(stack))
    return busy, thread_count(pid) - len(stacks)


def sustained_growth(samples: list[float]) -> float:
    """Median RSS of the last sixth of the samples less that of the first sixth.

    RSS under video load swings from one sample to the next, by more than the growth the bound looks for (frames and codec
    buffers come and go, and cyclic garbage waits for the collector), so the highest sample less the
    first measured those swings as much as growth. A leak raises the level, and the medians of the
    two ends of the run follow the level.
    """
    window = max(1, len(samples) // 6)
    return statistics.median(samples[-window:]) - statistics.median(samples[:window])


def per_minute(series: list[tuple[float, float]]) -> list[int]:
    """The median RSS of each minute of (seconds, MB) samples, so a trend can be seen in the printout."""
    minutes: dict[int, list[float]] = {}
    for seconds, rss in series:
        minutes.setdefault(int(seconds // 60), []).append(rss)
    return [round(statistics.median(values)) for _, values in sorted(minutes.items())]


def settled_census(
    pid: int, log_path: Path, busy_with_streams: Counter, within_s: float, polls: int = 3, every_s: float = 3.0
) -> tuple[Counter, int]:
    """The thread census once the dropped streams' threads have gone: fewer busy threads than while the
    streams ran, and the same census for `polls` dumps in a row. After `within_s` seconds, as it is then."""
    started = time.monotonic()
    censuses = [thread_census(pid, log_path)]

    def settled() -> bool:
        recent = censuses[-polls:]
        return len(recent) == polls and all(c == recent[-1] for c in recent) and recent[-1][0].total() < busy_with_streams.total()

    while not settled() and time.monotonic() - started < within_s:
        time.sleep(every_s)
        censuses.append(thread_census(pid, log_path))
    waited = time.monotonic() - started
    print(f"baseline census after {waited:.0f} s" + ("" if settled() else f" (not settled within {within_s:g} s)"), flush=True)
    return censuses[-1]


def open_streams(browser, url: str, count: int) -> list:
    """Streams opened one after another, each once its first frame is processed (as students arrive).

    A start that delivers no frame is retried as a user would (tests.support.browser.press_start); the soak
    measures leaks, and prints how many starts needed it, since those failed starts are a known bug.
    """
    pages = []
    for _ in range(count):
        page = open_page(browser, url)
        restarts = press_start(page, lambda page=page: bool(stream_figures(page)[0]))
        if restarts:
            print(f"a stream needed {restarts} restart(s) before its first frame (the known failed starts)", flush=True)
        pages.append(page)
    return pages


def soak(streams: int, minutes: float, rss_growth_mb: float, release_s: float, server_log: Path | None = None) -> list[str]:
    """Runs the soak and returns the broken bounds (empty when all held); the server's output goes to server_log if given."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory() as tmp, chromium_with_camera(Path(tmp)) as browser:
        log_path = server_log or Path(tmp) / "server.log"
        with streamlit_server(log_path=log_path, thread_dumps=True) as server:
            # Warm-up with as many streams: the server's worker pools grow to their size and stay
            # (idle pool threads are not leaks), so the baseline is taken after one full cycle.
            warm = open_streams(browser, server.url, streams)
            busy_with_streams, _ = thread_census(server.pid, log_path)
            for page in warm:
                page.context.close()
            base_busy, base_native = settled_census(server.pid, log_path, busy_with_streams, release_s)
            base_threads, base_rss = thread_count(server.pid), rss_mb(server.pid)
            pages = open_streams(browser, server.url, streams)
            started = time.monotonic()
            end = started + minutes * 60
            series = [(0.0, rss_mb(server.pid))]
            while time.monotonic() < end:
                pages[0].wait_for_timeout(min(10_000, max(0, (end - time.monotonic()) * 1000)))
                series.append((time.monotonic() - started, rss_mb(server.pid)))
                messages = [page.get_by_text("could not be processed") for page in pages]
                errors = [message.first.inner_text() for message in messages if message.count()]
                if errors:
                    problems.append(f"{len(errors)} stream(s) reported frame errors: {errors[0]}")
                    break
            fps = [stream_figures(page)[0] or 0 for page in pages]
            levels = [rss for _, rss in series]
            growth, peak = sustained_growth(levels), max(levels)
            print(
                f"{streams} streams for {minutes:g} min: RSS {series[0][1]:.0f} MB at the start, peak {peak:.0f} MB, "
                f"sustained growth {growth:.0f} MB ({len(series)} samples); frames/s per stream at the end "
                f"{[round(f) for f in fps]}\nRSS per minute (MB): {per_minute(series)}",
                flush=True,
            )
            if growth > rss_growth_mb:
                problems.append(f"RSS grew by {growth:.0f} MB (bound {rss_growth_mb:g} MB)")
            if min(fps) <= 0:
                problems.append("a stream stopped processing frames")
            threads_during = thread_count(server.pid)
            for page in pages:
                page.context.close()  # abrupt: no STOP, as when a tab is closed
            deadline = time.monotonic() + release_s
            while True:
                busy, native = thread_census(server.pid, log_path)
                leaked = busy - base_busy
                if (not leaked and native <= base_native) or time.monotonic() > deadline:
                    break
                time.sleep(3)
            print(
                f"server threads: {base_threads} before, {threads_during} with the streams, "
                f"{thread_count(server.pid)} after they dropped (idle pool workers included); "
                f"RSS {base_rss:.0f} MB before, {rss_mb(server.pid):.0f} MB after",
                flush=True,
            )
            for stack, count in leaked.items():
                problems.append(f"{count} thread(s) still alive {release_s:g} s after the streams dropped: {stack}")
            if native > base_native:
                problems.append(f"{native - base_native} native thread(s) still alive {release_s:g} s after the streams dropped")
    return problems
