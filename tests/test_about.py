"""The About page says what the app does as it is: run through Streamlit's AppTest, no browser."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from emotion.detection import DETECTORS
from webapp.resources import deployment


@pytest.mark.parametrize("default", ["haar", "yunet"])
def test_about_names_every_face_finder_where_it_is_used(monkeypatch, request, default):
    """Issue #25: About said faces are found with the Haar cascade only."""
    monkeypatch.setenv("EMOTION_DETECTOR", default)
    deployment.clear()  # a server reads its settings once a process: this is a fresh one
    request.addfinalizer(deployment.clear)  # and the next test's too
    page = AppTest.from_string("from webapp.pages.about import about_page\nabout_page()")
    page.run(timeout=60)
    assert not page.exception
    text = " ".join(block.value for block in page.markdown)
    assert f"faces are found by the face finder {DETECTORS[default]} (the server's default)" in text
    assert all(label in text for label in DETECTORS.values())
    assert f"In the browser (*On this device*, and a class room's default path), {DETECTORS['blazeface']} finds them" in text
    assert "found with OpenCV's Haar cascade" not in text
