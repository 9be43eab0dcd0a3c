"""End to end: the real Streamlit server, Debian's chromium headless, a fake camera fed from real photos."""

from __future__ import annotations

import base64
import re

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
from tests.support.files import BUNDLED_TFLITE, TEST_DATA, photo_file, read_photo, write_large_png

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_two_people.jpg", "facerec_biden.jpg", "facerec_obama.jpg")
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
    page.locator('input[type="file"]').first.set_input_files(str(TEST_DATA / "facerec_two_people.jpg"))
    page.get_by_text("2 face(s) found").wait_for(timeout=30_000)
    page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)
    page.screenshot(path=str(ARTIFACTS / "photo.png"), full_page=True)

    fake = tmp_path / "holiday.jpg"
    fake.write_bytes(b"%PDF-1.4 not a photo at all")
    page.locator('input[type="file"]').first.set_input_files(str(fake))
    page.get_by_text("not an image this app can read").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def test_the_face_finder_chosen_in_the_sidebar_is_used(server, browser, tmp_path):
    """one_turned.png: 3 faces; the cascade misses the turned one, YuNet finds it."""
    context = browser.new_context(viewport={"width": 1280, "height": 1200})
    page = context.new_page()
    page.goto(f"{server}/photo")
    page.locator('input[type="file"]').first.set_input_files(str(photo_file("one_turned.png", tmp_path)))
    page.get_by_text("2 face(s) found").wait_for(timeout=30_000)
    page.get_by_role("combobox", name="Face finder").click()
    page.get_by_role("option", name="YuNet").click()
    page.get_by_text("3 face(s) found").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    context.close()


def open_photo_page(server: str, browser, width: int = 1280):
    context = browser.new_context(permissions=["camera"], viewport={"width": width, "height": 1200})
    page = context.new_page()
    page.goto(f"{server}/photo")
    return page


def upload(page, path) -> None:
    page.get_by_role("tab", name="Upload a photo").click()
    page.locator('input[type="file"]').first.set_input_files(str(path))


def test_the_photo_page_shows_its_progress_while_a_large_photo_is_read(server, browser, tmp_path):
    """Finding 9: a 12000x9000 PNG kept the page blank for seconds; now it says what it is doing."""
    page = open_photo_page(server, browser)
    upload(page, write_large_png(tmp_path / "large.png"))
    page.get_by_text("Reading the photo").wait_for(timeout=60_000)
    page.get_by_text(re.compile(r"Read and analysed in [\d.]+ s")).wait_for(timeout=60_000)
    page.get_by_text("Uploaded photo: 0 face(s) found").wait_for(timeout=10_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def test_the_newest_photo_wins_whether_uploaded_or_snapped(server, browser, tmp_path):
    """Finding 10 (1): a snapshot taken while an upload was present was ignored."""
    page = open_photo_page(server, browser)
    upload(page, photo_file("one_turned.png", tmp_path))
    page.get_by_text("Uploaded photo: 2 face(s) found").wait_for(timeout=30_000)
    page.get_by_role("tab", name="Take a snapshot").click()
    page.get_by_role("button", name="Take Photo").click(timeout=30_000)
    page.get_by_text(re.compile(r"Snapshot: \d+ face\(s\) found")).wait_for(timeout=30_000)
    assert page.get_by_text("Uploaded photo:").count() == 0
    upload(page, photo_file("group_of_three.png", tmp_path))  # a new upload wins over the snapshot in turn
    page.get_by_text("Uploaded photo: 3 face(s) found").wait_for(timeout=30_000)
    assert page.locator('[data-testid="stException"]').count() == 0
    page.context.close()


def page_image(page) -> np.ndarray:
    """The annotated photo as the page shows it (st.image sends it as a JPEG)."""
    image = page.locator('[data-testid="stImage"] img').first
    source = image.get_attribute("src")
    response = page.context.request.get(source if source.startswith("http") else page.url.split("/photo")[0] + source)
    return cv2.imdecode(np.frombuffer(response.body(), np.uint8), cv2.IMREAD_COLOR)


def table_column(page, column: int, rows: int) -> list[str]:
    """The text of a column of the page's dataframe (glide's cells for screen readers; column 0 is the index)."""
    cells = page.locator('[data-testid="stDataFrame"]')
    return [cells.locator(f'[data-testid="glide-cell-{column}-{row}"]').first.inner_text() for row in range(rows)]


def test_photo_faces_are_numbered_on_the_image_as_in_the_table(server, browser, models, tmp_path):
    """Finding 10 (2): faces in the table could not be matched to the image."""
    from emotion import presets
    from emotion.images import read_image
    from emotion.pipeline import analyze_frame

    photo = photo_file("one_turned.png", tmp_path)
    page = open_photo_page(server, browser)
    upload(page, photo)
    page.get_by_text("Uploaded photo: 2 face(s) found").wait_for(timeout=30_000)
    page.locator('[data-testid="stDataFrame"]').wait_for(timeout=30_000)
    assert table_column(page, 0, 2) == ["1", "2"]
    shown = page_image(page)
    frame = read_image(photo.read_bytes())
    numbered = analyze_frame(frame, models, presets.photo()).image
    plain = analyze_frame(frame, models, presets.photo(number_faces=False)).image
    numbers = np.any(numbered != plain, axis=2)  # the number bands
    assert numbers.sum() > 200, "the numbered drawing differs nowhere from the plain one"
    error = np.abs(shown.astype(int) - numbered.astype(int)).max(axis=2)[numbers].mean()
    without = np.abs(shown.astype(int) - plain.astype(int)).max(axis=2)[numbers].mean()
    assert error < 20 < without, f"the page's image is not the numbered one ({error:.0f} against {without:.0f})"
    page.context.close()


def test_the_face_table_fits_its_column_at_1400_px(server, browser, tmp_path):
    """Finding 10 (3): the table's last columns were cut off at 1400 px wide."""
    page = open_photo_page(server, browser, width=1400)
    upload(page, photo_file("one_turned.png", tmp_path))
    table = page.locator('[data-testid="stDataFrame"]')
    table.wait_for(timeout=30_000)
    table.locator('[data-testid="glide-cell-1-0"]').first.wait_for(state="attached", timeout=10_000)
    sizes = table.evaluate(
        """table => {
          const grid = table.querySelector('.dvn-scroller');
          const box = table.getBoundingClientRect(), column = table.parentElement.getBoundingClientRect();
          return {content: grid.scrollWidth, shown: grid.clientWidth, right: box.right, columnRight: column.right};
        }"""
    )
    assert sizes["right"] <= sizes["columnRight"] + 1, sizes
    assert sizes["content"] <= sizes["shown"] + 1, f"the table is wider than its place: {sizes}"
    page.context.close()


def test_no_deploy_button_or_developer_menu_for_users(server, browser):
    """Finding 11 (1): Streamlit's Deploy button and developer options were shown to every user."""
    page = open_photo_page(server, browser)
    page.locator('[data-testid="stMainMenu"]').wait_for(timeout=30_000)
    assert page.get_by_role("button", name="Deploy").count() == 0
    assert page.locator('[data-testid="stAppDeployButton"]').count() == 0
    page.locator('[data-testid="stMainMenu"]').click()
    page.locator('[data-testid="stMainMenuList"]').wait_for(timeout=10_000)
    assert page.get_by_text("Clear cache").count() == 0 and page.get_by_text("Rerun").count() == 0
    page.context.close()


def test_the_privacy_note_says_what_class_rooms_keep_and_until_when(server, browser):
    """Finding 11 (2): the privacy note left out what class rooms keep; #24: by room kind, and until when."""
    from webapp.widgets import PRIVACY_NOTE

    page = browser.new_context(viewport={"width": 1280, "height": 1200}).new_page()
    page.goto(f"{server}/about")
    privacy = page.locator('[data-testid="stVerticalBlock"]', has=page.get_by_role("heading", name="Privacy")).last
    for said in ("never under their name", "under their name", "at the latest when the room expires"):
        privacy.get_by_text(re.compile(said)).first.wait_for(timeout=30_000)
    assert "until the teacher ends the class or the room expires" in PRIVACY_NOTE  # the Live and Photo pages say it too
    page.context.close()


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
