"""End to end for class rooms: a teacher tab and student tabs with fake cameras, on one server and on two."""

from __future__ import annotations

import random
import re
import time
import urllib.parse

import pytest

from emotion.classroom.redis_store import RedisStore
from emotion.labels import EMOTIONS
from tests.support.browser import (
    ARTIFACTS,
    CHROMIUM,
    WEBRTC_IFRAME,
    camera_video,
    chromium_args,
    metric_value,
    press_start,
    streamlit_server,
)
from tests.support.redis_server import RedisProcess

pytestmark = pytest.mark.browser
CAMERA_PHOTOS = ("facerec_obama.jpg", "facerec_biden.jpg")  # committed photos (tests/data): the fake camera loops them


@pytest.fixture(autouse=True)
def close_pages():
    """Close every tab a test opened: on-device students would go on reading faces into the next test."""
    opened: list = []
    OPEN_CONTEXTS.append(opened)
    yield
    OPEN_CONTEXTS.remove(opened)
    for context in opened:
        context.close()


OPEN_CONTEXTS: list[list] = []


def remember(context):
    OPEN_CONTEXTS[-1].append(context)
    return context


@pytest.fixture(scope="module")
def server():
    """One server for the tests that need nothing special of it; each test opens rooms of its own."""
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "streamlit-class.log") as running:
        yield running


def wait_for_metric(page, label: str, expected: int, timeout_s: float = 45) -> None:
    for _ in range(int(timeout_s * 4)):
        if metric_value(page, label) == expected:
            return
        page.wait_for_timeout(250)
    raise AssertionError(f"{label} stayed at {metric_value(page, label)}, expected {expected}")


def roster_shows(page, text: str) -> None:
    """Wait for the roster table to show `text` (the view re-renders every 2 s, so read it as it settles)."""
    page.locator('[data-testid="stTable"]', has_text=text).first.wait_for(timeout=20_000)


def create_room(browser, url: str, title: str = "Biology, week 3", per_student: bool = False) -> tuple[object, str]:
    context = remember(
        browser.new_context(viewport={"width": 1280, "height": 1400}, accept_downloads=True, timezone_id="Europe/Berlin")
    )
    teacher = context.new_page()
    teacher.goto(f"{url}/teach")
    teacher.get_by_text("Article 5(1)(f)").wait_for(timeout=30_000)  # said where the teacher decides, before the room exists
    teacher.get_by_role("textbox", name="Class name").fill(title)
    if per_student:
        teacher.get_by_text("Per student: each student's figures by name").click()
    teacher.get_by_role("button", name="Create a class room").click()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"), timeout=30_000)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(teacher.url).query)["room"][0]
    teacher.get_by_text(re.compile(r"deleted at \d\d:\d\d CET")).wait_for(timeout=30_000)  # the teacher's time zone
    return teacher, code


UTF8_BOM = b"\xef\xbb\xbf"
AGREE = re.compile(r"^I agree")  # the consent box, worded for the room's kind
FACES_IN_VIEW = re.compile(r"[1-9]\d* face\(s\) in view")
COUNT_PEER_CONNECTIONS = """
window.__peerConnections = 0;
const Original = window.RTCPeerConnection;
window.RTCPeerConnection = function (...args) { window.__peerConnections += 1; return new Original(...args); };
document.addEventListener('click', () => { window.__clickedAt = Date.now(); }, true);
window.__cameraTracks = [];
const stopTrack = MediaStreamTrack.prototype.stop;
MediaStreamTrack.prototype.stop = function () { window.__trackStoppedAt = Date.now(); return stopTrack.call(this); };
const openCamera = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
window.__cameraRequests = 0;
navigator.mediaDevices.getUserMedia = async (constraints) => {
  window.__cameraRequests += 1;
  const stream = await openCamera(constraints);
  window.__cameraTracks.push(...stream.getTracks());
  return stream;
};
"""


def peer_connections(page) -> int:
    """RTCPeerConnections the page made, in every frame (streamlit-webrtc's component is an iframe)."""
    return sum(frame.evaluate("window.__peerConnections || 0") for frame in page.frames)


def in_frames(page, script: str) -> list:
    """`script`'s value in every frame of the page that is still there: a frame removed meanwhile (the video
    component's, when the page drops it) took its document, and the camera it held, with it."""
    from playwright.sync_api import Error

    values = []
    for frame in page.frames:
        try:
            values.append(frame.evaluate(script))
        except Error:
            if not frame.is_detached():
                raise
    return values


def live_camera_tracks(page) -> int:
    """Camera tracks not yet ended, in every frame of the page: 0 means the browser's camera light is off."""
    return sum(in_frames(page, "(window.__cameraTracks || []).filter((track) => track.readyState === 'live').length"))


def camera_state(page) -> dict[str, int]:
    """How often the page asked for the camera, and its tracks still live: what a failed start looked like."""
    return {"asked": sum(in_frames(page, "window.__cameraRequests || 0")), "live tracks": live_camera_tracks(page)}


def camera_off_after(page, clicked_at: float) -> float:
    """Seconds from the click until the page's camera tracks had all ended (the camera light off)."""
    wait_until(lambda: live_camera_tracks(page) == 0, 15, "the camera off")
    seconds = max(in_frames(page, "window.__trackStoppedAt || 0")) / 1000 - clicked_at
    assert seconds <= CAMERA_OFF_DEADLINE_S, f"the camera went off {seconds:.2f} s after the click"
    return seconds


def wait_until(check, timeout_s: float, what: str, page=None) -> float:
    """Poll `check()` until it is true; the seconds it took."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < timeout_s, f"{what} not within {timeout_s} s"
        time.sleep(0.05)
    return time.monotonic() - started


def join_and_stream(browser, url: str, code: str, name: str, path: str = "device"):
    """A student joins and shares; `path` is where their faces are read: "device" (the default) or "server"."""
    return wait_streaming(join_class(browser, url, code, name, path), name, path)


def join_all_and_stream(browser, url: str, code: str, names, path: str = "device") -> list:
    """Students join one after another and then all share: their pages start their cameras side by side."""
    pages = [join_class(browser, url, code, name, path) for name in names]
    return [wait_streaming(page, name, path) for page, name in zip(pages, names)]


def join_class(browser, url: str, code: str, name: str, path: str = "device"):
    """A student's page, joined with consent; on the server path, its video started."""
    context = remember(browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 900}))
    context.add_init_script(COUNT_PEER_CONNECTIONS)
    student = context.new_page()
    student.goto(f"{url}/join?room={code}")
    student.get_by_role("textbox", name="Display name (optional)").fill(name)
    join = student.get_by_role("button", name="Join the class")
    assert join.is_disabled()  # no consent, no joining
    student.get_by_text(AGREE).click()
    join.click()
    student.get_by_text(f"you are {name}").wait_for(timeout=30_000)
    # Pausing is the prominent choice; leaving is there, but not the first thing the eye falls on.
    student.get_by_test_id("stBaseButton-primary").filter(has_text="Pause sharing").first.wait_for(timeout=30_000)
    assert student.get_by_test_id("stBaseButton-secondary").filter(has_text="Leave the class").count() >= 1
    if path == "server":
        student.get_by_text("On the server", exact=True).click()
        press_start(student, lambda: student.get_by_text(FACES_IN_VIEW).count() > 0)
    return student


def wait_streaming(student, name: str, path: str = "device"):
    """The joined student's page once faces are in view; on the device path, say what it showed if none came."""
    if path == "device":
        try:
            student.get_by_text(FACES_IN_VIEW).first.wait_for(timeout=90_000)
        except AssertionError:
            raise
        except Exception as error:  # Playwright's timeout: say what the page and its camera show
            ARTIFACTS.mkdir(exist_ok=True)
            student.screenshot(path=str(ARTIFACTS / f"no-faces-{name}.png"), full_page=True)
            shown = student.locator("main").inner_text()[-600:]
            camera = camera_state(student)
            raise AssertionError(f"{name}: no face in view within 90 s; camera: {camera}; page: {shown}") from error
    # Drawn once, whichever run drew it last (the device path's controls live in its fragment).
    assert student.get_by_role("button", name="Pause sharing").count() == 1
    assert student.get_by_test_id("stBaseButton-secondary").filter(has_text="Leave the class").count() == 1
    return student


def test_two_students_and_a_teacher_on_one_server(browser, server):
    teacher, code = create_room(browser, server.url)
    ada = join_and_stream(browser, server.url, code, "Ada")
    ben = join_and_stream(browser, server.url, code, "Ben")
    wait_for_metric(teacher, "Connected", 2)
    wait_for_metric(teacher, "Face in view", 2)
    teacher.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=20_000)
    teacher.screenshot(path=str(ARTIFACTS / "teacher.png"), full_page=True)
    roster_shows(teacher, "Ada")
    roster_shows(teacher, "Ben")

    ada.get_by_role("button", name="Leave the class").click()
    wait_for_metric(teacher, "Left or dropped", 1)
    wait_for_metric(teacher, "Connected", 1)
    late = remember(browser.new_context()).new_page()
    late.goto(f"{server.url}/join?room={code}")
    late.get_by_role("textbox", name="Display name (optional)").fill("ben")
    late.get_by_text(AGREE).click()
    late.get_by_role("button", name="Join the class").click()
    late.get_by_text(re.compile(r"already uses the name\s*ben")).wait_for(timeout=20_000)  # Ben is still streaming

    ben.context.close()  # a closed tab: no goodbye, only silence
    wait_for_metric(teacher, "Left or dropped", 2)
    roster_shows(teacher, "dropped")
    late.get_by_role("button", name="Join the class").click()  # Ben dropped: his name is free again
    late.get_by_text("you are ben").wait_for(timeout=20_000)
    late.goto(f"{server.url}/join?room=ZZZZZZ")
    late.get_by_text("no open class with the code ZZZZZZ").wait_for(timeout=20_000)
    for page in (teacher, late):
        assert page.locator('[data-testid="stException"]').count() == 0


def test_student_and_teacher_on_two_replicas_share_one_redis(browser, tmp_path):
    redis = RedisProcess(tmp_path).start()
    try:
        env = {"REDIS_URL": redis.url}
        with streamlit_server(env) as replica_a, streamlit_server(env) as replica_b:
            teacher, code = create_room(browser, replica_b.url)
            join_and_stream(browser, replica_a.url, code, "Cleo")
            wait_for_metric(teacher, "Connected", 1)
            wait_for_metric(teacher, "Face in view", 1)
            roster_shows(teacher, "Cleo")
    finally:
        redis.stop()


HOSTILE_NAMES = ("[Click to log in](https://evil.example)", "![x](http://127.0.0.1:9/track.png)")


def external_links_and_images(page) -> list[str]:
    return page.evaluate(
        """() => [...document.querySelectorAll('a[href], img[src]')].map(e => e.href || e.src)
                 .filter(u => u.includes('evil.example') || u.includes('track.png'))"""
    )


def test_every_report_download_arrives_while_students_stream_and_names_stay_plain(browser, server, tmp_path):
    """20 downloads, with two students streaming under names that are markdown links and images."""
    teacher, code = create_room(browser, server.url, title="[Quiz](https://evil.example) week 4", per_student=True)
    students = join_all_and_stream(browser, server.url, code, HOSTILE_NAMES)
    wait_for_metric(teacher, "Connected", 2)
    roster_shows(teacher, HOSTILE_NAMES[0])  # shown as typed
    for page in (teacher, *students):
        assert external_links_and_images(page) == []
    prepare = teacher.get_by_role("button", name="Prepare the reports")
    delivered: list = []
    made_at = ""
    for _ in range(10):
        time.sleep(1.0)  # so that each press's caption names another second
        prepare.click()
        # Until this press's run ends, the page still shows the last press's buttons, whose files the run replaces.
        fresh = teacher.get_by_text(re.compile(r"^Figures up to "))
        if made_at:
            fresh = fresh.filter(has_not_text=made_at)
        fresh.wait_for(timeout=30_000)
        made_at = fresh.inner_text()
        for label, suffix in (("Figures per interval (CSV)", ".csv"), ("Summary page (HTML)", ".html")):
            button = teacher.get_by_role("button", name=label)
            button.wait_for(timeout=20_000)
            with teacher.expect_download(timeout=20_000) as download:
                button.click()
            path = tmp_path / f"{len(delivered)}{suffix}"
            download.value.save_as(path)
            delivered.append(path)
    assert len(delivered) == 20
    csv_bytes = delivered[-2].read_bytes()
    assert csv_bytes.startswith(UTF8_BOM + b"interval_start,student,")  # the mark that tells Excel the names are UTF-8
    assert HOSTILE_NAMES[0] in csv_bytes.decode("utf-8-sig")
    report = delivered[-1]
    assert "<svg" in report.read_text() and "<a " not in report.read_text()  # names and title as text, no links

    offline = remember(browser.new_context(offline=True)).new_page()
    requests = []
    offline.on("request", lambda request: requests.append(request.url) if not request.url.startswith("file:") else None)
    offline.goto(report.as_uri())
    assert offline.locator("svg rect").count() > 7  # the timeline's bars and the class mix drawn with no network
    assert requests == [] and external_links_and_images(offline) == []
    assert teacher.locator('[data-testid="stException"]').count() == 0


def test_a_reloaded_student_keeps_their_seat_an_outage_is_told_plainly_and_an_ended_class_says_so(browser, tmp_path):
    """Also: a student who leaves and deletes their figures while the room cannot be reached is gone from it,
    figures and all, once it is back, though their page forgot the seat at the click."""
    redis = RedisProcess(tmp_path).start()
    try:
        with streamlit_server({"REDIS_URL": redis.url}, log_path=ARTIFACTS / "streamlit-seat.log") as server:
            teacher, code = create_room(browser, server.url)
            cleo, dara = join_all_and_stream(browser, server.url, code, ["Cleo", "Dara"])
            wait_for_metric(teacher, "Connected", 2)
            cleo.reload()  # a reloaded tab is the same student in the same seat
            cleo.get_by_text("you are Cleo").wait_for(timeout=30_000)
            cleo.get_by_text(FACES_IN_VIEW).first.wait_for(timeout=90_000)  # the camera starts again by itself
            wait_for_metric(teacher, "Connected", 2)
            roster_shows(teacher, "Cleo")
            assert teacher.locator('[data-testid="stTable"] tbody tr').count() == 2

            redis.stop()
            for page in (teacher, cleo):
                page.get_by_text("The class room cannot be reached right now.").first.wait_for(timeout=30_000)
                assert "Error 111" not in page.content() and "Redis" not in page.locator("main").inner_text()
            dara.get_by_role("button", name="Leave and delete my figures").click()
            told = "the room will be told that you left and to delete your figures as soon as it can be reached"
            dara.get_by_text(told, exact=False).wait_for(timeout=30_000)
            dara.get_by_role("textbox", name="Class code").wait_for(timeout=30_000)
            cleo.reload()  # while the room cannot be reached: the seat is kept, and asked for again by itself
            cleo.get_by_text("Your seat is kept: this page tries again every few seconds.").wait_for(timeout=30_000)
            assert "seat=" in cleo.url and cleo.get_by_role("textbox", name="Class code").count() == 0
            dara.close()  # the student need not stay: the server tells the room
            redis.start()
            cleo.get_by_text("you are Cleo").wait_for(timeout=30_000)
            wait_for_metric(teacher, "Connected", 1)
            teacher.locator('[data-testid="stTable"]', has_not_text="Dara").first.wait_for(timeout=20_000)
            assert teacher.locator('[data-testid="stTable"] tbody tr').count() == 1  # Dara's seat and figures deleted

            import redis as redis_client

            client = redis_client.Redis.from_url(redis.url)
            client.delete(*client.keys(f"room:{code}*"))  # the room expires
            cleo.get_by_text("This class has ended").wait_for(timeout=30_000)
            assert cleo.get_by_text("sharing resumes by itself").count() == 0
            cleo.get_by_role("button", name="Leave the class").click()
            cleo.get_by_role("textbox", name="Class code").wait_for(timeout=30_000)
    finally:
        redis.stop()


def test_a_broken_model_is_told_to_students_before_they_consent(browser, tmp_path):
    with streamlit_server({"EMOTION_MODEL": str(tmp_path / "missing.tflite")}) as server:
        _, code = create_room(browser, server.url)
        student = remember(browser.new_context()).new_page()
        student.goto(f"{server.url}/join?room={code}")
        student.get_by_text("The emotion model is not available on this server").wait_for(timeout=30_000)
        assert student.get_by_text("Tell your teacher").count() == 1
        assert student.get_by_text(AGREE).count() == 0  # no consent to give
        assert "python -m" not in student.locator("main").inner_text()


def test_a_wrong_teacher_link_offers_a_new_room(browser, server):
    teacher, code = create_room(browser, server.url)
    teacher.goto(f"{server.url}/teach?room={code}&key=wrong")
    teacher.get_by_text("This teacher link is not valid").wait_for(timeout=30_000)
    teacher.get_by_role("button", name="Create a new class room").click()
    teacher.get_by_role("button", name="Create a class room").wait_for(timeout=30_000)


def test_students_on_the_device_and_on_the_server_in_one_room(browser, server):
    """Two students read their faces in the browser, one on the server; the teacher sees all three alike."""
    teacher, code = create_room(browser, server.url)
    on_device = join_all_and_stream(browser, server.url, code, ("Dee", "Eve"))
    on_server = join_and_stream(browser, server.url, code, "Fay", path="server")
    wait_for_metric(teacher, "Connected", 3)
    wait_for_metric(teacher, "Face in view", 3)
    roster = teacher.locator('[data-testid="stTable"]')
    for _ in range(80):
        if roster.inner_text().count("on device") == 2 and roster.inner_text().count("on server") == 1:
            break
        teacher.wait_for_timeout(250)
    assert roster.inner_text().count("on device") == 2 and roster.inner_text().count("on server") == 1
    assert [peer_connections(page) for page in on_device] == [0, 0]  # no video left those tabs
    assert peer_connections(on_server) >= 1  # the count works: the server path's component made one
    teacher.locator('[data-testid="stVegaLiteChart"]').first.wait_for(timeout=20_000)  # the class mix, from all three
    for page in (teacher, *on_device, on_server):
        assert page.locator('[data-testid="stException"]').count() == 0


# --- The promises a class room makes to a student (issue #24) ------------------------------------------

CLICK_DEADLINE_S = 1.0  # a click takes effect at the store within this, and no figure after it reaches the store
# The camera turns off when the page's rerun comes back. With ten students' pipelines, the server and the teacher
# on this machine's two cores, 0.1-3.0 s was measured (the tests print each); a lost click never turns it off.
CAMERA_OFF_DEADLINE_S = 5.0


PROMISES_LOG = "streamlit-promises.log"


@pytest.fixture
def redis_server(tmp_path):
    """A real redis-server and the app on it: the test reads what the room holds, as any replica would."""
    redis = RedisProcess(tmp_path).start()
    try:
        with streamlit_server({"REDIS_URL": redis.url}, log_path=ARTIFACTS / PROMISES_LOG) as server:
            yield server, RedisStore(redis.url), redis.url
    finally:
        redis.stop()


def student_record(store, code: str, name: str):
    return next((s for s in store.data(code, time.time()).students if s.name == name), None)


def sharing(store, code: str, name: str) -> bool:
    student = student_record(store, code, name)
    return student is not None and student.status == "active" and student.figures_at is not None


def wait_sharing(store, code: str, name: str, page, timeout_s: float = 90) -> None:
    """Wait until the student's figures flow; if they never do, say what the store and the page show."""
    deadline = time.monotonic() + timeout_s
    while not sharing(store, code, name):
        if time.monotonic() > deadline:
            page.screenshot(path=str(ARTIFACTS / f"not-sharing-{name}.png"), full_page=True)
            shown = page.locator("main").inner_text()[-600:]
            raise AssertionError(
                f"{name}'s figures not within {timeout_s} s: {student_record(store, code, name)}; "
                f"camera: {camera_state(page)}; page: {shown}"
            )
        time.sleep(0.05)


def click(page, label: str) -> float:
    """Click the button labelled `label`; when the page received the click, on the wall clock (the store's clock).

    Taken in the page: Playwright waits for a button to hold still before it clicks, which on a busy page
    takes seconds that no user would wait.
    """
    page.get_by_role("button", name=label, exact=True).click(timeout=30_000)
    return page.evaluate("window.__clickedAt") / 1000


def assert_nothing_after(store, code: str, name: str, clicked_at: float, status: str) -> None:
    """The store took the click as `status` by the click plus CLICK_DEADLINE_S, and no figure came after.

    A figure would have made the student active again with figures; a paused student's seat is refreshed
    while paused, so the pause's own time is paused_since.
    """
    student = student_record(store, code, name)
    assert student is not None and student.status == status and student.figures_at is None, (name, student)
    took_effect = student.paused_since if status == "paused" else student.last_seen
    assert took_effect is not None and took_effect <= clicked_at + CLICK_DEADLINE_S, (name, took_effect - clicked_at)


@pytest.fixture
def own_browser(browser, tmp_path):
    """A chromium of the storm's own. In the full suite, after the module's earlier tests had opened and
    closed many cameras in the shared chromium, one of the storm's students twice never got a frame from
    chromium's fake camera (never when the test ran alone): the storm tests the app, not that."""
    video = camera_video(tmp_path / "camera.y4m", CAMERA_PHOTOS)  # launched by the module's Playwright: one a thread
    chromium = browser.browser_type.launch(executable_path=CHROMIUM, headless=True, args=chromium_args(video))
    yield chromium
    chromium.close()


def test_a_click_storm_on_the_device_path_loses_no_click(own_browser, redis_server):
    """Six students on the device path pause, resume and leave at random moments while their figures flow
    (ten took this test past five minutes on two cores; six keep the clicks just as close together)."""
    server, store, _ = redis_server
    rng = random.Random(24)
    browser = own_browser
    teacher, code = create_room(browser, server.url)
    names = [f"S{i}" for i in range(6)]
    students = dict(zip(names, join_all_and_stream(browser, server.url, code, names)))
    cycles = 3
    for cycle in range(cycles):
        for name in names:  # figures flow again (the camera restarted after the last Resume)
            wait_sharing(store, code, name, students[name])
        paused_at = {}
        for name in rng.sample(names, len(names)):
            time.sleep(rng.uniform(0, 0.4))
            paused_at[name] = click(students[name], "Pause sharing")
        latencies = [camera_off_after(students[name], at) for name, at in paused_at.items()]
        time.sleep(1.5)  # long enough for a figure sent after the click to have arrived
        print("pause: store", [round(student_record(store, code, n).paused_since - at, 2) for n, at in paused_at.items()],
              "camera", [round(x, 2) for x in latencies])
        for name, at in paused_at.items():
            assert_nothing_after(store, code, name, at, "paused")
        wait_for_metric(teacher, "Paused", len(names), timeout_s=10)  # paused students keep their seats
        if cycle < cycles - 1:
            for name in rng.sample(names, len(names)):
                time.sleep(rng.uniform(0, 0.4))
                click(students[name], "Resume sharing")
    for name in names:  # leave while the figures flow: half of them also delete their figures
        click(students[name], "Resume sharing")
    for name in names:
        wait_sharing(store, code, name, students[name])
    left_at = {}
    for name in rng.sample(names, len(names)):
        time.sleep(rng.uniform(0, 0.4))
        left_at[name] = click(students[name], "Leave the class" if int(name[1:]) % 2 else "Leave and delete my figures")
    for name, at in left_at.items():
        students[name].get_by_role("textbox", name="Class code").wait_for(timeout=10_000)
        print("leave: camera", round(camera_off_after(students[name], at), 2))
    time.sleep(1.5)
    data = store.data(code, time.time())
    for name, at in left_at.items():
        if int(name[1:]) % 2:
            assert_nothing_after(store, code, name, at, "left")
        else:
            assert student_record(store, code, name) is None  # deleted, with every figure
    kept = {s.student_id for s in data.senders}  # a class-only room: figures under the senders' ids, not the seats'
    assert {i.student_id for i in data.intervals} <= kept and len(kept) == len(data.students) == len(names) // 2
    wait_for_metric(teacher, "Connected", 0, timeout_s=10)
    for page in (teacher, *students.values()):
        assert page.locator('[data-testid="stException"]').count() == 0


CLICK_AFTER_BUSY = """([label, busyMs]) => {
  const button = [...document.querySelectorAll('button')].find((b) => b.innerText.trim() === label);
  setTimeout(() => {
    const start = performance.now();
    while (performance.now() - start < busyMs) {}
    const next = new MessageChannel();  // the click's task, queued before the timers that fell due meanwhile
    next.port1.onmessage = () => button.click();
    next.port2.postMessage(null);
  }, 0);
}"""


def click_while_busy(page, label: str, busy_s: float = 3.5) -> float:
    """Click `label` just after the page's main thread was busy for `busy_s`, as on a loaded laptop; like `click`.

    A fragment's `run_every` timer that fell due meanwhile runs after the click and before the message that
    carries it (the browser queued the timer first), and Streamlit's browser side sends the click in both.
    """
    before = page.evaluate("window.__clickedAt || 0")
    page.evaluate(CLICK_AFTER_BUSY, [label, busy_s * 1000])
    page.wait_for_function(f"(window.__clickedAt || 0) > {before}", timeout=(busy_s + 10) * 1000)
    return page.evaluate("window.__clickedAt") / 1000


def test_a_click_sent_twice_acts_once(browser, redis_server):
    """On a busy laptop one click can reach the server twice (see click_while_busy): Pause, Resume and Leave each
    act once. Resume is the sure case: the paused page's room check runs every few seconds, and a toggle resumed and
    paused again (the click storm's lost Resume). A per-student room, for its "what your teacher sees" that refreshes
    while the student shares; there the camera's figures often ride in the click's message, so Pause and Leave
    arrive twice only now and then (a second Leave once raised an error)."""
    server, store, _ = redis_server
    _teacher, code = create_room(browser, server.url, per_student=True)
    student = join_and_stream(browser, server.url, code, "Kim")
    wait_sharing(store, code, "Kim", student, 60)
    paused_at = click_while_busy(student, "Pause sharing")
    student.get_by_role("button", name="Resume sharing", exact=True).wait_for(timeout=10_000)
    camera_off_after(student, paused_at)
    time.sleep(1.5)  # a second delivery acting again would have resumed by now
    assert_nothing_after(store, code, "Kim", paused_at, "paused")
    click_while_busy(student, "Resume sharing")
    wait_sharing(store, code, "Kim", student, 30)
    time.sleep(1.5)  # ... or paused again
    assert sharing(store, code, "Kim") and student.get_by_role("button", name="Pause sharing", exact=True).count() == 1
    left_at = click_while_busy(student, "Leave the class")
    student.get_by_role("textbox", name="Class code").wait_for(timeout=10_000)
    time.sleep(1.5)
    assert_nothing_after(store, code, "Kim", left_at, "left")
    assert student.locator('[data-testid="stException"]').count() == 0
    assert "Traceback" not in (ARTIFACTS / PROMISES_LOG).read_text(errors="replace")  # not even for a moment


def test_pause_resume_and_leave_on_the_server_path_with_a_self_view(browser, redis_server):
    """Two students send their video to the server: each click stops the camera and the figures; they see themselves."""
    server, store, _ = redis_server
    teacher, code = create_room(browser, server.url)
    students = {name: join_and_stream(browser, server.url, code, name, path="server") for name in ("Hal", "Ida")}
    for page in students.values():  # their own camera, on the page only: the send-only video shows none
        preview = page.locator('video[aria-label^="Your camera: a preview"]')  # in the component's shadow root
        preview.wait_for(timeout=20_000)
        wait_until(lambda preview=preview: preview.evaluate("(video) => video.videoWidth") > 0, 20, "the preview playing")
    for _cycle in range(3):
        for name, page in students.items():
            wait_sharing(store, code, name, page, 60)
        paused_at = {name: click(page, "Pause sharing") for name, page in students.items()}
        latencies = [camera_off_after(students[name], at) for name, at in paused_at.items()]
        wait_for_metric(teacher, "Paused", 2, timeout_s=10)
        time.sleep(1.5)
        print("server pause: camera", [round(x, 2) for x in latencies])
        for name, at in paused_at.items():
            assert_nothing_after(store, code, name, at, "paused")
        for page in students.values():
            click(page, "Resume sharing")
            press_start(page, lambda page=page: page.get_by_text(FACES_IN_VIEW).count() > 0)
    left_at = {name: click(page, "Leave the class") for name, page in students.items()}
    for name in left_at:
        students[name].get_by_role("textbox", name="Class code").wait_for(timeout=10_000)
        wait_until(lambda page=students[name]: live_camera_tracks(page) == 0, CAMERA_OFF_DEADLINE_S, f"{name}'s camera off")
    time.sleep(1.5)
    for name, at in left_at.items():
        assert_nothing_after(store, code, name, at, "left")
    for page in (teacher, *students.values()):
        assert page.locator('[data-testid="stException"]').count() == 0


def test_ending_the_class_deletes_everything_and_every_student_is_told(browser, redis_server):
    server, _, redis_url = redis_server
    import redis as redis_client

    teacher, code = create_room(browser, server.url)
    on_device = join_and_stream(browser, server.url, code, "Jo")
    paused = join_and_stream(browser, server.url, code, "Kim")
    on_server = join_and_stream(browser, server.url, code, "Lu", path="server")
    click(paused, "Pause sharing")  # a paused student sends nothing, and must be told all the same
    wait_for_metric(teacher, "Connected", 2)
    wait_for_metric(teacher, "Paused", 1)
    teacher.get_by_role("button", name="End the class…").click()
    dialog = teacher.get_by_role("dialog")
    dialog.get_by_text("deletes the room and all its figures now").wait_for(timeout=20_000)
    with teacher.expect_download(timeout=20_000) as download:  # the reports come first
        dialog.get_by_role("button", name="Figures per interval (CSV)").click()
    assert download.value.path().read_bytes().startswith(UTF8_BOM + b"interval_start,student,")
    dialog.get_by_role("button", name="End the class and delete its figures").click()
    teacher.get_by_text("This class has ended: the teacher closed its room").wait_for(timeout=20_000)
    for page in (on_device, paused, on_server):
        page.get_by_text("This class has ended").first.wait_for(timeout=15_000)
        wait_until(lambda page=page: live_camera_tracks(page) == 0, 10, "the camera off")
        assert page.get_by_role("button", name="Pause sharing").count() == 0
        assert page.get_by_text("sharing resumes by itself").count() == 0
    assert on_server.get_by_text("Your video stays on this page only").count() == 0
    client = redis_client.Redis.from_url(redis_url, decode_responses=True)
    assert client.keys(f"room:{code}*") == [f"room:{code}:ended"]  # nothing of the room but the fact that it ended
    late = remember(browser.new_context()).new_page()
    late.goto(f"{server.url}/join?room={code}")
    late.get_by_text("This class has ended").wait_for(timeout=20_000)
    for page in (teacher, on_device, paused, on_server, late):
        assert page.locator('[data-testid="stException"]').count() == 0


def test_a_reload_keeps_the_server_path_and_a_dropped_student_shows_no_stale_figures(browser, server):
    teacher, code = create_room(browser, server.url, per_student=True)
    mo = join_and_stream(browser, server.url, code, "Mo", path="server")
    ned = join_and_stream(browser, server.url, code, "Ned")
    wait_for_metric(teacher, "Face in view", 2)
    mo.reload()
    mo.get_by_text("you are Mo").wait_for(timeout=30_000)
    mo.locator(WEBRTC_IFRAME).wait_for(timeout=30_000)  # still on the server path: its video component, not the device's
    assert mo.locator('canvas[aria-label^="Your camera, with the faces"]').count() == 0  # no on-device camera
    roster = teacher.locator('[data-testid="stTable"]')
    wait_until(lambda: "Mo" in roster.inner_text() and "not sharing" in roster.inner_text()
               and "on server" in roster.inner_text(), 20, "Mo listed as not sharing, on the server")
    ned.context.close()  # a closed tab: Ned drops
    wait_until(lambda: "dropped" in roster.locator("tbody tr", has_text="Ned").inner_text(), 40, "Ned dropped")
    row = roster.locator("tbody tr", has_text="Ned").inner_text()
    assert not any(emotion in row for emotion in EMOTIONS) and "\t1\t" not in row


def test_a_duplicate_name_is_told_as_plain_text(browser, server):
    _, code = create_room(browser, server.url)
    join_and_stream(browser, server.url, code, HOSTILE_NAMES[0])
    late = remember(browser.new_context()).new_page()
    late.goto(f"{server.url}/join?room={code}")
    late.get_by_role("textbox", name="Display name (optional)").fill(HOSTILE_NAMES[0])
    late.get_by_text(AGREE).click()
    late.get_by_role("button", name="Join the class").click()
    late.get_by_text("already uses the name").wait_for(timeout=20_000)
    assert HOSTILE_NAMES[0] in late.locator("main").inner_text()  # as typed, brackets and all
    assert external_links_and_images(late) == []


def test_a_class_only_room_shows_the_class_once_five_share_and_names_no_one_beside_a_figure(browser, server, tmp_path):
    teacher, code = create_room(browser, server.url)
    students = join_all_and_stream(browser, server.url, code, [f"Pupil {n}" for n in range(4)])
    wait_for_metric(teacher, "Face in view", 4)
    teacher.get_by_text("Waiting for 5 students").wait_for(timeout=20_000)
    roster = teacher.locator('[data-testid="stTable"]')
    roster_shows(teacher, "Pupil 3")
    assert not any(emotion in roster.inner_text() for emotion in EMOTIONS)  # names, states and paths only
    students.append(join_and_stream(browser, server.url, code, "Pupil 4"))
    wait_for_metric(teacher, "Face in view", 5)
    teacher.get_by_text("Waiting for 5 students").wait_for(state="detached", timeout=20_000)
    assert not any(emotion in roster.inner_text() for emotion in EMOTIONS)
    teacher.get_by_role("button", name="Prepare the reports").click()
    with teacher.expect_download(timeout=20_000) as download:
        teacher.get_by_role("button", name="Figures per interval (CSV)").click()
    csv_text = download.value.path().read_text()
    assert "Pupil" not in csv_text and "class" in csv_text
    with teacher.expect_download(timeout=20_000) as download:
        teacher.get_by_role("button", name="Summary page (HTML)").click()
    report = download.value.path().read_text()
    assert "A class-only room" in report and "Pupil 0" in report.split("<h2>Roster")[1]
    for page in (teacher, *students):
        assert page.locator('[data-testid="stException"]').count() == 0


def test_a_per_student_room_shows_each_student_what_the_teacher_sees(browser, server):
    teacher, code = create_room(browser, server.url, per_student=True)
    student = remember(browser.new_context(permissions=["camera"], viewport={"width": 1280, "height": 900})).new_page()
    student.goto(f"{server.url}/join?room={code}")
    student.get_by_text("Your teacher sees your figures by name").wait_for(timeout=30_000)  # said before consent
    student.close()
    ada = join_and_stream(browser, server.url, code, "Ada")
    mine = ada.locator('[data-testid="stTable"]').last
    ada.get_by_text("What your teacher sees about you").wait_for(timeout=20_000)
    roster = teacher.locator('[data-testid="stTable"]')

    def rows_agree() -> bool:
        theirs = roster.locator("tbody tr", has_text="Ada").inner_text().split()
        return theirs[:2] == ["Ada", "active"] and theirs == mine.locator("tbody tr").inner_text().split()

    wait_until(rows_agree, 30, "the student's row as the teacher sees it")
