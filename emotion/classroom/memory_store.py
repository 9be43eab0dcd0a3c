"""Rooms in this server process's memory: the default, for one machine with nothing to install."""

from __future__ import annotations

import logging
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np

from emotion.classroom.records import (
    DuplicateName,
    Interval,
    Room,
    RoomData,
    RoomEnded,
    RoomNotFound,
    Sample,
    Student,
    add_sample,
    after_publish,
    check_may_publish,
    clean_name,
    figures_key,
    interval_start,
    name_holder,
    new_room,
    new_student,
    normalise_code,
    returning,
    sender_of,
    with_path,
    with_status,
)

LOGGER = logging.getLogger(__name__)


class MemoryStore:
    """Rooms in this server process's memory: the default, for one machine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, Room] = {}
        self._students: dict[str, dict[str, Student]] = {}
        self._intervals: dict[str, dict[tuple[str, float], Interval]] = {}  # (sender id, interval start)
        self._senders: dict[str, dict[str, Student]] = {}  # a class-only room's senders (none in a per-student room)
        self._numbers: dict[str, int] = {}
        self._ended: dict[str, float] = {}  # code -> when the ended room would have expired: its links say it ended

    def room_count(self) -> int:
        """Rooms kept, expired ones included until the next purge."""
        return len(self._rooms)

    def _purge(self, now: float) -> None:
        for code in [code for code, room in self._rooms.items() if room.expires <= now]:
            self._delete(code)
        for code in [code for code, expires in self._ended.items() if expires <= now]:
            del self._ended[code]

    def _delete(self, code: str) -> None:
        del self._rooms[code], self._students[code], self._intervals[code], self._numbers[code], self._senders[code]

    def purge_expired(self, now: float) -> None:
        """Delete every expired room and its figures (each call also does it, but a quiet server makes none)."""
        with self._lock:
            self._purge(now)

    def purge_periodically(self, interval_s: float = 60.0, clock: Callable[[], float] = time.time) -> threading.Event:
        """Purge expired rooms every `interval_s` seconds on a daemon thread; set the returned event to stop it.

        A room's figures must go when it expires, not when the next student or teacher happens by.
        """
        stop = threading.Event()
        store = weakref.ref(self)  # the thread must not keep a store alive that the app has let go

        def purge_until_stopped() -> None:
            while not stop.wait(interval_s):
                alive = store()
                if alive is None:
                    return
                try:
                    alive.purge_expired(clock())
                except Exception:  # one failed purge must not end purging
                    LOGGER.exception("purging expired class rooms failed; trying again in %s s", interval_s)
                del alive

        threading.Thread(target=purge_until_stopped, name="room-purger", daemon=True).start()
        return stop

    def _live_room(self, code: str, now: float) -> Room:
        self._purge(now)
        room = self._rooms.get(normalise_code(code))
        if room is None:
            raise RoomEnded() if normalise_code(code) in self._ended else RoomNotFound.for_code(normalise_code(code))
        return room

    def create_room(self, title: str, ttl_seconds: float, now: float, per_student: bool = False) -> Room:
        with self._lock:
            self._purge(now)
            room = new_room(title, ttl_seconds, now, per_student)
            while room.code in self._rooms or room.code in self._ended:
                room = new_room(title, ttl_seconds, now, per_student)
            code = room.code
            self._rooms[code], self._students[code], self._intervals[code], self._numbers[code] = room, {}, {}, 0
            self._senders[code] = {}
            return room

    def room(self, code: str, now: float) -> Room:
        with self._lock:
            return self._live_room(code, now)

    def join(self, code: str, name: str | None, now: float) -> Student:
        with self._lock:
            room = self._live_room(code, now)
            students = self._students[room.code]
            name = clean_name(name)
            if name and name_holder(students.values(), name, now) is not None:
                raise DuplicateName.for_name(name)
            self._numbers[room.code] += 1
            student = new_student(name, self._numbers[room.code], now)
            students[student.student_id] = student
            return student

    def rejoin(self, code: str, student_id: str, now: float) -> Student:
        with self._lock:
            room = self._live_room(code, now)
            students = self._students[room.code]
            student = returning(students.get(student_id), students.values(), now)
            students[student_id] = student
            return student

    def publish(
        self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float, path: str = "server", sender: str | None = None
    ) -> None:
        self.publish_samples(code, student_id, [Sample(now, faces)], path, sender)

    def publish_samples(
        self, code: str, student_id: str, samples: Sequence[Sample], path: str = "server", sender: str | None = None
    ) -> None:
        if not samples:
            return
        with self._lock:
            room = self._live_room(code, max(sample.at for sample in samples))
            students = self._students[room.code]
            student = check_may_publish(students.get(student_id))
            figures_id = figures_key(room, student_id, sender)
            # Worked out on copies and stored at the end: a sample that fails leaves the room as it was, as in Redis.
            figures = self._senders[room.code].get(figures_id)
            intervals: dict[tuple[str, float], Interval] = {}
            for sample in samples:
                student, figures = after_publish(room, student, figures, sample.faces, sample.at, path, figures_id)
                key = (figures_id, interval_start(sample.at))
                kept = intervals.get(key) or self._intervals[room.code].get(key)
                fresh = replace(kept, sums=list(kept.sums)) if kept is not None else Interval(figures_id, key[1])
                intervals[key] = add_sample(fresh, sample.faces)
            students[student_id] = student
            if figures is not None:
                self._senders[room.code][figures_id] = figures
            self._intervals[room.code].update(intervals)

    def set_status(self, code: str, student_id: str, status: str, now: float, sender: str | None = None) -> None:
        with self._lock:
            room = self._live_room(code, now)
            student = self._students[room.code].get(student_id)
            if student is not None:
                self._students[room.code][student_id] = with_status(student, status, now)
            senders = self._senders[room.code]
            if not room.per_student and sender in senders:
                senders[sender] = with_status(senders[sender], status, now)

    def student(self, code: str, student_id: str, now: float) -> Student | None:
        with self._lock:
            return self._students[self._live_room(code, now).code].get(student_id)

    def set_path(self, code: str, student_id: str, path: str, now: float) -> None:
        with self._lock:
            room = self._live_room(code, now)
            student = self._students[room.code].get(student_id)
            if student is not None:
                self._students[room.code][student_id] = with_path(student, path, now)

    def forget_student(self, code: str, student_id: str, now: float, sender: str | None = None) -> None:
        with self._lock:
            room = self._live_room(code, now)
            self._students[room.code].pop(student_id, None)
            self._rooms[room.code] = replace(room, forgotten=room.forgotten + 1)
            figures_id = sender_of(room, student_id, sender)
            self._senders[room.code].pop(figures_id or "", None)
            intervals = self._intervals[room.code]
            for key in [key for key in intervals if key[0] == figures_id]:
                del intervals[key]

    def end_room(self, code: str, now: float) -> None:
        with self._lock:
            room = self._live_room(code, now)
            self._delete(room.code)
            self._ended[room.code] = room.expires

    def data(self, code: str, now: float, with_intervals: bool = True) -> RoomData:
        with self._lock:
            room = self._live_room(code, now)
            kept = self._intervals[room.code].values() if with_intervals else ()
            intervals = [replace(i, sums=list(i.sums)) for i in kept]
            students = list(self._students[room.code].values())
            senders = students if room.per_student else list(self._senders[room.code].values())
            return RoomData(room, students, intervals, senders)
