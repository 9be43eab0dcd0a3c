"""The class-load bench's protocol students (bench/streamlit_client.py) against the real server.

They stand in for browser pages in `bench/classroom_load.py --clients protocol`, so they must do what a
page does: take a seat, mount the camera component, and have each change of its state reach the room.
Real `streamlit run app.py`, real redis-server; if Streamlit's messages change, this fails first.
"""

from __future__ import annotations

import time

from bench.classroom_load import READ_METRIC, faces_in_store
from bench.streamlit_client import FacePlan, StudentCrowd
from emotion.classroom.analytics import ROSTER_TABLE_LIMIT, Thresholds, connected
from emotion.classroom.redis_store import RedisStore
from tests.support.browser import streamlit_server


def wait_for_faces(store: RedisStore, code: str, expected: int, timeout_s: float = 20) -> float:
    started = time.monotonic()
    while faces_in_store(store, code) != expected:
        assert time.monotonic() - started < timeout_s, f"the room shows {faces_in_store(store, code)} faces, not {expected}"
        time.sleep(0.1)
    return time.monotonic() - started


def test_protocol_students_share_figures_through_the_real_server(redis_process, tmp_path):
    store = RedisStore(redis_process.url)
    with streamlit_server({"REDIS_URL": redis_process.url}, log_path=tmp_path / "streamlit.log") as server:
        now = time.time()
        room = store.create_room("Protocol", 600, now)
        seats = [store.join(room.code, name, now).student_id for name in ("Ana", "Ben")]
        crowd = StudentCrowd(server.url, room.code, seats, FacePlan(faces=1))
        try:
            crowd.wait_mounted(timeout_s=60)
            assert crowd.errors() == []
            # the camera is drawn by the sharing fragment: a change of the room's answer reruns it alone
            assert all(s.fragment_id for s in crowd.students)
            assert all(s.send_to and s.send_to["url"] == "api/figures" for s in crowd.students)
            wait_for_faces(store, room.code, 2)
            students = store.data(room.code, time.time()).students
            assert sorted(s.name for s in students) == ["Ana", "Ben"] and all(s.path == "device" for s in students)
            crowd.schedule(time.time() + 0.5, 0)
            wait_for_faces(store, room.code, 0)
            now = time.time()  # still sending, with no face: not gone quiet
            assert len(connected(store.data(room.code, now), now, Thresholds())) == 2
            assert crowd.sent() >= 4 and crowd.errors() == []
            assert set(crowd.outcomes()) == {"kept"}  # every post kept, none refused or too soon
        finally:
            crowd.close()


def test_a_large_class_roster_scrolls_with_the_students_not_sharing_first(redis_process, browser, tmp_path):
    """#29's lecture: past ROSTER_TABLE_LIMIT students the teacher's roster is a scrolling grid (only the rows in
    sight are drawn), the students not sharing at its top; the counts still count everyone."""
    store = RedisStore(redis_process.url)
    with streamlit_server({"REDIS_URL": redis_process.url}, log_path=tmp_path / "streamlit.log") as server:
        now = time.time()
        room = store.create_room("Lecture", 600, now)
        sharing = [store.join(room.code, f"Pupil {n:02d}", now).student_id for n in range(ROSTER_TABLE_LIMIT + 3)]
        idle = [store.join(room.code, name, now).student_id for name in ("Zed", "Yan")]  # seated, never sharing
        crowd = StudentCrowd(server.url, room.code, sharing, FacePlan(faces=1))
        teacher = browser.new_context().new_page()
        try:
            crowd.wait_mounted(timeout_s=120)
            wait_for_faces(store, room.code, len(sharing), timeout_s=60)
            teacher.goto(f"{server.url}/teach?room={room.code}&key={room.teacher_key}")
            grid = teacher.locator('[data-testid="stDataFrame"]')
            grid.wait_for(timeout=30_000)
            assert teacher.locator('[data-testid="stTable"]').count() == 0
            first = [grid.locator(f'[data-testid="glide-cell-0-{row}"]').first.inner_text() for row in range(2)]
            assert first == ["Yan", "Zed"]  # not sharing, first, in joining order (joined together: by name)
            assert grid.locator('[data-testid="glide-cell-1-0"]').first.inner_text() == "not sharing"
            assert crowd.errors() == [] and len(idle) == 2
        finally:
            teacher.context.close()
            crowd.close()


def test_students_spread_over_two_replicas_are_all_seen_by_a_teacher_on_either(redis_process, browser, tmp_path):
    """#29, beyond one machine: two servers on one redis-server, half the class on each; a teacher's page on each
    counts the whole class, and follows a change made by all of them within the same few seconds."""
    store = RedisStore(redis_process.url)
    env = {"REDIS_URL": redis_process.url}
    with (
        streamlit_server(env, log_path=tmp_path / "a.log") as replica_a,
        streamlit_server(env, log_path=tmp_path / "b.log") as replica_b,
    ):
        now = time.time()
        room = store.create_room("Two replicas", 600, now)
        seats = [store.join(room.code, f"Pupil {n}", now).student_id for n in range(6)]
        plan = FacePlan(faces=1)
        spread = ((replica_a, seats[:3]), (replica_b, seats[3:]))
        crowds = [StudentCrowd(replica.url, room.code, half, plan) for replica, half in spread]
        teachers = [browser.new_context().new_page() for _ in range(2)]
        try:
            for crowd in crowds:
                crowd.wait_mounted(timeout_s=60)
            for teacher, replica in zip(teachers, (replica_a, replica_b)):
                teacher.goto(f"{replica.url}/teach?room={room.code}&key={room.teacher_key}")

            def seen(label: str, expected: str) -> list[float]:
                """Seconds until each teacher's page shows `expected` under `label`."""
                started, times = time.monotonic(), [0.0, 0.0]
                while not all(times):
                    for i, teacher in enumerate(teachers):
                        if not times[i] and teacher.evaluate(READ_METRIC, label) == expected:
                            times[i] = time.monotonic() - started
                    assert time.monotonic() - started < 45, f"{label}: {[t.evaluate(READ_METRIC, label) for t in teachers]}"
                    time.sleep(0.2)
                return times

            seen("Connected", "6")
            seen("Face in view", "6")
            plan.schedule(time.time() + 0.5, 0)
            lags = seen("Face in view", "0")
            assert max(lags) < 10 and abs(lags[0] - lags[1]) < 4, lags
            assert all(crowd.errors() == [] for crowd in crowds)
        finally:
            for teacher in teachers:
                teacher.context.close()
            for crowd in crowds:
                crowd.close()
