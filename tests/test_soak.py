"""The soak through the real server and browser: a short run in the default suite, the full run marked slow."""

import faulthandler
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.support.browser import require_browser
from tests.support.soak import is_idle_pool_worker, parse_thread_dump, per_minute, soak, sustained_growth

pytestmark = pytest.mark.browser


def test_short_soak_holds_memory_and_releases_dropped_streams():
    require_browser()
    problems = soak(streams=2, minutes=0.5, rss_growth_mb=80, release_s=60)
    assert problems == []


@pytest.mark.slow
def test_ten_minute_soak_of_five_streams_within_its_bounds():
    """The full soak, as `python bench/soak.py` runs it by default (about 14 minutes): `pytest -m slow`."""
    require_browser()
    assert soak(streams=5, minutes=10, rss_growth_mb=60, release_s=45) == []


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


def test_sustained_growth_follows_the_level_not_single_peaks():
    swinging = [380, 352, 407, 364, 398, 376, 410, 364, 396, 383, 355, 401] * 5  # flat level, 55 MB swings
    assert abs(sustained_growth(swinging)) < 10
    assert abs(sustained_growth([*swinging[:30], 600, *swinging[31:]])) < 10  # one spike is not a leak
    leaking = [rss + 2 * minute for minute, rss in enumerate(swinging)]  # 2 MB per sample
    assert 100 < sustained_growth(leaking) < 140
    assert sustained_growth([300, 320, 310]) == 10  # short runs compare their first and last samples


def test_per_minute_gives_one_median_per_minute():
    series = [(0, 300), (10, 310), (50, 390), (60, 320), (70, 330), (125, 340)]
    assert per_minute(series) == [310, 325, 340]
