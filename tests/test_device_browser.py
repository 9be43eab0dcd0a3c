"""The Live page's "On this device": the browser reads faces itself; no video leaves it (real server, real chromium)."""

from __future__ import annotations

import re

import pytest

from tests.support.browser import ARTIFACTS, metric_text, metric_value, streamlit_server

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_obama.jpg", "facerec_biden.jpg")

COUNT_PEER_CONNECTIONS = """
window.__peerConnections = 0;
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { window.__peerConnections += 1; return new Original(...args); };
"""
REFUSE_CAMERA = """
navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('Permission denied', 'NotAllowedError'));
"""


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit-device.log") as running:
        yield running.url


def on_this_device(browser, url: str, init_script: str):
    context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 1000})
    context.add_init_script(init_script)
    page = context.new_page()
    page.goto(url)
    page.get_by_text("On this device").click()
    return page


def test_the_device_reads_faces_and_opens_no_peer_connection(server, browser):
    page = on_this_device(browser, server, COUNT_PEER_CONNECTIONS)
    for _ in range(240):
        if (metric_value(page, "Faces in view") or 0) >= 1:
            break
        page.wait_for_timeout(250)
    page.screenshot(path=str(ARTIFACTS / "device.png"), full_page=True)
    assert metric_value(page, "Faces in view") == 1
    for _ in range(80):  # the first report may come from the first frame read, before there is a rate to give
        if re.fullmatch(r"\d+", metric_text(page, "Frames / s")):
            break
        page.wait_for_timeout(250)
    assert re.fullmatch(r"\d+", metric_text(page, "Frames / s"))
    assert sum(frame.evaluate("window.__peerConnections || 0") for frame in page.frames) == 0  # the video never left the page
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def test_a_refused_camera_is_explained_and_the_server_path_offered(server, browser):
    page = on_this_device(browser, server, REFUSE_CAMERA)
    page.get_by_text("read faces on the server instead").wait_for(timeout=60_000)  # the page's advice, in plain words
    assert page.get_by_text("The camera was refused").count() >= 1
    page.context.close()


def test_a_runtime_that_cannot_load_is_explained_and_the_server_path_offered(server, browser):
    context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 1000})
    context.route("**/litert/wasm/**", lambda route: route.fulfill(status=404, body="gone"))
    page = context.new_page()
    page.goto(server)
    page.get_by_text("On this device").click()
    page.get_by_text("The on-device models could not be loaded").first.wait_for(timeout=60_000)
    page.get_by_text("read faces on the server instead").wait_for(timeout=30_000)
    context.close()


def test_a_device_too_slow_to_follow_faces_is_told_so(server, browser):
    page = on_this_device(browser, server, "")
    page.get_by_text(re.compile(r"\d+ face\(s\) in view|Faces in view")).first.wait_for(timeout=90_000)
    cdp = page.context.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 50})  # a device far slower than this machine
    page.get_by_text("too few to follow faces").first.wait_for(timeout=90_000)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 1})
    page.get_by_text("read faces on the server instead").wait_for(timeout=60_000)
    page.context.close()


HANG_FIRST_CAMERA = """
const openCamera = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
window.__cameraRequests = 0;
navigator.mediaDevices.getUserMedia = (constraints) => {
  window.__cameraRequests += 1;
  return window.__cameraRequests === 1 ? new Promise(() => {}) : openCamera(constraints);
};
"""


def test_a_camera_that_hangs_is_asked_for_again(server, browser):
    """A camera request that never answers (seen after Pause and Resume) does not leave the page waiting for good."""
    page = on_this_device(browser, server, HANG_FIRST_CAMERA)
    for _ in range(240):  # the first request never answers: a face can only come from a second one
        if (metric_value(page, "Faces in view") or 0) >= 1:
            break
        page.wait_for_timeout(250)
    assert metric_value(page, "Faces in view") == 1
    assert page.evaluate("window.__cameraRequests") == 2
    page.context.close()
