"""A class room's on-device figures, posted by the page itself: the inbox's rules on both stores, the page's
publisher taking the room's answers, and the endpoint on the real server (`streamlit run app.py`, a real
redis-server the test reads and writes as another replica would)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request

import numpy as np
import pytest

from emotion.classroom.inbox import MAX_SAMPLE_AGE_S, MIN_GAP_S, FiguresInbox
from emotion.classroom.memory_store import MemoryStore
from emotion.classroom.publisher import RoomPublisher
from emotion.classroom.records import new_sender
from emotion.classroom.redis_store import RedisStore
from tests.support.browser import free_port, streamlit_server

T0 = 1_800_000_000.0
HAPPY = [0.05, 0.01, 0.04, 0.7, 0.1, 0.05, 0.05]


def happy() -> np.ndarray:
    return np.asarray(HAPPY)


def probs(index: int, weight: float = 0.7) -> np.ndarray:
    p = np.full(7, (1 - weight) / 6)
    p[index] = weight
    return p


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_process").url)


def test_the_inbox_keeps_a_seats_samples_dated_as_a_publisher_dates_them(store):
    room = store.create_room("Inbox", 3600, T0)
    ada, sender = store.join(room.code, "Ada", T0), new_sender()
    now = [T0 + 30.0]
    inbox = FiguresInbox(store, clock=lambda: now[0])
    receipt = inbox.receive(room.code, ada.student_id, sender, [(1.0, [happy()]), (0.0, [happy(), happy()])])
    assert receipt.outcome == "kept" and receipt.message == ""
    now[0] += MIN_GAP_S / 2
    assert inbox.receive(room.code, ada.student_id, sender, [(0.0, [happy()])]).outcome == "too-soon"
    now[0] = T0 + 32.0
    assert inbox.receive(room.code, ada.student_id, sender, [(1e9, [happy()])]).outcome == "kept"  # not years back
    data = store.data(room.code, now[0])
    assert sorted((i.start, i.samples, i.faces) for i in data.intervals) == [(T0 + 20, 1, 1), (T0 + 30, 2, 3)]
    (figures,) = data.senders
    assert figures.path == "device" and figures.faces == 1 and figures.label == "Happy"
    assert data.students[0].mix is None  # a class-only room: the seat holds no figure


def test_the_inbox_dates_a_pages_samples_by_their_age(store):
    room = store.create_room("Ages", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    inbox = FiguresInbox(store, clock=lambda: T0 + 10.5)
    inbox.receive(room.code, ada.student_id, None, [(1.0, [probs(3)]), (0.0, [probs(3), probs(4)])])
    data = store.data(room.code, T0 + 11)
    assert data.students[0].faces == 2 and data.students[0].label_since == T0 + 9.5
    intervals = sorted(data.intervals, key=lambda i: i.start)
    assert [(i.start, i.samples, i.faces) for i in intervals] == [(T0, 1, 1), (T0 + 10, 1, 2)]


def test_the_inbox_takes_a_pages_samples_oldest_first_and_never_far_back(store):
    """Ages come from the student's browser: out of order, from years ago, or too many, they are put in order,
    dated no earlier than the last message (nor MAX_SAMPLE_AGE_S ago), and only the newest MAX_SAMPLES kept."""
    room = store.create_room("Ages", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    now = [T0 + 30]
    inbox = FiguresInbox(store, clock=lambda: now[0])
    inbox.receive(room.code, ada.student_id, None, [(0.0, [probs(3)]), (1.0, [])])  # newest first
    student = store.data(room.code, now[0]).students[0]
    assert student.faces == 1 and student.last_seen == T0 + 30 and student.no_face_since is None
    now[0] = T0 + 32
    inbox.receive(room.code, ada.student_id, None, [(1e9, [probs(4)]), *[(0.5 - k / 10, [probs(3)]) for k in range(5)]])
    data = store.data(room.code, now[0])
    intervals = sorted(data.intervals, key=lambda i: i.start)
    # T0 + 29 and T0 + 30 from the first message, then 4 of the 6: the ancient one is not kept
    assert [(i.start, i.samples) for i in intervals] == [(T0 + 20, 1), (T0 + 30, 1 + 4)]
    assert data.students[0].label == "Happy" and data.students[0].last_seen == pytest.approx(T0 + 31.9)  # the newest sample
    now[0] = T0 + 60
    inbox.receive(room.code, ada.student_id, None, [(1e9, [probs(4)])])  # long after the last: MAX_SAMPLE_AGE_S back at most
    intervals = sorted(store.data(room.code, now[0]).intervals, key=lambda i: i.start)
    assert intervals[-1].start == T0 + 60 - MAX_SAMPLE_AGE_S



def test_the_inbox_says_what_became_of_figures_it_could_not_keep(store):
    room = store.create_room("Refusals", 3600, T0)
    ada, ben, sender = store.join(room.code, "Ada", T0), store.join(room.code, "Ben", T0), new_sender()
    cy = store.join(room.code, "Cy", T0)
    clock = [T0 + 1.0]
    inbox = FiguresInbox(store, clock=lambda: clock[0])
    sample = [(0.0, [happy()])]
    store.set_status(room.code, ada.student_id, "paused", T0 + 1, sender)
    assert inbox.receive(room.code, ada.student_id, sender, sample).outcome == "paused"
    store.set_status(room.code, ben.student_id, "left", T0 + 1)
    assert inbox.receive(room.code, ben.student_id, new_sender(), sample).outcome == "left"
    assert inbox.receive(room.code, "no-such-seat", new_sender(), sample).outcome == "left"
    assert inbox.receive(room.code, cy.student_id, None, sample).outcome == "refused"  # class-only: no sender id
    assert inbox.receive(room.code, cy.student_id, new_sender(), []).outcome == "refused"
    assert inbox.receive("ZZZZZZ", ben.student_id, new_sender(), sample).outcome == "ended"
    store.end_room(room.code, T0 + 2)
    clock[0] = T0 + 5
    ended = inbox.receive(room.code, ada.student_id, sender, sample)
    assert ended.outcome == "ended" and "teacher closed" in ended.message
    dead = FiguresInbox(RedisStore(f"redis://127.0.0.1:{free_port()}/0", timeout=0.2), clock=lambda: T0)
    unreachable = dead.receive(room.code, ada.student_id, sender, sample)
    assert (unreachable.outcome, unreachable.message) == ("unreachable", "The class room cannot be reached right now.")


def test_a_seat_posts_under_one_sender_and_one_code_however_written(store):
    """No page counts as many students in a class-only room by posting under new sender ids, nor posts faster by
    writing its room's code otherwise; a seat the room does not know is not remembered."""
    room = store.create_room("One sender", 3600, T0)
    ada, sender = store.join(room.code, "Ada", T0), new_sender()
    now = [T0 + 1.0]
    inbox = FiguresInbox(store, clock=lambda: now[0])
    assert inbox.receive(room.code, ada.student_id, sender, [(0.0, [happy()])]).outcome == "kept"
    now[0] += 1
    assert inbox.receive(room.code, ada.student_id, new_sender(), [(0.0, [happy()])]).outcome == "refused"
    assert inbox.receive(f" {room.code.lower()} ", ada.student_id, sender, [(0.0, [happy()])]).outcome == "kept"
    now[0] += MIN_GAP_S / 2
    assert inbox.receive(room.code.lower(), ada.student_id, sender, [(0.0, [happy()])]).outcome == "too-soon"
    assert len(store.data(room.code, now[0]).senders) == 1
    for n in range(20):
        assert inbox.receive(room.code, f"made-up-{n}", new_sender(), [(0.0, [happy()])]).outcome == "left"
    assert list(inbox._last) == [(room.code, ada.student_id)]


def test_the_inbox_forgets_a_quiet_seat(store):
    """It remembers each seat's last message for MAX_SAMPLE_AGE_S only, so a lecture's seats do not pile up."""
    room = store.create_room("Quiet", 3600, T0, per_student=True)
    seats = [store.join(room.code, f"S{n}", T0).student_id for n in range(5)]
    now = [T0 + 1.0]
    inbox = FiguresInbox(store, clock=lambda: now[0])
    for seat in seats:
        assert inbox.receive(room.code, seat, None, [(0.0, [happy()])]).outcome == "kept"
    now[0] += MAX_SAMPLE_AGE_S + 1
    inbox.receive(room.code, seats[0], None, [(0.0, [happy()])])
    assert len(inbox._last) == 1


def test_a_page_hears_the_rooms_answers_to_the_figures_it_posted(store):
    """RoomPublisher.heard: what the class page does with each answer the camera hands it."""
    room = store.create_room("Answers", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    publisher = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 2)
    publisher.heard("unreachable")
    assert publisher.problem == "The class room cannot be reached right now." and not publisher.paused
    publisher.heard("kept")
    assert publisher.problem is None
    publisher.tell(status="paused")
    publisher._owed = "active"  # a Resume the room missed (tests/test_rooms.py makes one with an outage)
    publisher.heard("paused")
    assert store.student(room.code, ada.student_id, T0 + 3).status == "active" and not publisher.paused
    store.set_status(room.code, ada.student_id, "paused", T0 + 3)  # paused in another tab of the same seat
    publisher.heard("paused")
    assert publisher.paused and store.student(room.code, ada.student_id, T0 + 3).status == "paused"
    publisher.heard("paused")  # heard again while paused: the room is right
    assert store.student(room.code, ada.student_id, T0 + 3).status == "paused"
    publisher.paused = False
    publisher.heard("left")
    assert publisher.ended and publisher.problem == "You are no longer in this class: join again."
    publisher = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 4)
    store.end_room(room.code, T0 + 4)
    publisher.heard("ended")
    assert publisher.ended and "the teacher closed its room" in publisher.problem


def post(url: str, body: bytes, content_type: str = "application/json") -> tuple[int, dict]:
    request = urllib.request.Request(url, body, {"Content-Type": content_type}, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def message(faces: list[list[float]], at: float = 1_000_000.0) -> dict:
    return {"faces": faces, "skipped": 0, "fps": 15, "msMedian": 12, "frames": 30, "at": at,
            "samples": [{"at": at - 1000, "faces": faces}, {"at": at, "faces": faces}]}


def test_the_endpoint_on_the_real_server_keeps_figures_and_refuses_what_it_should(redis_process, tmp_path):
    store = RedisStore(redis_process.url)
    with streamlit_server({"REDIS_URL": redis_process.url}, log_path=tmp_path / "streamlit.log") as server:
        url = f"{server.url}/api/figures"
        now = time.time()
        room = store.create_room("Endpoint", 600, now)
        ada, ben, sender = store.join(room.code, "Ada", now), store.join(room.code, "Ben", now), new_sender()

        def figures(seat: str, faces: list[list[float]], changes: dict | None = None) -> bytes:
            post = {"room": room.code, "seat": seat, "figures": sender, "message": message(faces)}
            return json.dumps(post | (changes or {})).encode()

        status, receipt = post(url, figures(ada.student_id, [HAPPY]))
        assert (status, receipt) == (200, {"outcome": "kept", "message": ""})
        data = store.data(room.code, time.time())
        assert sum(i.samples for i in data.intervals) == 2 and data.senders[0].label == "Happy"

        store.set_status(room.code, ben.student_id, "paused", time.time(), sender)
        status, receipt = post(url, figures(ben.student_id, [HAPPY]))
        assert status == 409 and receipt["outcome"] == "paused"
        seven_and_one = [[*HAPPY, 0.0]]
        out_of_range = [[2.0, *HAPPY[1:]]]
        for body, content_type in [
            (figures(ben.student_id, [HAPPY]), "text/plain"),  # what a form on another site could send
            (b"{not json", "application/json"),
            (b"[1, 2]", "application/json"),
            (figures(ben.student_id, seven_and_one), "application/json"),
            (figures(ben.student_id, out_of_range), "application/json"),
            (figures(ben.student_id, [HAPPY] * 100), "application/json"),  # more faces than a page reads
            (figures(ben.student_id, [HAPPY], {"seat": 7}), "application/json"),
            (b'{"room": "' + b"x" * 70_000 + b'"}', "application/json"),  # larger than any page's message
            (b"[" * 20_000 + b"]" * 20_000, "application/json"),  # nested deeper than the parser goes
            (b'{"room": 1' + b"0" * 5000 + b"}", "application/json"),  # a number Python will not read
            (figures(ben.student_id, [HAPPY], {"room": room.code + "X" * 20}), "application/json"),
            (figures(ben.student_id, [HAPPY], {"figures": "<b>" + "x" * 10}), "application/json"),
        ]:
            status, receipt = post(url, body, content_type)
            assert (status, receipt["outcome"]) == (400, "refused"), body[:80]
            assert receipt["message"] == "These figures were not in the form a class room's page sends, so they were not kept."
        assert sum(i.samples for i in store.data(room.code, time.time()).intervals) == 2  # nothing more was kept

        with urllib.request.urlopen(f"{server.url}/_stcore/health", timeout=10) as health:
            assert health.status == 200  # the server answers as before
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()


def test_the_endpoint_is_at_the_apps_address_under_a_base_path(tmp_path):
    """Behind a proxy that serves the app under a path (server.baseUrlPath), the page posts to that path's
    api/figures, resolved against its own address: the endpoint answers there, not at the server's root."""
    with streamlit_server(log_path=tmp_path / "streamlit.log", base_url_path="school/emotion") as server:
        assert server.url.endswith("/school/emotion")
        status, receipt = post(f"{server.url}/api/figures", b"{not json")
        assert (status, receipt["outcome"]) == (400, "refused")  # the endpoint's own answer, not a 404
        with urllib.request.urlopen(f"{server.url}/join", timeout=10) as page:
            assert page.status == 200
    assert "Traceback" not in (tmp_path / "streamlit.log").read_text()
