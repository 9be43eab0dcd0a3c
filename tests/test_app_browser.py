"""End to end: the real Streamlit server, Debian's chromium headless, a fake camera fed from real photos."""

from __future__ import annotations

import base64

import cv2
import numpy as np
import pytest

from tests.support.browser import (
    ARTIFACTS,
    WEBRTC_IFRAME,
    drawn_pixels,
    letterbox,
    metric_value,
    require_browser,
    start_button,
    streamlit_server,
)
from tests.support.files import BUNDLED_TFLITE, FACES, read_photo

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_two_people.jpg", "dlib_Tom_Cruise_avp_2014_4.jpg", "facerec_obama.jpg")
GRAB_VIDEO_FRAME = """() => {
  const v = document.querySelector('video');
  if (!v || v.readyState < 2 || !v.videoWidth || !(v.currentTime > 0)) return null;
  const c = document.createElement('canvas');
  c.width = v.videoWidth; c.height = v.videoHeight;
  c.getContext('2d').drawImage(v, 0, 0);
  return c.toDataURL('image/png');
}"""


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit.log") as running:
        yield running.url


def decode_png_data_url(url: str) -> np.ndarray:
    data = base64.b64decode(url.split(",", 1)[1])
    return cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)


def test_live_video_comes_back_with_labelled_faces(server, browser):
    context = browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(server)
    start_button(page).click(timeout=60_000)

    sources = [letterbox(read_photo(name)) for name in CAMERA_PHOTOS]
    drawn, faces, frame = 0, None, None
    for _ in range(120):  # up to 30 s
        page.wait_for_timeout(250)
        faces = metric_value(page, "Faces in view")
        data_url = page.locator(WEBRTC_IFRAME).element_handle().content_frame().evaluate(GRAB_VIDEO_FRAME)
        if data_url:
            frame = decode_png_data_url(data_url)
            drawn = drawn_pixels(frame, sources)
        if faces and drawn > 400:
            break
    chart = page.locator('[data-testid="stVegaLiteChart"]', has=page.locator("canvas, svg"))
    chart.first.wait_for(timeout=10_000)  # the live emotion mix beside the video
    page.screenshot(path=str(ARTIFACTS / "live.png"))
    assert frame is not None, "the returned video never played"
    cv2.imwrite(str(ARTIFACTS / "live_frame.png"), frame)
    assert faces and faces >= 1, "the server reported no processed face"
    assert drawn > 400, f"no drawn boxes or labels in the returned video (only {drawn} pixels differ from the camera)"
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def test_photo_upload_shows_the_annotated_image_and_a_table(server, browser, tmp_path):
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    page.goto(f"{server}/photo")
    page.locator('input[type="file"]').first.set_input_files(str(FACES / "facerec_two_people.jpg"))
    page.get_by_text("2 face(s) found").wait_for(timeout=30_000)
    page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "photo.png"), full_page=True)

    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"%PDF-1.4 not a photo at all")
    page.locator('input[type="file"]').first.set_input_files(str(fake))
    page.get_by_text("not an image this app can read").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def test_the_face_finder_chosen_in_the_sidebar_is_used(server, browser):
    """dlib_2008_001322.jpg: 3 visible faces; the cascade misses the man on the right, YuNet finds him."""
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    page.goto(f"{server}/photo")
    page.locator('input[type="file"]').first.set_input_files(str(FACES / "dlib_2008_001322.jpg"))
    page.get_by_text("2 face(s) found").wait_for(timeout=30_000)
    page.get_by_role("combobox", name="Face finder").click()
    page.get_by_role("option", name="YuNet").click()
    page.get_by_text("3 face(s) found").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


@pytest.mark.parametrize("model", ["missing", "truncated"])
def test_a_bad_model_file_is_explained_on_the_page(browser, tmp_path, model):
    path = tmp_path / "emotion_cnn.tflite"
    if model == "truncated":
        path.write_bytes(BUNDLED_TFLITE.read_bytes()[:4096])
    with streamlit_server({"EMOTION_MODEL": str(path)}) as server:
        page = browser.new_context().new_page()
        page.goto(server.url)
        page.get_by_text("The emotion model could not be loaded").wait_for(timeout=30_000)
        assert page.get_by_text("python -m emotion.training.train").count() == 1
        assert page.locator('[data-testid="stException"]').count() == 0
        page.context.close()
