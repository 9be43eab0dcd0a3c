"""Past a blocked network (issue #25, part 4): where WebRTC cannot connect, the server path says so plainly and
switches to "On this device" in one click, on the Live page and in a class room. Real server, real chromium.

The block: every RTCPeerConnection the page makes may use relayed routes only, and there is no TURN server,
so no route exists at all, as behind a firewall that drops UDP on a host without TURN (Streamlit Community
Cloud, many schools). The browser keeps trying and never says it failed, which is the case the page must notice.
(Chromium's --force-webrtc-ip-handling-policy=disable_non_proxied_udp was tried: it still connected over loopback.)
"""

from __future__ import annotations

import time

import pytest

from emotion.classroom.redis_store import RedisStore
from emotion.live.component import CONNECT_MESSAGE, SWITCH_LABEL
from tests.support.browser import ARTIFACTS, WEBRTC_IFRAME, metric_value, start_button, streamlit_server

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_obama.jpg", "facerec_biden.jpg")
BLOCK_WEBRTC = """
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = function (config, ...rest) {
  return new Original({ ...(config || {}), iceServers: [], iceTransportPolicy: 'relay' }, ...rest);
};
window.RTCPeerConnection.prototype = Original.prototype;
"""
DEVICE_CAMERA = 'canvas[aria-label^="Your camera, with the faces"]'
SAID = CONNECT_MESSAGE.split(":")[0]  # "Your video cannot reach the server"


@pytest.fixture(scope="module")
def server(redis_process):
    """One server on a real Redis, so the test can make a room and read what the room heard."""
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server({"REDIS_URL": redis_process.url}, log_path=ARTIFACTS / "streamlit-blocked.log") as running:
        yield running.url, RedisStore(redis_process.url)


def blocked_page(browser, url: str):
    context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 1000})
    context.add_init_script(BLOCK_WEBRTC)
    page = context.new_page()
    page.goto(url)
    return page


def told_and_switched(page, name: str) -> float:
    """Wait for the plain advice, take the one click, and return the seconds from START to the advice."""
    pressed = time.monotonic()
    page.get_by_text(SAID).first.wait_for(timeout=30_000)
    told = time.monotonic() - pressed
    page.screenshot(path=str(ARTIFACTS / f"blocked-{name}.png"), full_page=True)
    page.get_by_role("button", name=SWITCH_LABEL).click()
    return told


def faces_on_the_device(page, control: str) -> None:
    """The path control shows "On this device" and the on-device camera runs in place of the video component."""
    page.locator(DEVICE_CAMERA).wait_for(timeout=30_000)
    chosen = page.get_by_role("radiogroup", name=control).get_by_role("radio", checked=True)
    assert chosen.inner_text().startswith("On this device"), chosen.inner_text()
    assert page.locator(WEBRTC_IFRAME).count() == 0  # the server path's component is gone
    page.get_by_text(SAID).first.wait_for(state="detached", timeout=10_000)


def test_the_live_page_says_webrtc_is_blocked_and_one_click_reads_faces_on_this_device(server, browser):
    url, _ = server
    page = blocked_page(browser, url)
    start_button(page).click(timeout=60_000)
    told = told_and_switched(page, "live")
    print(f"START to the advice: {told:.1f} s")
    faces_on_the_device(page, "Where faces are read")
    for _ in range(160):  # up to 40 s: the models load in the browser, then a face is labelled
        if (metric_value(page, "Faces in view") or 0) >= 1:
            break
        page.wait_for_timeout(250)
    assert metric_value(page, "Faces in view") == 1
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def test_a_student_on_the_server_path_is_told_and_one_click_shares_from_the_device(server, browser):
    url, store = server
    room = store.create_room("Physics, week 2", 3600, time.time())
    page = blocked_page(browser, f"{url}/join?room={room.code}")
    page.get_by_role("textbox", name="Display name (optional)").fill("Ola")
    page.get_by_text("I agree").click()
    page.get_by_role("button", name="Join the class").click()
    page.get_by_text("you are Ola").wait_for(timeout=30_000)
    page.get_by_text("On the server", exact=True).click()
    start_button(page).click(timeout=60_000)
    print(f"START to the advice: {told_and_switched(page, 'class'):.1f} s")
    faces_on_the_device(page, "Where your faces are read")
    page.get_by_text("Your camera: 1 face(s) in view. Sharing emotion figures").wait_for(timeout=40_000)
    student = next(s for s in store.data(room.code, time.time()).students if s.name == "Ola")
    assert student.path == "device", student  # the room heard of the switch, as from the path control
    for _ in range(40):
        student = next(s for s in store.data(room.code, time.time()).students if s.name == "Ola")
        if student.figures_at is not None:
            break
        time.sleep(0.25)
    assert student.figures_at is not None, student  # figures from the device reach the room (a class-only room: no faces by name)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()
