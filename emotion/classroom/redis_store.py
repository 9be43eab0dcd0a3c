"""Rooms in Redis, shared by every replica of the app; every key expires with its room."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import asdict
from typing import Any, NamedTuple, TypeVar

import numpy as np

from emotion.classroom.records import (
    DuplicateName,
    Interval,
    Room,
    RoomData,
    RoomEnded,
    RoomNotFound,
    Sample,
    StoreUnavailable,
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

T = TypeVar("T")
LOGGER = logging.getLogger(__name__)


class RoomKeys(NamedTuple):
    """The Redis keys of one room: a hash each."""

    room: str  # title, teacher key, times, the next student number, the count of students' choices (status, path)
    students: str  # student id -> Student as JSON
    names: str  # case-folded display name -> the id of the student who last took it
    intervals: str  # "sender id|interval start" -> Interval as JSON
    senders: str  # a class-only room's sender id -> its figures and state as a Student (nameless) in JSON
    ended: str  # a plain flag, kept until the room would have expired, once the teacher ended it

    @classmethod
    def of(cls, code: str) -> RoomKeys:
        room = f"room:{code}"
        return cls(room, f"{room}:students", f"{room}:name_holders", f"{room}:intervals", f"{room}:senders", f"{room}:ended")

    def figures(self) -> tuple[str, str, str, str, str]:
        """Every key that holds the room or its figures (all but the flag that it ended)."""
        return self.room, self.students, self.names, self.intervals, self.senders


class RedisStore:
    """Rooms in Redis, shared by every replica of the app. Keys expire with their room."""

    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True)
        self._errors = (redis.ConnectionError, redis.TimeoutError)
        self._watch_error = redis.WatchError

    def _call(self, fn: Callable[[Any], T]) -> T:
        try:
            return fn(self._redis)
        except self._errors as error:
            LOGGER.warning("the class-room store (Redis) cannot be reached: %s", error)
            raise StoreUnavailable() from None

    def _live_room(self, r: Any, code: str, now: float) -> Room:
        code = normalise_code(code)
        return self._room_of(r, code, r.hgetall(RoomKeys.of(code).room) if code else {}, now)

    def _room_of(self, r: Any, code: str, fields: dict[str, str], now: float) -> Room:
        """The room its key's fields describe, if it is live (RoomEnded or RoomNotFound if not)."""
        if not fields or float(fields["expires"]) <= now:
            raise RoomEnded() if code and r.exists(RoomKeys.of(code).ended) else RoomNotFound.for_code(code)
        per_student = fields.get("per_student") == "1"
        created, expires, forgotten = float(fields["created"]), float(fields["expires"]), int(fields.get("forgotten", 0))
        return Room(code, fields["title"], fields["teacher_key"], created, expires, per_student, forgotten)

    def create_room(self, title: str, ttl_seconds: float, now: float, per_student: bool = False) -> Room:
        def create(r: Any) -> Room:
            while True:
                room = new_room(title, ttl_seconds, now, per_student)
                key = RoomKeys.of(room.code).room
                if not r.exists(RoomKeys.of(room.code).ended) and r.hsetnx(key, "teacher_key", room.teacher_key):
                    fields = {"title": room.title, "created": room.created, "expires": room.expires, "next_number": 0,
                              "per_student": int(per_student)}
                    pipe = r.pipeline()
                    pipe.hset(key, mapping=fields)
                    pipe.expireat(key, math.ceil(room.expires))
                    pipe.execute()
                    return room

        return self._call(create)

    def room(self, code: str, now: float) -> Room:
        return self._call(lambda r: self._live_room(r, code, now))

    def _change(self, code: str, now: float, change: Callable[[Any, Room, RoomKeys], T], *also_watched: str) -> T:
        """Run `change` as one transaction on a live room: it reads at once, then queues its writes after `multi()`.

        The room's key is watched (and any of `also_watched`): if the teacher ends the class, or the room
        expires, between the reads and the writes, nothing is written, so no student's figures outlive
        their room; the change is tried again and finds the room gone.
        """
        keys = RoomKeys.of(normalise_code(code))
        watched = [keys.room, *(getattr(keys, name) for name in also_watched)]
        return self._watched(watched, lambda r, pipe: change(pipe, self._live_room(pipe, code, now), keys))

    def _watched(self, watched: Sequence[str], body: Callable[[Any, Any], T]) -> T:
        """`body(r, pipe)` as one transaction: it reads, then queues its writes after `pipe.multi()`; run again
        whenever a `watched` key changed between its reads and its writes."""

        def attempt(r: Any) -> T:
            with r.pipeline() as pipe:
                while True:
                    try:
                        pipe.watch(*watched)
                        result = body(r, pipe)
                        pipe.execute()
                        return result
                    except self._watch_error:
                        continue

        return self._call(attempt)

    def join(self, code: str, name: str | None, now: float) -> Student:
        cleaned = clean_name(name)

        def join(pipe: Any, room: Room, keys: RoomKeys) -> Student:
            # Two students asking for one name at once: the second sees the first's claim and tries again.
            if cleaned:
                holder_id = pipe.hget(keys.names, cleaned.casefold())
                holder = self._student(pipe, room.code, holder_id) if holder_id else None
                if holder is not None and name_holder([holder], cleaned, now) is not None:
                    raise DuplicateName.for_name(cleaned)
            student = new_student(cleaned, int(pipe.hget(keys.room, "next_number") or 0) + 1, now)
            pipe.multi()
            pipe.hincrby(keys.room, "next_number", 1)
            pipe.hset(keys.students, student.student_id, json.dumps(asdict(student)))
            if cleaned:
                pipe.hset(keys.names, cleaned.casefold(), student.student_id)
            for key in (keys.students, keys.names):
                pipe.expireat(key, math.ceil(room.expires))
            return student

        return self._change(code, now, join, "names")

    def rejoin(self, code: str, student_id: str, now: float) -> Student:
        def rejoin(pipe: Any, room: Room, keys: RoomKeys) -> Student:
            students = [_parse_student(raw) for raw in pipe.hvals(keys.students)]
            student = returning(next((s for s in students if s.student_id == student_id), None), students, now)
            pipe.multi()
            pipe.hset(keys.students, student_id, json.dumps(asdict(student)))
            return student

        return self._change(code, now, rejoin)

    def _student(self, r: Any, code: str, student_id: str) -> Student | None:
        raw = r.hget(RoomKeys.of(code).students, student_id)
        return None if raw is None else _parse_student(raw)

    def publish(
        self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float, path: str = "server", sender: str | None = None
    ) -> None:
        self.publish_samples(code, student_id, [Sample(now, faces)], path, sender)

    def publish_samples(
        self, code: str, student_id: str, samples: Sequence[Sample], path: str = "server", sender: str | None = None
    ) -> None:
        """Samples of a student's faces, oldest first. The store's busiest call (each sharing student, every second
        or two), so its reads go to Redis in one round trip, made after the room's key is watched: a class ended
        meanwhile still gets nothing written. A student's seat is written by their own session and, for the figures
        their browser posts, by the figures endpoint; each of their choices counts in the room's key, so a publish
        that read the seat before one reads it again."""
        if not samples:
            return
        code = normalise_code(code)
        keys = RoomKeys.of(code)
        starts = sorted({f"{interval_start(sample.at):.0f}" for sample in samples})
        candidates = [student_id] + ([sender] if sender is not None and sender != student_id else [])

        def write(r: Any, pipe: Any) -> None:
            reads = r.pipeline(transaction=False)  # another connection: `pipe`, watching, runs each command alone
            reads.hgetall(keys.room)
            reads.hget(keys.students, student_id)
            reads.hmget(keys.intervals, [f"{key}|{start}" for key in candidates for start in starts])
            if sender is not None:
                reads.hget(keys.senders, sender)
            fields, raw_student, raw_intervals, *raw_before = reads.execute()
            room = self._room_of(r, code, fields, max(sample.at for sample in samples))
            student = check_may_publish(None if raw_student is None else _parse_student(raw_student))
            figures_id = figures_key(room, student_id, sender)
            mine = raw_intervals[candidates.index(figures_id) * len(starts) :][: len(starts)]
            intervals = {start: Interval(**json.loads(raw)) for start, raw in zip(starts, mine) if raw}
            last_figures = None if room.per_student else next(iter(raw_before), None)
            figures = None if last_figures is None else _parse_student(last_figures)
            for sample in samples:
                student, figures = after_publish(room, student, figures, sample.faces, sample.at, path, figures_id)
                start_s = interval_start(sample.at)
                start = f"{start_s:.0f}"
                intervals[start] = add_sample(intervals.get(start) or Interval(figures_id, start_s), sample.faces)
            pipe.multi()
            pipe.hset(keys.students, student_id, json.dumps(asdict(student)))
            if figures is not None:
                pipe.hset(keys.senders, figures_id, json.dumps(asdict(figures)))
                pipe.expireat(keys.senders, math.ceil(room.expires))
            pipe.hset(keys.intervals, mapping={f"{figures_id}|{start}": json.dumps(asdict(i)) for start, i in intervals.items()})
            pipe.expireat(keys.intervals, math.ceil(room.expires))

        self._watched([keys.room], write)

    def set_status(self, code: str, student_id: str, status: str, now: float, sender: str | None = None) -> None:
        """A change of status also counts in the room's key (`choices`), which every publish watches: figures that
        read the seat before a Pause are then read again, and refused, rather than written after it. So does a
        change of path (set_path). A seat that left stays gone (NotInRoom)."""

        def set_status(pipe: Any, room: Room, keys: RoomKeys) -> None:
            student = self._student(pipe, room.code, student_id)
            raw_figures = None if room.per_student or sender is None else pipe.hget(keys.senders, sender)
            seat = None if student is None else with_status(student, status, now)
            figures = None if raw_figures is None else with_status(_parse_student(raw_figures), status, now)
            pipe.multi()
            if student is not None and student.status != status:
                pipe.hincrby(keys.room, "choices", 1)
            if seat is not None:
                pipe.hset(keys.students, student_id, json.dumps(asdict(seat)))
            if figures is not None:
                pipe.hset(keys.senders, sender, json.dumps(asdict(figures)))

        self._change(code, now, set_status)

    def student(self, code: str, student_id: str, now: float) -> Student | None:
        return self._call(lambda r: self._student(r, self._live_room(r, code, now).code, student_id))

    def set_path(self, code: str, student_id: str, path: str, now: float) -> None:
        def set_path(pipe: Any, room: Room, keys: RoomKeys) -> None:
            student = self._student(pipe, room.code, student_id)
            pipe.multi()
            if student is not None:
                pipe.hincrby(keys.room, "choices", 1)  # figures read on the path before are read again
                pipe.hset(keys.students, student_id, json.dumps(asdict(with_path(student, path, now))))

        self._change(code, now, set_path)

    def forget_student(self, code: str, student_id: str, now: float, sender: str | None = None) -> None:
        def forget(pipe: Any, room: Room, keys: RoomKeys) -> None:
            figures_id = sender_of(room, student_id, sender)
            mine = [name for name in pipe.hkeys(keys.intervals) if name.split("|", 1)[0] == figures_id]
            pipe.multi()
            pipe.hincrby(keys.room, "forgotten", 1)
            pipe.hdel(keys.students, student_id)
            if figures_id is not None:
                pipe.hdel(keys.senders, figures_id)
            if mine:
                pipe.hdel(keys.intervals, *mine)

        self._change(code, now, forget)

    def end_room(self, code: str, now: float) -> None:
        def end(pipe: Any, room: Room, keys: RoomKeys) -> None:
            pipe.multi()
            pipe.delete(*keys.figures())
            pipe.set(keys.ended, "1", exat=math.ceil(room.expires))

        self._change(code, now, end)

    def data(self, code: str, now: float, with_intervals: bool = True) -> RoomData:
        def data(r: Any) -> RoomData:
            room = self._live_room(r, code, now)
            keys = RoomKeys.of(room.code)
            students = [_parse_student(raw) for raw in r.hvals(keys.students)]
            intervals = [Interval(**json.loads(raw)) for raw in r.hvals(keys.intervals)] if with_intervals else []
            senders = students if room.per_student else [_parse_student(raw) for raw in r.hvals(keys.senders)]
            return RoomData(room, students, intervals, senders)

        return self._call(data)


def _parse_student(raw: str) -> Student:
    fields = json.loads(raw)
    fields["mix"] = tuple(fields["mix"]) if fields["mix"] is not None else None
    return Student(**fields)
