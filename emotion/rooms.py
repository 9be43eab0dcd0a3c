"""Class rooms: where students' emotion figures meet the teacher's view.

Two stores behind one interface: `MemoryStore` keeps rooms in this process (one machine, nothing
to install); `RedisStore` keeps them in Redis, so that students and the teacher may be served by
different replicas. Only figures enter a room: per sample, each face's smoothed probabilities.
No image, crop or frame is ever passed here.
"""

from __future__ import annotations

import json
import math
import secrets
import threading
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Protocol

import numpy as np

from emotion.preprocess import EMOTIONS

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 6
INTERVAL_SECONDS = 10  # granularity of the stored figures, the timeline and the CSV
MAX_NAME_LENGTH = 40


class RoomError(Exception):
    """A room request that cannot be served; the message is fit to show to the user."""


class RoomNotFound(RoomError):
    pass


class DuplicateName(RoomError):
    pass


class StoreUnavailable(RoomError):
    """The shared store (Redis) cannot be reached; callers retry later."""


@dataclass(frozen=True)
class Room:
    code: str
    title: str
    teacher_key: str
    created: float
    expires: float


@dataclass(frozen=True)
class Student:
    student_id: str
    name: str
    joined: float
    last_seen: float
    status: str = "active"  # active, paused or left (a dropped stream is judged from last_seen)
    faces: int = 0  # faces in view in the latest sample
    mix: tuple[float, ...] | None = None  # mean probabilities of those faces
    label: str | None = None  # the most likely emotion of that mix
    label_since: float | None = None  # since when that label has held
    no_face_since: float | None = None


@dataclass
class Interval:
    """One student's figures over one INTERVAL_SECONDS window."""

    student_id: str
    start: float
    samples: int = 0
    samples_with_face: int = 0
    faces: int = 0  # face vectors summed below
    sums: list[float] = field(default_factory=lambda: [0.0] * len(EMOTIONS))


@dataclass(frozen=True)
class RoomData:
    room: Room
    students: list[Student]
    intervals: list[Interval]


class RoomStore(Protocol):
    def create_room(self, title: str, ttl_seconds: float, now: float) -> Room: ...
    def room(self, code: str, now: float) -> Room: ...
    def join(self, code: str, name: str | None, now: float) -> Student: ...
    def publish(self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float) -> None: ...
    def set_status(self, code: str, student_id: str, status: str, now: float) -> None: ...
    def data(self, code: str, now: float) -> RoomData: ...


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def clean_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())[:MAX_NAME_LENGTH]
    return name or None


def after_sample(student: Student, faces: Sequence[np.ndarray], now: float) -> Student:
    """The student's state after a sample: latest mix, and since when their label and their absence hold."""
    if not faces:
        since = student.no_face_since if student.no_face_since is not None else now
        return replace(
            student, last_seen=now, status="active", faces=0, mix=None, label=None, label_since=None, no_face_since=since
        )
    mix = np.mean(np.asarray(faces, dtype=np.float64), axis=0)
    label = EMOTIONS[int(np.argmax(mix))]
    label_since = student.label_since if label == student.label and student.label_since is not None else now
    return replace(
        student,
        last_seen=now,
        status="active",
        faces=len(faces),
        mix=tuple(float(p) for p in mix),
        label=label,
        label_since=label_since,
        no_face_since=None,
    )


def add_sample(interval: Interval, faces: Sequence[np.ndarray]) -> Interval:
    interval.samples += 1
    if faces:
        interval.samples_with_face += 1
        interval.faces += len(faces)
        total = np.sum(np.asarray(faces, dtype=np.float64), axis=0)
        interval.sums = [s + float(t) for s, t in zip(interval.sums, total)]
    return interval


def interval_start(now: float) -> float:
    return math.floor(now / INTERVAL_SECONDS) * INTERVAL_SECONDS


class MemoryStore:
    """Rooms in this server process's memory: the default, for one machine."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rooms: dict[str, Room] = {}
        self._students: dict[str, dict[str, Student]] = {}
        self._intervals: dict[str, dict[tuple[str, float], Interval]] = {}
        self._numbers: dict[str, int] = {}

    def _purge(self, now: float) -> None:
        for code in [code for code, room in self._rooms.items() if room.expires <= now]:
            del self._rooms[code], self._students[code], self._intervals[code], self._numbers[code]

    def _live_room(self, code: str, now: float) -> Room:
        self._purge(now)
        room = self._rooms.get(normalise_code(code))
        if room is None:
            raise RoomNotFound(f"There is no open class with the code {normalise_code(code) or '(empty)'}: it may have expired.")
        return room

    def create_room(self, title: str, ttl_seconds: float, now: float) -> Room:
        with self._lock:
            self._purge(now)
            code = new_code()
            while code in self._rooms:
                code = new_code()
            room = Room(code, title.strip() or "Class", secrets.token_urlsafe(16), now, now + ttl_seconds)
            self._rooms[code], self._students[code], self._intervals[code], self._numbers[code] = room, {}, {}, 0
            return room

    def room(self, code: str, now: float) -> Room:
        with self._lock:
            return self._live_room(code, now)

    def join(self, code: str, name: str | None, now: float) -> Student:
        with self._lock:
            room = self._live_room(code, now)
            students = self._students[room.code]
            name = clean_name(name)
            if name and any(s.name.casefold() == name.casefold() for s in students.values()):
                raise DuplicateName(f"Someone in this class already uses the name {name!r}: choose another.")
            self._numbers[room.code] += 1
            student = Student(secrets.token_urlsafe(12), name or f"student {self._numbers[room.code]}", now, now)
            students[student.student_id] = student
            return student

    def publish(self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float) -> None:
        with self._lock:
            room = self._live_room(code, now)
            student = self._students[room.code].get(student_id)
            if student is None or student.status == "left":
                raise RoomError("You are no longer in this class: join again.")
            self._students[room.code][student_id] = after_sample(student, faces, now)
            key = (student_id, interval_start(now))
            intervals = self._intervals[room.code]
            intervals[key] = add_sample(intervals.get(key) or Interval(student_id, key[1]), faces)

    def set_status(self, code: str, student_id: str, status: str, now: float) -> None:
        with self._lock:
            room = self._live_room(code, now)
            student = self._students[room.code].get(student_id)
            if student is not None:
                self._students[room.code][student_id] = replace(student, status=status, last_seen=now)

    def data(self, code: str, now: float) -> RoomData:
        with self._lock:
            room = self._live_room(code, now)
            intervals = [replace(i, sums=list(i.sums)) for i in self._intervals[room.code].values()]
            return RoomData(room, list(self._students[room.code].values()), intervals)


class RedisStore:
    """Rooms in Redis, shared by every replica of the app. Keys expire with their room."""

    def __init__(self, url: str, *, timeout: float = 0.5) -> None:
        import redis

        self._redis = redis.Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout, decode_responses=True)
        self._errors = (redis.ConnectionError, redis.TimeoutError)

    def _call(self, fn):
        try:
            return fn(self._redis)
        except self._errors as error:
            raise StoreUnavailable(f"The class-room service (Redis) cannot be reached: {error}") from None

    @staticmethod
    def _keys(code: str) -> tuple[str, str, str, str]:
        return f"room:{code}", f"room:{code}:students", f"room:{code}:names", f"room:{code}:intervals"

    def _live_room(self, r, code: str, now: float) -> Room:
        code = normalise_code(code)
        fields = r.hgetall(self._keys(code)[0]) if code else {}
        if not fields or float(fields["expires"]) <= now:
            raise RoomNotFound(f"There is no open class with the code {code or '(empty)'}: it may have expired.")
        return Room(code, fields["title"], fields["teacher_key"], float(fields["created"]), float(fields["expires"]))

    def create_room(self, title: str, ttl_seconds: float, now: float) -> Room:
        def create(r) -> Room:
            while True:
                room = Room(new_code(), title.strip() or "Class", secrets.token_urlsafe(16), now, now + ttl_seconds)
                key = self._keys(room.code)[0]
                if r.hsetnx(key, "teacher_key", room.teacher_key):
                    fields = {"title": room.title, "created": room.created, "expires": room.expires, "next_number": 0}
                    pipe = r.pipeline()
                    pipe.hset(key, mapping=fields)
                    pipe.expireat(key, math.ceil(room.expires))
                    pipe.execute()
                    return room

        return self._call(create)

    def room(self, code: str, now: float) -> Room:
        return self._call(lambda r: self._live_room(r, code, now))

    def join(self, code: str, name: str | None, now: float) -> Student:
        def join(r) -> Student:
            room = self._live_room(r, code, now)
            room_key, students_key, names_key, _ = self._keys(room.code)
            cleaned = clean_name(name)
            if cleaned and not r.sadd(names_key, cleaned.casefold()):
                raise DuplicateName(f"Someone in this class already uses the name {cleaned!r}: choose another.")
            number = r.hincrby(room_key, "next_number", 1)
            student = Student(secrets.token_urlsafe(12), cleaned or f"student {number}", now, now)
            pipe = r.pipeline()
            pipe.hset(students_key, student.student_id, json.dumps(asdict(student)))
            for key in (students_key, names_key):
                pipe.expireat(key, math.ceil(room.expires))
            pipe.execute()
            return student

        return self._call(join)

    def _student(self, r, code: str, student_id: str) -> Student | None:
        raw = r.hget(self._keys(code)[1], student_id)
        return None if raw is None else _parse_student(raw)

    def publish(self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float) -> None:
        def publish(r) -> None:
            # Each student's fields are written only by that student's own session: no write races.
            room = self._live_room(r, code, now)
            _, students_key, _, intervals_key = self._keys(room.code)
            student = self._student(r, room.code, student_id)
            if student is None or student.status == "left":
                raise RoomError("You are no longer in this class: join again.")
            start = interval_start(now)
            field_name = f"{student_id}|{start:.0f}"
            raw = r.hget(intervals_key, field_name)
            interval = Interval(**json.loads(raw)) if raw else Interval(student_id, start)
            pipe = r.pipeline()
            pipe.hset(students_key, student_id, json.dumps(asdict(after_sample(student, faces, now))))
            pipe.hset(intervals_key, field_name, json.dumps(asdict(add_sample(interval, faces))))
            pipe.expireat(intervals_key, math.ceil(room.expires))
            pipe.execute()

        self._call(publish)

    def set_status(self, code: str, student_id: str, status: str, now: float) -> None:
        def set_status(r) -> None:
            room = self._live_room(r, code, now)
            student = self._student(r, room.code, student_id)
            if student is not None:
                r.hset(self._keys(room.code)[1], student_id, json.dumps(asdict(replace(student, status=status, last_seen=now))))

        self._call(set_status)

    def data(self, code: str, now: float) -> RoomData:
        def data(r) -> RoomData:
            room = self._live_room(r, code, now)
            _, students_key, _, intervals_key = self._keys(room.code)
            students = [_parse_student(raw) for raw in r.hvals(students_key)]
            intervals = [Interval(**json.loads(raw)) for raw in r.hvals(intervals_key)]
            return RoomData(room, students, intervals)

        return self._call(data)


def _parse_student(raw: str) -> Student:
    fields = json.loads(raw)
    fields["mix"] = tuple(fields["mix"]) if fields["mix"] is not None else None
    return Student(**fields)
