"""The on-device path in every engine a student brings: chromium, Firefox (Gecko) and WebKit.

Each engine runs the browser's pipeline (static/ondevice/) against the Python one, the Live page's
"On this device", and a student joining a class room on the device path; the real server, the real
models, a camera showing a committed photo (tests/support/engines.py says how each engine is driven).
The teacher's page is chromium's in every case: what is tested is the student's engine.
"""

from __future__ import annotations

import base64
import re
import urllib.parse

import numpy as np
import pytest

from emotion import PipelineSettings, analyze_frame
from emotion.classifier import EmotionClassifier
from emotion.drawing import EMOTION_COLOURS
from emotion.ondevice import browser_settings
from emotion.pipeline import crop_faces
from emotion.preprocess import to_gray
from tests.support.browser import ARTIFACTS, streamlit_server
from tests.support.engines import ENGINES, EnginePage, require_engines, running_engine, text_finder
from tests.support.files import BUNDLED_TFLITE, read_photo
from tests.support.ondevice import CLASSIFY_CROPS, PHOTO, SETUP, rgba

pytestmark = pytest.mark.engines
DETECTOR_PHOTOS = ("facerec_obama.jpg", "facerec_two_people.jpg", "group_of_three.png", "group_of_six.png", "no_face.png")
CAMERA_PHOTO = "facerec_obama.jpg"
# The test's data reaches a page as base64 in a script's argument (no engine but chromium can route requests).
PUT = "async ([name, data]) => { (window.__data ??= {})[name] = Uint8Array.from(atob(data), (c) => c.charCodeAt(0)); }"
BYTES_FROM_PUT = "async () => { window.bytes = async (name) => window.__data[name]; }"


@pytest.fixture(scope="module")
def server():
    require_engines()
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "engines-streamlit.log") as running:
        yield running.url


@pytest.fixture(scope="module", params=ENGINES)
def engine(request, browser):
    require_engines()
    with running_engine(request.param, browser) as running:
        yield running


@pytest.fixture
def pages(engine):
    """Pages opened in the test, closed after it, with a screenshot of each for the artefacts."""
    opened: list[EnginePage] = []
    yield opened
    for number, page in enumerate(opened):
        try:
            page.screenshot(ARTIFACTS / f"engines-{page.engine}-{number}.png")
        finally:
            page.close()


def put(page: EnginePage, name: str, data: bytes) -> None:
    page.run(PUT, [name, base64.b64encode(data).decode()])


# How far the browser's probabilities may be from Python's. LiteRT.js's wasm kernels and Python's LiteRT
# compute the int8-weight layers in their own order (neither Python's XNNPack nor its reference kernels
# give the wasm's figures exactly): a few uncertain faces of the generated set differ by more than 1e-3,
# while the median face differs by about 1e-4, and the labels agree.
PROBABILITY_TOLERANCE = 2e-3
chromium_probabilities: list[np.ndarray] = []  # the first engine's, which the others must equal


def test_the_engine_reads_faces_as_python_does(engine, server, pages, models, fer_faces):
    """Probabilities as the served classifier's and as chromium's, boxes identical to the pixel, the same labels."""
    page = engine.page()
    pages.append(page)
    page.goto(f"{server}/_stcore/health")  # the app's origin, so that the page may import from /app/static/
    page.run(SETUP.replace("window.bytes", "window.__fetchBytes"), [browser_settings(), "/app/static/ondevice/"])
    page.run(BYTES_FROM_PUT)

    image = read_photo("facerec_two_people.jpg")
    crops = np.concatenate([fer_faces, crop_faces(to_gray(image), models.detector("blazeface").detect(image, PHOTO))])
    put(page, "crops", crops.astype(np.float32).tobytes())
    found = page.run(CLASSIFY_CROPS)
    expected = EmotionClassifier(BUNDLED_TFLITE).predict(crops)
    differences = np.abs(np.array(found) - expected).max(axis=1)
    print(f"{engine.name}: {len(crops)} faces' probabilities from Python's: median {np.median(differences):.1e}, "
          f"largest {differences.max():.1e}")
    assert len(found) == len(crops) and differences.max() < PROBABILITY_TOLERANCE
    assert np.array_equal(np.argmax(found, axis=1), np.argmax(expected, axis=1))
    if engine.name == "chromium":
        chromium_probabilities[:] = [np.array(found)]
    elif chromium_probabilities:  # the same runtime on the same faces: the same figures in every engine
        assert np.abs(np.array(found) - chromium_probabilities[0]).max() < 1e-6

    for photo in DETECTOR_PHOTOS:
        image = read_photo(photo)
        height, width = image.shape[:2]
        put(page, photo, rgba(image))
        detect = "async ([name, w, h]) => Array.from(await pipeline.detect(await bytes(name), w, h, 30))"
        boxes = page.run(detect, [photo, width, height])
        expected = models.detector("blazeface").detect(image, PHOTO)
        assert np.array_equal(np.array(boxes).reshape(-1, 4), expected), f"{engine.name}: {photo}"

    image = read_photo("facerec_two_people.jpg")
    height, width = image.shape[:2]
    put(page, "pair", rgba(image))
    labelled = page.run(
        """async ([w, h]) => pipeline.analyze(new ImageData(new Uint8ClampedArray((await bytes('pair')).buffer), w, h),
                                              { minFace: 30, track: false })""",
        [width, height],
    )
    expected_faces = analyze_frame(image, models, PipelineSettings(detection=PHOTO, draw=False)).faces
    assert [face["label"] for face in labelled["faces"]] == [face.label for face in expected_faces]


def on_this_device(engine, server: str, pages: list[EnginePage]) -> EnginePage:
    page = engine.page()
    pages.append(page)
    page.goto(server)
    page.wait_for_text("On this device")
    page.show_camera(CAMERA_PHOTO)
    page.click(text_finder("button", "On this device"))
    return page


FACES_IN_VIEW = """async () => {
  const metric = [...document.querySelectorAll('[data-testid="stMetric"]')].find((m) => m.innerText.includes('Faces in view'));
  return metric ? metric.querySelector('[data-testid="stMetricValue"]').innerText.trim() : '';
}"""


# Pixels of the camera's canvas in an emotion's colour: the box and label band drawn around a face.
# The camera component draws in a shadow root: the search goes into each.
LABEL_PIXELS = """async (colours) => {
  const within = (root) => [...root.querySelectorAll('*')].flatMap((e) => (e.shadowRoot ? [e, ...within(e.shadowRoot)] : [e]));
  const canvas = within(document).find((e) => e.matches('canvas[aria-label^="Your camera"]'));
  if (!canvas || !canvas.width) return 0;
  const pixels = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
  const wanted = new Set(colours.map(([r, g, b]) => (r << 16) | (g << 8) | b));
  let count = 0;
  for (let i = 0; i < pixels.length; i += 4) count += wanted.has((pixels[i] << 16) | (pixels[i + 1] << 8) | pixels[i + 2]);
  return count;
}"""


def test_the_live_page_labels_a_face_on_this_device(engine, server, pages):
    page = on_this_device(engine, server, pages)
    page.wait_for(f"async () => ({FACES_IN_VIEW})().then((n) => n === '1')", 120, what="one face in view")
    assert page.run("async () => window.__cameraOpened") >= 1  # the page's camera is the test's photo
    colours = [list(reversed(bgr)) for bgr in EMOTION_COLOURS.values()]
    drawn = page.wait_for(LABEL_PIXELS, 30, colours, "a box and label drawn in an emotion's colour")
    print(f"{engine.name}: {drawn} pixels in an emotion's colour")
    assert drawn >= 500  # a box's outline and its label band, not a stray pixel or two
    assert "stException" not in page.run("async () => document.body.innerHTML")


def create_room(browser, url: str, title: str) -> tuple[object, str]:
    """A per-student room (the roster shows each student's faces and emotion), made on chromium's teacher page."""
    teacher = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    teacher.goto(f"{url}/teach")
    teacher.get_by_role("textbox", name="Class name").fill(title)
    teacher.get_by_text("Per student: each student's figures by name").click()
    teacher.get_by_role("button", name="Create a class room").click()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"), timeout=30_000)
    return teacher, urllib.parse.parse_qs(urllib.parse.urlsplit(teacher.url).query)["room"][0]


def test_a_student_on_the_device_path_reaches_the_teacher(engine, server, pages, browser):
    teacher, code = create_room(browser, server, f"Physics in {engine.name}")
    try:
        student = engine.page()
        pages.append(student)
        student.goto(f"{server}/join?room={code}")
        student.wait_for_text("Display name")
        name = f"Student on {engine.name}"
        student.type("() => document.querySelector('input[aria-label=\"Display name (optional)\"]')", name)
        student.click(text_finder("label", "I agree"))
        student.show_camera(CAMERA_PHOTO)
        student.click(text_finder("button", "Join the class"))
        student.wait_for_text(f"you are {name}")
        student.wait_for_text(r"[1-9]\d* face\(s\) in view", 120)
        row = teacher.locator('[data-testid="stTable"] tr', has_text=name)
        row.filter(has_text="on device").filter(has_text=re.compile(r"active")).first.wait_for(timeout=60_000)
        cells = row.first.locator("td").all_inner_texts()
        assert "1" in cells, f"the teacher's roster row for the {engine.name} student: {cells}"
    finally:
        teacher.context.close()
