"""A short soak through the real server and browser (the full 10-minute run is bench/soak.py)."""

import faulthandler
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from bench.soak import is_idle_pool_worker, parse_thread_dump, soak

from .browser import require_browser

pytestmark = pytest.mark.browser


def test_short_soak_holds_memory_and_releases_dropped_streams():
    require_browser()
    problems = soak(streams=2, minutes=0.5, rss_growth_mb=80, release_s=60)
    assert problems == []


def test_thread_dump_tells_idle_pool_workers_from_busy_threads(tmp_path):
    """The soak's leak check on a real faulthandler dump of this process."""
    release = threading.Event()
    waiter = threading.Thread(target=release.wait, name="busy-waiter")
    waiter.start()
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: None).result()  # the worker now waits idle for work
        dump_path = tmp_path / "dump.txt"
        with dump_path.open("w") as dump:
            faulthandler.dump_traceback(dump, all_threads=True)
        alive = threading.active_count()
        stacks = parse_thread_dump(dump_path.read_text())
        release.set()
        waiter.join()
    assert len(stacks) == alive
    idle = [stack for stack in stacks if is_idle_pool_worker(stack)]
    assert len(idle) == 1
    assert any("test_soak.py:test_thread_dump_tells_idle_pool_workers_from_busy_threads" in stack for stack in stacks)
    assert any(stack[:2] == ("threading.py:wait", "threading.py:wait") for stack in stacks)  # Event.wait
