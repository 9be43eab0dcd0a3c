"""A phone works (issue #25, part 5): at 390 x 844 with a portrait camera (480 x 640) every page fits the
screen's width, the on-device camera and its labels fit, and a student joins a class by touch alone.

Real server, real chromium emulating a phone (is_mobile, has_touch; every action is a tap). Streamlit scrolls
in its main block, not the document, so both are checked. The screenshots go to test-artifacts/phone-*.png.
"""

from __future__ import annotations

import re

import pytest

from tests.support.browser import ARTIFACTS, chromium_with_camera, metric_value, require_browser, streamlit_server
from tests.support.files import TEST_DATA

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_obama.jpg", "facerec_biden.jpg")
PHONE = {"width": 390, "height": 844}
PORTRAIT_CAMERA = (480, 640)  # width, height: a phone held upright
DEVICE_CAMERA = 'canvas[aria-label^="Your camera, with the faces"]'
# What sticks out to the right: the document's and Streamlit's main block's scroll widths, and every visible
# element past the screen's right edge. A data grid scrolls inside itself by design (its cells are skipped).
SIDEWAYS = """() => {
  const main = document.querySelector('[data-testid="stMain"]');
  const past = [...document.querySelectorAll('[data-testid="stMain"] *')]
    .filter((e) => !e.closest('[data-testid="stDataFrame"] .dvn-scroller'))
    .filter((e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && r.right > innerWidth + 1; })
    .map((e) => `${e.tagName} ${e.getAttribute('data-testid') || ''} ${e.textContent.slice(0, 30)}`);
  return { inner: innerWidth, document: document.scrollingElement.scrollWidth,
           main: main ? main.scrollWidth - main.clientWidth : null, past: past.slice(0, 5) };
}"""


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    """Chromium whose fake camera is a phone's, held upright: 480 x 640 frames of the committed photos."""
    require_browser()
    with chromium_with_camera(tmp_path_factory.mktemp("camera"), CAMERA_PHOTOS, size=PORTRAIT_CAMERA) as chromium:
        yield chromium


@pytest.fixture(scope="module")
def server():
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit-phone.log") as running:
        yield running.url


def phone(browser):
    context = browser.new_context(permissions=["camera"], viewport=PHONE, is_mobile=True, has_touch=True)
    return context.new_page()


def fits(page, name: str) -> None:
    """Nothing on the page needs sideways scrolling; a screenshot of the whole page is saved as phone-<name>.png."""
    measured = page.evaluate(SIDEWAYS)
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]')?.scrollHeight ?? innerHeight")
    page.set_viewport_size({"width": PHONE["width"], "height": min(max(height, PHONE["height"]), 4000)})
    page.wait_for_timeout(300)
    page.screenshot(path=str(ARTIFACTS / f"phone-{name}.png"))
    page.set_viewport_size(PHONE)
    assert measured["inner"] == PHONE["width"], measured
    assert measured["document"] <= measured["inner"] and measured["main"] <= 0, f"{name} scrolls sideways: {measured}"
    assert measured["past"] == [], f"{name}: cut off at the right edge: {measured}"


def camera_fits(page) -> None:
    """The on-device camera shows whole frames within its column and the screen; its labels are drawn inside it."""
    canvas = page.locator(DEVICE_CAMERA)
    shown = canvas.evaluate(
        """(c) => { const r = c.getBoundingClientRect(), p = c.parentElement.getBoundingClientRect();
                    return {left: r.left, right: r.right, column: p.right, width: c.width, height: c.height,
                            shownHeight: r.height, shownWidth: r.width}; }"""
    )
    assert shown["left"] >= 0 and shown["right"] <= min(shown["column"], PHONE["width"]) + 0.5, shown
    assert shown["height"] >= shown["width"] > 0, f"the portrait camera is shown as landscape: {shown}"
    ratio = shown["shownHeight"] / shown["shownWidth"]
    assert abs(ratio - shown["height"] / shown["width"]) < 0.02, f"the frame is stretched: {shown}"


def test_live_photo_and_about_fit_a_phone_and_the_device_camera_labels_a_face(server, browser):
    page = phone(browser)
    page.goto(server)
    page.get_by_role("radio", name=re.compile("^On this device")).tap()
    for _ in range(160):  # up to 40 s: the models load in the browser, then a face is labelled
        if (metric_value(page, "Faces in view") or 0) >= 1:
            break
        page.wait_for_timeout(250)
    assert metric_value(page, "Faces in view") == 1
    camera_fits(page)
    fits(page, "live-device")

    page.goto(f"{server}/photo")
    page.locator('input[type="file"]').first.set_input_files(str(TEST_DATA / "facerec_two_people.jpg"))
    page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)
    fits(page, "photo")
    page.goto(f"{server}/about")
    page.get_by_role("heading", name="Privacy").wait_for(timeout=30_000)
    fits(page, "about")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def test_a_student_joins_by_touch_and_the_teacher_follows_on_a_phone(server, browser):
    teacher = phone(browser)
    teacher.goto(f"{server}/teach")
    teacher.get_by_role("textbox", name="Class name").tap()
    teacher.keyboard.type("Biology")
    teacher.get_by_role("button", name="Create a class room").tap()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"), timeout=30_000)
    code = re.search(r"room=([A-Z0-9]{6})", teacher.url).group(1)

    student = phone(browser)
    student.goto(f"{server}/join")
    student.get_by_role("textbox", name="Class code").tap()
    student.keyboard.type(code)
    student.keyboard.press("Enter")
    student.get_by_role("textbox", name="Display name (optional)").tap()
    student.keyboard.type("Ada")
    student.keyboard.press("Enter")
    fits(student, "join-consent")
    student.get_by_text(re.compile("^I agree")).tap()
    student.get_by_role("button", name="Join the class").tap()
    student.get_by_text("Your camera: 1 face(s) in view").wait_for(timeout=60_000)
    camera_fits(student)
    fits(student, "join-sharing")
    student.get_by_role("button", name="Pause sharing").tap()
    student.get_by_text("Sharing is paused").wait_for(timeout=20_000)
    student.get_by_role("button", name="Resume sharing").tap()
    student.get_by_text("Your camera: 1 face(s) in view").wait_for(timeout=60_000)

    teacher.locator('[data-testid="stTable"]', has_text="Ada").wait_for(timeout=30_000)
    teacher.get_by_text("Over the lecture").wait_for(timeout=30_000)
    teacher.locator('[data-testid="stVegaLiteChart"]').last.wait_for(timeout=30_000)
    fits(teacher, "teacher")
    for page in (teacher, student):
        assert page.locator('[data-testid="stException"]').count() == 0
        page.context.close()
