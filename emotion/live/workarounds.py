"""Every place where the app reaches into a library's private API, each with the contract it relies on.

Each workaround is pinned by a test that fails when the library stops behaving as written here:
tests/test_stream.py for the run count, tests/test_relay.py for the relay. When such a test fails,
the library changed; read its release notes, then mend or drop the workaround.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import MutableMapping
from typing import Any

import streamlit as st
import streamlit_webrtc.relay
from streamlit.navigation.page import StreamlitPage
from streamlit.runtime import Runtime

from emotion.live.relay import LatestFrameRelay

LOGGER = logging.getLogger(__name__)

# --- streamlit-webrtc's orphan check and Streamlit's run count -------------------------------------
#
# Contract (streamlit-webrtc 0.79, streamlit_webrtc.component): a context object lives in
# st.session_state under the component's key and keeps `_last_rendered_run_count`, the session's
# `script_run_count` when the component was last drawn. When a later run sees that count jump by more
# than one, the library takes it for a run without the component (the user left the page) and stops
# the context's worker. Setting the attribute to None skips that check once.

COMPLETED_RUNS = "completed_script_runs"


def count_completed_run() -> None:
    """Count one full script run of this session (run_counting_completed_runs calls it after the page)."""
    st.session_state[COMPLETED_RUNS] = st.session_state.get(COMPLETED_RUNS, 0) + 1


def run_counting_completed_runs(page: StreamlitPage) -> None:
    """Run the page, then count the run, which keep_rendered_context reads.

    app.py runs every page through this; a run that a rerun cuts short raises out of page.run()
    and is not counted, which is the point.
    """
    page.run()
    count_completed_run()


def keep_rendered_context(session_state: MutableMapping, key: str) -> None:
    """Keep streamlit-webrtc from resetting the context of a component that the last run did render.

    Streamlit advances the session's run count on the event loop when it sends a run's end, so a
    rerun that starts before then reads a stale count, and the next run seems to have skipped one.
    During signalling the reruns come back to back, and now and then a start connected and was
    dropped seconds later. This app counts its completed runs itself, on the
    script thread; when none went by since the component was last rendered, it clears the library's
    record, which skips the check once. Leaving the page and coming back still resets the context.
    """
    completed = session_state.get(COMPLETED_RUNS, 0)
    rendered_after = session_state.get(f"{key}_rendered_after")
    context = session_state.get(key)
    if context is not None and rendered_after is not None and rendered_after >= completed - 1:
        context._last_rendered_run_count = None
    session_state[f"{key}_rendered_after"] = completed


# --- streamlit-webrtc's server relay -----------------------------------------------------------------
#
# Contract (streamlit-webrtc 0.79, streamlit_webrtc.relay): the library keeps one aiortc MediaRelay per
# server, on Streamlit's Runtime singleton under the attribute named by
# streamlit_webrtc.relay._SERVER_GLOBAL_RELAY_ATTR_NAME_, creates it on first use, and subscribes every
# stream's tracks through it. A relay set there before a stream starts is the one that stream uses.

_install_lock = threading.Lock()


def use_latest_frame_relay(runtime: Any | None = None) -> bool:
    """Make streamlit-webrtc relay this server's tracks through a LatestFrameRelay; False where it cannot.

    Call before each webrtc_streamer; streams already running keep the relay they started with.
    """
    attribute = getattr(streamlit_webrtc.relay, "_SERVER_GLOBAL_RELAY_ATTR_NAME_", None)
    if attribute is None:
        LOGGER.warning("streamlit-webrtc no longer names its relay; video may lag on a busy server")
        return False
    runtime = runtime if runtime is not None else Runtime.instance()
    with _install_lock:
        if not isinstance(getattr(runtime, attribute, None), LatestFrameRelay):
            setattr(runtime, attribute, LatestFrameRelay())
    return True
