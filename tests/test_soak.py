"""A short soak through the real server and browser (the full 10-minute run is bench/soak.py)."""

import pytest

from bench.soak import soak

from .browser import require_browser

pytestmark = pytest.mark.browser


def test_short_soak_holds_memory_and_releases_dropped_streams():
    require_browser()
    problems = soak(streams=2, minutes=0.5, rss_growth_mb=80, release_s=60)
    assert problems == []
