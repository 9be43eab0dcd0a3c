"""Class rooms: the same tests against the in-memory store and a real Redis server."""

from __future__ import annotations

import threading
import time
from dataclasses import replace

import numpy as np
import pytest

from emotion import Face
from emotion.classroom.analytics import Thresholds, roster
from emotion.classroom.leaving import LeavesOwed, OwedLeave
from emotion.classroom.memory_store import MemoryStore
from emotion.classroom.policy import RoomPolicy
from emotion.classroom.publisher import RoomPublisher
from emotion.classroom.reading import RoomReader
from emotion.classroom.records import (
    CODE_ALPHABET,
    INTERVAL_SECONDS,
    LEAVE_AFTER_SECONDS,
    DuplicateName,
    RoomEnded,
    RoomError,
    RoomNotFound,
    Sample,
    SeatPaused,
    SeatTaken,
    StoreUnavailable,
    new_sender,
)
from emotion.classroom.redis_store import RedisStore
from emotion.classroom.reports import report_csv
from tests.support.redis_server import RedisProcess

T0 = 1_800_000_000.0  # a fixed clock: rooms are judged by the times they are given


@pytest.fixture(params=["memory", "redis"])
def store(request):
    if request.param == "memory":
        return MemoryStore()
    return RedisStore(request.getfixturevalue("redis_process").url)


def face(probabilities: np.ndarray) -> Face:
    """A face as the pipeline hands it to the publisher (only its probabilities are sent)."""
    return Face((0, 0, 48, 48), probabilities)


def probs(index: int, weight: float = 0.7) -> np.ndarray:
    p = np.full(7, (1 - weight) / 6)
    p[index] = weight
    return p


def test_a_room_has_a_short_unambiguous_code(store):
    room = store.create_room("Physics 101", 3600, T0, per_student=True)
    assert len(room.code) == 6 and set(room.code) <= set(CODE_ALPHABET)
    assert store.room(room.code.lower(), T0 + 1) == room
    assert len(room.teacher_key) >= 16


def test_unknown_and_expired_rooms(store):
    room = store.create_room("Short", 60, T0, per_student=True)
    with pytest.raises(RoomNotFound, match="no open class with the code 'ZZZZZZ'"):
        store.room("ZZZZZZ", T0)
    with pytest.raises(RoomNotFound, match="expired"):
        store.join(room.code, "Ada", T0 + 61)
    with pytest.raises(RoomNotFound):
        store.data(room.code, T0 + 61)


def test_an_expired_rooms_figures_go_with_no_call_to_the_store():
    """A quiet server still deletes them: the memory store purges on a timer, not only on the next call."""
    store = MemoryStore()
    room = store.create_room("Short", 60, T0, per_student=True)
    student = store.join(room.code, "Ada", T0)
    store.publish(room.code, student.student_id, [probs(3)], T0 + 1)
    clock = [T0 + 30.0]
    stop = store.purge_periodically(interval_s=0.02, clock=lambda: clock[0])
    try:
        time.sleep(0.1)
        assert store.room_count() == 1  # not yet expired
        clock[0] = T0 + 61
        deadline = time.monotonic() + 5
        while store.room_count() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert store.room_count() == 0
    finally:
        stop.set()


def test_names_anonymous_numbers_and_duplicates(store):
    room = store.create_room("Names", 3600, T0, per_student=True)
    assert store.join(room.code, "  Ada   Lovelace ", T0).name == "Ada Lovelace"
    assert store.join(room.code, None, T0).name == "student 2"
    assert store.join(room.code, "", T0).name == "student 3"
    with pytest.raises(DuplicateName, match="already uses the name 'ada lovelace'"):
        store.join(room.code, "ada lovelace", T0)


def test_published_figures_update_the_student_and_the_intervals(store):
    room = store.create_room("Figures", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    store.publish(room.code, ada.student_id, [probs(3), probs(3, 0.5)], T0 + 1)
    store.publish(room.code, ada.student_id, [], T0 + 2)
    store.publish(room.code, ada.student_id, [probs(4)], T0 + 12)
    data = store.data(room.code, T0 + 13)
    (student,) = data.students
    assert student.faces == 1 and student.label == "Sad" and student.label_since == T0 + 12 and student.no_face_since is None
    intervals = sorted(data.intervals, key=lambda i: i.start)
    assert [(i.start, i.samples, i.samples_with_face, i.faces) for i in intervals] == [(T0, 2, 1, 2), (T0 + 10, 1, 1, 1)]
    assert intervals[0].sums == pytest.approx((probs(3) + probs(3, 0.5)).tolist())


@pytest.mark.parametrize("per_student", [True, False])
def test_samples_sent_together_keep_what_samples_sent_one_by_one_keep(store, per_student):
    """The on-device path's fuller messages (a sample a second, two a message): the same seat, figures and
    intervals as the same samples published one a message, across an interval's end too."""
    rng = np.random.default_rng(5)
    samples = [Sample(T0 + 3.5 + t, [rng.dirichlet(np.ones(7)) for _ in range(int(t) % 3)]) for t in range(14)]
    seen = []
    for together in (False, True):
        room = store.create_room("Samples", 3600, T0, per_student=per_student)
        ada = store.join(room.code, "Ada", T0)
        sender = None if per_student else new_sender()
        for start in range(0, len(samples), 2):
            if together:
                store.publish_samples(room.code, ada.student_id, samples[start : start + 2], "device", sender)
            else:
                for sample in samples[start : start + 2]:
                    store.publish(room.code, ada.student_id, sample.faces, sample.at, "device", sender)
        data = store.data(room.code, T0 + 20)
        seen.append((
            [replace(student, student_id="", name="") for student in data.students],
            [replace(figures, student_id="", name="") for figures in data.senders],
            sorted((i.start, i.samples, i.samples_with_face, i.faces, tuple(np.round(i.sums, 9))) for i in data.intervals),
        ))
    assert len(seen[1][2]) == 2 and seen[1][2][0][1] == 7  # two intervals, a sample a second
    assert seen[0] == seen[1]


def test_a_teachers_view_reads_the_intervals_once_an_interval_and_at_once_after_a_delete(store):
    room = store.create_room("Reader", 3600, T0, per_student=False)
    ada, ben = store.join(room.code, "Ada", T0), store.join(room.code, "Ben", T0)
    senders = {ada.student_id: new_sender(), ben.student_id: new_sender()}
    reader = RoomReader(store, room.code)
    for t in range(1, 26):
        for student_id, sender in senders.items():
            store.publish(room.code, student_id, [probs(3)], T0 + t, "device", sender)
        data = reader.data(T0 + t + 0.5)
        assert {s.student_id: s.figures_at for s in data.students} == {ada.student_id: T0 + t, ben.student_id: T0 + t}
        assert sum(i.samples for i in data.intervals) == 2 * (1 + (t - 1) // INTERVAL_SECONDS * INTERVAL_SECONDS)
    assert reader.reads == 3  # at T0 + 1.5, + 11.5 and + 21.5, not at each of the 25 refreshes
    store.forget_student(room.code, ada.student_id, T0 + 26, senders[ada.student_id])
    data = reader.data(T0 + 26.5)  # within the interval, but figures were deleted: read again
    assert reader.reads == 4 and {i.student_id for i in data.intervals} == {senders[ben.student_id]}
    assert reader.data(T0 + 27).intervals == data.intervals and reader.reads == 4
    assert reader.per_reading("made with 1", lambda: 1) == 1 and reader.per_reading("made with 2", lambda: 2) == 2
    reader.forget()  # the room went: the copy goes, and a later reading reads afresh
    assert reader.per_reading("made with 1", lambda: 3) == 3
    reader.data(T0 + 27.5)
    assert reader.reads == 5


def test_label_and_absence_keep_their_start_time(store):
    room = store.create_room("Since", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    for t in (1, 2, 3):
        store.publish(room.code, ada.student_id, [probs(0)], T0 + t)
    assert store.data(room.code, T0 + 4).students[0].label_since == T0 + 1
    for t in (5, 6):
        store.publish(room.code, ada.student_id, [], T0 + t)
    assert store.data(room.code, T0 + 7).students[0].no_face_since == T0 + 5


def test_a_student_who_left_cannot_publish_nor_come_back_to_the_seat(store):
    """Left stays left: neither figures nor a Pause or Resume from a page still open on the seat (another tab of
    it) bring the seat back; that page is told the student is no longer in the class."""
    room = store.create_room("Leave", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    other_tab = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 3)
    store.set_status(room.code, ada.student_id, "left", T0 + 1)
    with pytest.raises(RoomError, match="no longer in this class"):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 2)
    for status in ("active", "paused"):
        with pytest.raises(RoomError, match="no longer in this class"):
            store.set_status(room.code, ada.student_id, status, T0 + 2)
    other_tab.tell(status="active")
    assert other_tab.ended and other_tab.problem == "You are no longer in this class: join again."
    assert store.student(room.code, ada.student_id, T0 + 3).status == "left"


class PauseClickedMidway:
    """The store, but the student clicks Pause (the page's own callback, from another thread) while a send is
    on its way to the store: after the send read the publisher's state, before it writes the seat."""

    def __init__(self, store, click) -> None:
        self.store, self.click, self.clicked = store, click, threading.Event()

    def __getattr__(self, name):
        return getattr(self.store, name)

    def publish_samples(self, *args, **kwargs) -> None:
        clicking = threading.Thread(target=lambda: (self.click(), self.clicked.set()))
        clicking.start()
        self.clicked.wait(0.5)  # the click may wait for this send, never the other way round
        self.store.publish_samples(*args, **kwargs)


def test_a_pause_clicked_while_figures_are_on_their_way_holds(store):
    """The server path's video thread sends as the student pauses: the send must not write the seat back as
    sharing after the Pause (the student paused, and the teacher would see them sharing)."""
    from webapp.pages.join import set_paused

    room = store.create_room("Race", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    racing = PauseClickedMidway(store, lambda: set_paused(publisher, True))
    publisher = RoomPublisher(racing, room.code, ada.student_id, clock=lambda: T0 + 1.0)
    publisher([face(probs(3))])
    assert racing.clicked.wait(5)
    student = store.student(room.code, ada.student_id, T0 + 2)
    assert publisher.paused and student.status == "paused" and student.mix is None
    publisher([face(probs(3))])  # paused: nothing more is sent
    assert store.student(room.code, ada.student_id, T0 + 2).status == "paused"


def test_a_paused_seat_takes_no_figures_until_the_student_resumes(store):
    """Figures sent for a paused seat (by a page that has not heard of the Pause yet) are refused, not kept."""
    room = store.create_room("Paused", 3600, T0, per_student=False)
    ada = store.join(room.code, "Ada", T0)
    sender = new_sender()
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 1, "device", sender)
    store.set_status(room.code, ada.student_id, "paused", T0 + 2, sender)
    with pytest.raises(SeatPaused, match="paused"):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 3, "device", sender)
    data = store.data(room.code, T0 + 4)
    assert data.students[0].status == "paused" and sum(i.samples for i in data.intervals) == 1
    store.set_status(room.code, ada.student_id, "active", T0 + 5, sender)
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 6, "device", sender)
    assert sum(i.samples for i in store.data(room.code, T0 + 7).intervals) == 2


def test_figures_read_before_a_pause_elsewhere_are_not_written_after_it(redis_process, monkeypatch):
    """Two servers (replicas, or the page and the figures endpoint) on one room: the Pause lands between a
    publish's read of the seat and its write. The publish reads again and is refused. The pause is put in that
    gap by wrapping the store's own step between the two (a real second connection makes it)."""
    import emotion.classroom.redis_store as redis_store

    store, elsewhere = RedisStore(redis_process.url), RedisStore(redis_process.url)
    room = store.create_room("Race", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    between = redis_store.after_publish
    paused: list[bool] = []

    def pause_first(*args, **kwargs):
        if not paused:
            paused.append(True)
            elsewhere.set_status(room.code, ada.student_id, "paused", T0 + 2)
        return between(*args, **kwargs)

    monkeypatch.setattr(redis_store, "after_publish", pause_first)
    with pytest.raises(SeatPaused):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 2)
    student = store.student(room.code, ada.student_id, T0 + 3)
    assert paused and student.status == "paused" and student.mix is None


class OutageOnce:
    """The store, out for its next call only (StoreUnavailable, as RedisStore raises when Redis cannot be reached):
    a stand-in for a brief outage at one chosen moment, which a real redis-server cannot be timed to give."""

    def __init__(self, store) -> None:
        self.store, self.out = store, False

    def __getattr__(self, name):
        call = getattr(self.store, name)
        if not self.out:
            return call
        self.out = False

        def unavailable(*args, **kwargs):
            raise StoreUnavailable()

        return unavailable


def test_a_resume_the_room_missed_is_told_again_with_the_next_figures(store):
    """The store was out when the student clicked Resume: the seat is still paused there, and the next figures
    (the student sharing again) tell it. A seat paused where this page did not pause it (another tab of the
    same seat) is not resumed: this page pauses too."""
    from webapp.pages.join import set_paused

    room = store.create_room("Resume", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    flaky = OutageOnce(store)
    publisher = RoomPublisher(flaky, room.code, ada.student_id, clock=lambda: T0 + 2)
    set_paused(publisher, True)
    flaky.out = True
    with pytest.raises(StoreUnavailable):
        publisher.tell(status="active")  # as set_paused(publisher, False) does, which says it on the page
    publisher.paused = False
    assert store.student(room.code, ada.student_id, T0 + 2).status == "paused"
    publisher([face(probs(3))])
    student = store.student(room.code, ada.student_id, T0 + 3)
    assert student.status == "active" and student.label == "Happy" and publisher.problem is None
    store.set_status(room.code, ada.student_id, "paused", T0 + 3)  # the same seat's other tab pauses
    other_tab = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 4)
    other_tab([face(probs(3))])
    assert other_tab.paused and store.student(room.code, ada.student_id, T0 + 5).status == "paused"


def test_publisher_throttles_and_stops_when_the_room_is_gone(store):
    room = store.create_room("Publisher", 60, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    clock = iter([T0 + 1.0, T0 + 1.1, T0 + 1.2, T0 + 1.4, T0 + 100])
    publisher = RoomPublisher(store, room.code, ada.student_id, interval=0.3, clock=lambda: next(clock))
    for _ in range(4):
        publisher([face(probs(5))])
    assert sum(i.samples for i in store.data(room.code, T0 + 2).intervals) == 2  # at 1.0 and 1.4
    publisher([face(probs(5))])  # at T0 + 100 the room has expired
    assert publisher.ended and "This class has ended" in publisher.problem
    assert "resumes" not in publisher.problem


def test_redis_keys_expire_with_the_room(redis_process):
    import redis

    store = RedisStore(redis_process.url)
    import time

    room = store.create_room("TTL", 120, time.time(), per_student=True)
    store.join(room.code, "Ada", time.time())
    client = redis.Redis.from_url(redis_process.url)
    for key in client.keys(f"room:{room.code}*"):
        assert 0 < client.ttl(key) <= 121


def test_redis_going_away_and_coming_back(tmp_path):
    server = RedisProcess(tmp_path).start()
    store = RedisStore(server.url)
    room = store.create_room("Outage", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    server.stop()
    with pytest.raises(StoreUnavailable) as outage:
        store.data(room.code, T0 + 1)
    assert str(outage.value) == "The class room cannot be reached right now."  # plain words; the detail is logged
    publisher = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 2)
    publisher([face(probs(3))])  # must not raise: the video goes on
    assert "cannot be reached" in publisher.problem and not publisher.paused
    server.start()
    try:
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 3)
        assert store.data(room.code, T0 + 4).students[0].label == "Happy"
    finally:
        server.stop()


@pytest.mark.parametrize("delete_figures", [False, True])
def test_a_leave_chosen_while_redis_is_away_is_told_to_the_room_when_it_is_back(tmp_path, delete_figures):
    server = RedisProcess(tmp_path).start()
    try:
        store = RedisStore(server.url)
        room = store.create_room("Outage", 3600, T0, per_student=True)
        ada, ben = store.join(room.code, "Ada", T0), store.join(room.code, "Ben", T0)
        for student in (ada, ben):
            store.publish(room.code, student.student_id, [probs(3)], T0 + 1)
        server.stop()
        publisher = RoomPublisher(store, room.code, ada.student_id, clock=lambda: T0 + 2)
        with pytest.raises(StoreUnavailable):
            publisher.tell(status="left", forget=delete_figures)
        owed = LeavesOwed(retry_s=0.1)
        owed.add(OwedLeave(store, room.code, ada.student_id, None, delete_figures, at=T0 + 2))
        time.sleep(0.5)
        assert len(owed.owed()) == 1  # tried and kept while the store is out
        server.start()
        deadline = time.monotonic() + 10
        while owed.owed() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert owed.owed() == []
        data = store.data(room.code, T0 + 3)
        if delete_figures:
            assert [s.name for s in data.students] == ["Ben"]
            assert {interval.student_id for interval in data.intervals} == {ben.student_id}  # Ada's figures deleted
        else:
            assert {s.name: s.status for s in data.students} == {"Ada": "left", "Ben": "active"}
        owed.add(OwedLeave(store, room.code, ada.student_id, None, delete_figures, at=T0 + 4))  # told twice: nothing more to do
        while owed.owed() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert owed.owed() == []
    finally:
        server.stop()


def test_a_name_is_free_again_once_its_student_left_or_dropped(store):
    room = store.create_room("Names", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    with pytest.raises(DuplicateName):
        store.join(room.code, "ADA", T0 + 1)  # two live students never share a name
    store.set_status(room.code, ada.student_id, "left", T0 + 2)
    assert store.join(room.code, "Ada", T0 + 3).name == "Ada"
    ben = store.join(room.code, "Ben", T0 + 3)
    store.publish(room.code, ben.student_id, [probs(3)], T0 + 4)
    with pytest.raises(DuplicateName):
        store.join(room.code, "ben", T0 + 4 + LEAVE_AFTER_SECONDS)
    assert store.join(room.code, "ben", T0 + 5 + LEAVE_AFTER_SECONDS).name == "ben"  # Ben's stream dropped


def test_a_returning_student_gets_their_own_seat_back(store):
    room = store.create_room("Reload", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 1)
    back = store.rejoin(room.code, ada.student_id, T0 + 60)  # a reloaded tab, after the stream dropped
    assert (back.student_id, back.name, back.status) == (ada.student_id, "Ada", "active")
    assert [s.name for s in store.data(room.code, T0 + 61).students] == ["Ada"]
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 62)
    store.set_status(room.code, ada.student_id, "left", T0 + 63)
    with pytest.raises(RoomError, match="no longer in this class"):
        store.rejoin(room.code, ada.student_id, T0 + 64)
    with pytest.raises(RoomError, match="no longer in this class"):
        store.rejoin(room.code, "not-a-seat", T0 + 64)


def test_a_returning_student_whose_name_was_taken_must_join_again(store):
    room = store.create_room("Taken", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    store.join(room.code, "ada", T0 + 1 + LEAVE_AFTER_SECONDS)  # Ada dropped; someone took the name
    with pytest.raises(SeatTaken, match="someone else joined as 'Ada'"):
        store.rejoin(room.code, ada.student_id, T0 + 2 + LEAVE_AFTER_SECONDS)


def test_time_paused_is_counted(store):
    room = store.create_room("Pause", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    store.set_status(room.code, ada.student_id, "paused", T0 + 10)
    store.set_status(room.code, ada.student_id, "paused", T0 + 20)  # pressing twice does not restart the pause
    store.set_status(room.code, ada.student_id, "active", T0 + 40)  # Resume sharing
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 41)
    store.set_status(room.code, ada.student_id, "paused", T0 + 50)
    student = store.data(room.code, T0 + 55).students[0]
    assert (student.paused_seconds, student.paused_since, student.status) == (30.0, T0 + 50, "paused")


def test_ending_a_class_deletes_the_room_and_its_figures_and_its_links_say_so(store):
    room = store.create_room("Ended", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 1)
    store.end_room(room.code, T0 + 2)
    for ask in (
        lambda: store.room(room.code, T0 + 3),
        lambda: store.data(room.code, T0 + 3),
        lambda: store.join(room.code, "Ben", T0 + 3),
        lambda: store.rejoin(room.code, ada.student_id, T0 + 3),
        lambda: store.publish(room.code, ada.student_id, [probs(3)], T0 + 3),
        lambda: store.set_status(room.code, ada.student_id, "paused", T0 + 3),
    ):
        with pytest.raises(RoomEnded, match="This class has ended: the teacher closed its room"):
            ask()
    clock = iter([T0 + 4.0])
    publisher = RoomPublisher(store, room.code, ada.student_id, clock=lambda: next(clock))
    assert not publisher.check_room() and publisher.ended and "the teacher closed its room" in publisher.problem
    if isinstance(store, MemoryStore):  # Redis expires its flag by its own clock: the next test
        # Once the room would have expired, nothing is left of it at all: an unknown code again.
        with pytest.raises(RoomNotFound, match="no open class with the code"):
            store.room(room.code, T0 + 3601)


def test_an_ended_room_leaves_nothing_in_redis_but_a_flag_that_expires(redis_process):
    import redis

    store = RedisStore(redis_process.url)
    now = time.time()  # real time: Redis expires the flag by the clock
    room = store.create_room("Ended", 600, now, per_student=True)
    ada = store.join(room.code, "Ada", now)
    store.publish(room.code, ada.student_id, [probs(3)], now)
    store.end_room(room.code, now + 1)
    client = redis.Redis.from_url(redis_process.url, decode_responses=True)
    assert client.keys(f"room:{room.code}*") == [f"room:{room.code}:ended"]
    assert client.get(f"room:{room.code}:ended") == "1"  # no title, no name, no figure
    assert 0 < client.ttl(f"room:{room.code}:ended") <= 601  # expires when the room would have (a whole second)


def test_a_write_racing_the_end_of_its_class_is_not_written(redis_process):
    """A student's figures in flight when the teacher ends the class must not bring the room's keys back."""
    import redis

    store = RedisStore(redis_process.url)
    now = time.time()
    room = store.create_room("Race", 600, now, per_student=True)
    ada = store.join(room.code, "Ada", now)
    original = store._room_of  # the store's reading of the room it read, between its reads and its writes

    def end_meanwhile(r, code, fields, at):
        live = original(r, code, fields, at)
        RedisStore(redis_process.url).end_room(code, now)  # another replica's teacher ends the class now
        return live

    store._room_of = end_meanwhile  # type: ignore[method-assign]
    with pytest.raises(RoomEnded):
        store.publish(room.code, ada.student_id, [probs(3)], now)
    client = redis.Redis.from_url(redis_process.url, decode_responses=True)
    assert client.keys(f"room:{room.code}*") == [f"room:{room.code}:ended"]


def test_leave_and_delete_removes_the_students_figures_only(store):
    room = store.create_room("Forget", 3600, T0, per_student=True)
    ada, ben = store.join(room.code, "Ada", T0), store.join(room.code, "Ben", T0)
    for t in (1, 11, 21):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + t)
        store.publish(room.code, ben.student_id, [probs(4)], T0 + t)
    store.forget_student(room.code, ada.student_id, T0 + 22)
    data = store.data(room.code, T0 + 23)
    assert [s.name for s in data.students] == ["Ben"]
    assert {i.student_id for i in data.intervals} == {ben.student_id} and len(data.intervals) == 3
    assert ada.student_id not in report_csv(data) and "Ada" not in report_csv(data)
    with pytest.raises(RoomError, match="no longer in this class"):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 24)
    assert store.join(room.code, "Ada", T0 + 25).name == "Ada"  # the name is free again


def test_a_student_shows_figures_only_while_sharing(store):
    room = store.create_room("Sharing", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)

    def row(at: float) -> dict:
        data = store.data(room.code, at)
        return roster(data, at, Thresholds()).iloc[0].to_dict()

    assert row(T0 + 1)["state"] == "not sharing"  # joined, nothing sent yet
    store.publish(room.code, ada.student_id, [probs(3), probs(3)], T0 + 2, path="device")
    assert row(T0 + 3) == {"student": "Ada", "state": "active", "faces read": "on device", "faces in view": "2",
                           "emotion": "Happy"}
    store.set_path(room.code, ada.student_id, "server", T0 + 4)  # switched, not started yet
    assert row(T0 + 5) == {"student": "Ada", "state": "not sharing", "faces read": "on server", "faces in view": "–",
                           "emotion": "–"}
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 6, path="server")
    store.set_status(room.code, ada.student_id, "paused", T0 + 7)
    assert row(T0 + 8) == {"student": "Ada", "state": "paused", "faces read": "on server", "faces in view": "–",
                           "emotion": "–"}
    store.set_status(room.code, ada.student_id, "active", T0 + 9)
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 10, path="server")
    assert row(T0 + 40)["state"] == "dropped" and row(T0 + 40)["emotion"] == "–"  # a closed tab shows no stale figures
    assert store.rejoin(room.code, ada.student_id, T0 + 41).path == "server"  # a reload finds the path it chose
    assert row(T0 + 42)["state"] == "not sharing"


def test_a_class_only_room_keeps_no_figure_under_a_name(store):
    """The default room: a student's seat holds their name and sharing state; their figures go under an id only
    their page knows, and Leave and delete takes them out with that id."""
    room = store.create_room("Class only", 3600, T0)
    assert not room.per_student and not store.room(room.code, T0).per_student
    ada = store.join(room.code, "Ada", T0)
    with pytest.raises(ValueError, match="only under a sender id"):
        store.publish(room.code, ada.student_id, [probs(3)], T0 + 1)
    sender = new_sender()
    store.publish(room.code, ada.student_id, [probs(3), probs(3)], T0 + 1, "device", sender)
    store.publish(room.code, ada.student_id, [probs(3)], T0 + 11, "device", sender)
    data = store.data(room.code, T0 + 12)
    (seat,) = data.students
    assert seat.name == "Ada" and seat.figures_at == T0 + 11 and seat.path == "device"
    assert (seat.faces, seat.mix, seat.label) == (0, None, None)  # the seat holds no figure
    (figures,) = data.senders
    assert figures.student_id == sender and figures.name == "" and figures.faces == 1 and figures.label == "Happy"
    assert {i.student_id for i in data.intervals} == {sender}  # never the seat's id
    store.set_status(room.code, ada.student_id, "paused", T0 + 13, sender)
    assert store.data(room.code, T0 + 14).senders[0].mix is None  # paused: the class mix no longer counts them
    store.forget_student(room.code, ada.student_id, T0 + 15, sender)
    gone = store.data(room.code, T0 + 16)
    assert (gone.students, gone.senders, gone.intervals) == ([], [], [])


def test_the_deployments_room_policy_and_its_limits():
    assert RoomPolicy.from_settings({}) == RoomPolicy(12, 5)
    with pytest.raises(ValueError, match="EMOTION_ROOM_MAX_HOURS"):
        RoomPolicy.from_settings({"EMOTION_ROOM_MAX_HOURS": 0})  # a number in secrets.toml, refused as in the environment
    policy = RoomPolicy.from_settings({"EMOTION_ROOM_MAX_HOURS": "4", "EMOTION_MIN_CLASS_STUDENTS": "8"})
    assert policy.hours_offered() == (1, 2, 3, 4) and policy.min_students == 8
    assert "at least 8 students" in policy.kept(per_student=False) and "under their name" in policy.kept(per_student=True)
    assert "4 hours after it opens" in policy.retention(per_student=False, hours=4)
    for wrong in ({"EMOTION_ROOM_MAX_HOURS": "24"}, {"EMOTION_ROOM_MAX_HOURS": "two"}, {"EMOTION_MIN_CLASS_STUDENTS": "2"}):
        with pytest.raises(ValueError, match="must be a whole number"):
            RoomPolicy.from_settings(wrong)  # a teacher-facing limit is never quietly widened
