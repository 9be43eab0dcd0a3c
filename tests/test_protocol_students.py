"""The class-load bench's protocol students (bench/streamlit_client.py) against the real server.

They stand in for browser pages in `bench/classroom_load.py --clients protocol`, so they must do what a
page does: take a seat, mount the camera component, and have each change of its state reach the room.
Real `streamlit run app.py`, real redis-server; if Streamlit's messages change, this fails first.
"""

from __future__ import annotations

import time

from bench.classroom_load import faces_in_store
from bench.streamlit_client import FacePlan, StudentCrowd
from emotion.classroom.analytics import Thresholds, connected
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
            # each change reruns the sharing fragment only, as a page's does, not the whole page
            assert all(s.fragment_id for s in crowd.students)
            wait_for_faces(store, room.code, 2)
            students = store.data(room.code, time.time()).students
            assert sorted(s.name for s in students) == ["Ana", "Ben"] and all(s.path == "device" for s in students)
            crowd.schedule(time.time() + 0.5, 0)
            wait_for_faces(store, room.code, 0)
            now = time.time()  # still sending, with no face: not gone quiet
            assert len(connected(store.data(room.code, now), now, Thresholds())) == 2
            assert crowd.sent() >= 4 and crowd.errors() == []
        finally:
            crowd.close()
