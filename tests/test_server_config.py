"""The deployed server's settings that the load figures rest on (.streamlit/config.toml; bench/README.md)."""

from __future__ import annotations

import tomllib
from pathlib import Path

CONFIG = tomllib.loads((Path(__file__).resolve().parent.parent / ".streamlit" / "config.toml").read_text())


def test_the_server_watches_no_source_file():
    """Watching, each session resolved every loaded module's path on the event loop after each run: with
    200 students joining at once, the loop answered no ping for 20 s and every student was dropped."""
    assert CONFIG["server"]["fileWatcherType"] == "none"


def test_no_full_garbage_collection_after_every_run():
    """A full collection after each of the live figures' runs held the GIL about 120 ms at a time."""
    assert CONFIG["runner"]["postScriptGC"] is False
