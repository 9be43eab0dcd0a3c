"""What a class room holds, and the interface of the stores that hold it.

Only figures enter a room: per sample, each face's smoothed probabilities. No image, crop or frame
is ever passed here. Two stores implement `RoomStore`: `MemoryStore` (memory_store.py: one machine,
nothing to install) and `RedisStore` (redis_store.py: students and the teacher on different replicas).
The rules both follow (names, samples, intervals, messages) are written once, here.
"""

from __future__ import annotations

import math
import secrets
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

import numpy as np

from emotion.labels import EMOTIONS

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I to misread
CODE_LENGTH = 6
INTERVAL_SECONDS = 10  # granularity of the stored figures, the timeline and the CSV
LEAVE_AFTER_SECONDS = 15.0  # no figures for this long: the stream dropped; the student counts as gone
MAX_NAME_LENGTH = 40


class RoomError(Exception):
    """A room request that cannot be served; the message is fit to show to the user.

    A message that quotes what the user typed (a name, a code) keeps it apart, so that each page shows
    it as plain text (`render`), never as markup.
    """

    def __init__(self, message: str, quoted: str | None = None) -> None:
        self.template, self.quoted = message, quoted  # QUOTED in the template marks where the user's text goes
        super().__init__(self.render())

    def render(self, quote: Callable[[str], str] = repr) -> str:
        return self.template if self.quoted is None else self.template.replace("QUOTED", quote(self.quoted))


class RoomNotFound(RoomError):
    @classmethod
    def for_code(cls, code: str) -> RoomNotFound:
        if not code:
            return cls("There is no open class with an empty code.")
        return cls("There is no open class with the code QUOTED: it may have expired.", code)


class RoomEnded(RoomNotFound):
    """The teacher ended the class: its room and figures were deleted before it expired."""

    def __init__(self) -> None:
        super().__init__("This class has ended: the teacher closed its room and deleted its figures.")


class DuplicateName(RoomError):
    @classmethod
    def for_name(cls, name: str) -> DuplicateName:
        return cls("Someone in this class already uses the name QUOTED: choose another.", name)


class NotInRoom(RoomError):
    """The student left (or was never in the room) and may not publish."""

    def __init__(self) -> None:
        super().__init__("You are no longer in this class: join again.")


class SeatPaused(RoomError):
    """The student paused: the room takes no figures of theirs until they resume, whoever sends them."""

    def __init__(self) -> None:
        super().__init__("Sharing is paused: your teacher sees you as paused until you resume.")


class FiguresRefused(RoomError):
    """Figures posted in another form than a class room's page sends (emotion.classroom.inbox)."""

    def __init__(self) -> None:
        super().__init__("These figures were not in the form a class room's page sends, so they were not kept.")


class FiguresTooSoon(RoomError):
    """Figures posted sooner after the last from their seat than any page sends them (emotion.classroom.inbox)."""

    def __init__(self) -> None:
        super().__init__("These figures came too soon after the last, so they were not kept.")


class StoreUnavailable(RoomError):
    """The shared store (Redis) cannot be reached; callers retry later. The detail goes to the log, not the page."""

    def __init__(self) -> None:
        super().__init__("The class room cannot be reached right now.")


class SeatTaken(RoomError):
    """A returning student's name was given to someone else while they were away."""

    def __init__(self, name: str) -> None:
        super().__init__("While you were away, someone else joined as QUOTED: join again under another name.", name)


@dataclass(frozen=True)
class Room:
    code: str
    title: str
    teacher_key: str
    created: float
    expires: float
    per_student: bool = False  # chosen at creation: figures by name (True) or the class's alone (False, the default)
    forgotten: int = 0  # students whose figures were deleted ("Leave and delete"): a view that keeps figures reads them again


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
    paused_since: float | None = None  # while paused
    path: str = "device"  # where the student's faces are read: "device" (their browser, the page's default) or "server"
    paused_seconds: float = 0.0  # time paused before paused_since
    figures_at: float | None = None  # the latest figures; None until figures arrive (again) on the current path


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
class Sample:
    """The faces in view at one moment: each face's smoothed probabilities, FER-2013 order."""

    at: float  # the server's clock, s
    faces: Sequence[np.ndarray]


@dataclass(frozen=True)
class RoomData:
    """A room's records. Figures come from senders: in a per-student room each student is their own sender
    (the same records); in a class-only room a sender is an id only the student's session knows, so no
    figure is stored under a name, and the students' records hold their sharing state alone."""

    room: Room
    students: list[Student]
    intervals: list[Interval]  # keyed by sender id
    senders: list[Student]  # each sender's live figures and state (name unused in a class-only room)


class RoomStore(Protocol):
    """Where a call names a `sender`, a class-only room keeps the figures under it, never under the student;
    a per-student room keeps them under the student and ignores it."""

    def create_room(self, title: str, ttl_seconds: float, now: float, per_student: bool = False) -> Room: ...
    def room(self, code: str, now: float) -> Room: ...
    def join(self, code: str, name: str | None, now: float) -> Student: ...
    def rejoin(self, code: str, student_id: str, now: float) -> Student: ...
    def publish(
        self, code: str, student_id: str, faces: Sequence[np.ndarray], now: float, path: str = "server", sender: str | None = None
    ) -> None: ...
    def publish_samples(
        self, code: str, student_id: str, samples: Sequence[Sample], path: str = "server", sender: str | None = None
    ) -> None: ...
    def set_status(self, code: str, student_id: str, status: str, now: float, sender: str | None = None) -> None: ...
    def set_path(self, code: str, student_id: str, path: str, now: float) -> None: ...
    def student(self, code: str, student_id: str, now: float) -> Student | None: ...
    def forget_student(self, code: str, student_id: str, now: float, sender: str | None = None) -> None: ...
    def end_room(self, code: str, now: float) -> None: ...
    def data(self, code: str, now: float, with_intervals: bool = True) -> RoomData:
        """The room's records; without intervals (`with_intervals=False`), only the room, its students and senders."""
        ...


def new_room(title: str, ttl_seconds: float, now: float, per_student: bool = False) -> Room:
    """A room with a fresh code and teacher key; the store retries when the code is taken."""
    return Room(new_code(), title.strip() or "Class", secrets.token_urlsafe(16), now, now + ttl_seconds, per_student)


def new_sender() -> str:
    """A student's sender id for a class-only room: made by their own session, never stored beside their name."""
    return secrets.token_urlsafe(12)


def sender_of(room: Room, student_id: str, sender: str | None) -> str | None:
    """Under whose id a figure is kept: the student's in a per-student room, else their sender id (None:
    a class-only room and no sender, so nothing may be kept)."""
    return student_id if room.per_student else sender


def figures_key(room: Room, student_id: str, sender: str | None) -> str:
    """The id a new figure goes under; a class-only room without a sender id may keep none."""
    key = sender_of(room, student_id, sender)
    if key is None:
        raise ValueError("a class-only room keeps figures only under a sender id")
    return key


def after_publish(
    room: Room, student: Student, before: Student | None, faces: Sequence[np.ndarray], now: float, path: str, key: str
) -> tuple[Student, Student | None]:
    """A sample's new seat, and the sender's new figures record (`before`: its last; None in a per-student
    room, where the seat holds the figures). In a class-only room the seat is left sharing, with no figure."""
    sample = after_sample(student, faces, now, path)
    if room.per_student:
        return sample, None
    seat = replace(without_figures(sample), figures_at=sample.figures_at)
    return seat, after_sample(before or Student(key, "", now, now), faces, now, path)


def new_student(name: str | None, number: int, now: float) -> Student:
    """A student under their cleaned name, or 'student N' without one."""
    return Student(secrets.token_urlsafe(12), name or f"student {number}", now, now)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(code: str) -> str:
    return "".join(code.split()).upper()


def clean_name(name: str | None) -> str | None:
    name = " ".join((name or "").split())[:MAX_NAME_LENGTH]
    return name or None


def holds_seat(student: Student, now: float) -> bool:
    """Whether the student still holds their seat and name: not left, and heard from lately."""
    return student.status != "left" and now - student.last_seen <= LEAVE_AFTER_SECONDS


def name_holder(students: Iterable[Student], name: str, now: float) -> Student | None:
    """The student who holds `name` (case-insensitive) now, if any: a name is free again once its student left or dropped."""
    key = name.casefold()
    return next((s for s in students if s.name.casefold() == key and holds_seat(s, now)), None)


def seated(student: Student | None) -> Student:
    """The student in their seat: NotInRoom where there is none (never taken here, or left)."""
    if student is None or student.status == "left":
        raise NotInRoom()
    return student


def check_may_publish(student: Student | None) -> Student:
    """The seat a sample may go to: not one that left (NotInRoom) or paused (SeatPaused). A store checks it in the
    same transaction as its write, so figures already on their way when the student paused are not kept."""
    seat = seated(student)
    if seat.status == "paused":
        raise SeatPaused()
    return seat


def returning(student: Student | None, students: Iterable[Student], now: float) -> Student:
    """A student back after a reload: active again in their own seat, unless they left or lost their name meanwhile."""
    student = seated(student)
    holder = name_holder((s for s in students if s.student_id != student.student_id), student.name, now)
    if holder is not None:
        raise SeatTaken(student.name)
    return without_figures(with_status(student, "active", now))


def with_status(student: Student, status: str, now: float) -> Student:
    """The student after choosing `status` (active, paused or left), counting the time paused.

    A student who paused or left shows no face or emotion: their last figures no longer describe them. One who
    left stays gone (NotInRoom): a page still open on their seat, another tab of it, cannot bring it back.
    """
    if student.status == "left" and status != "left":
        raise NotInRoom()
    paused_seconds = student.paused_seconds + (now - student.paused_since if student.paused_since is not None else 0.0)
    if status == "paused":
        since = student.paused_since if student.paused_since is not None else now
        return replace(without_figures(student), status=status, last_seen=now, paused_since=since)
    changed = replace(student, status=status, last_seen=now, paused_since=None, paused_seconds=paused_seconds)
    return changed if status == "active" else without_figures(changed)


def without_figures(student: Student) -> Student:
    """The student with no live figures: not sharing until new figures arrive."""
    return replace(student, faces=0, mix=None, label=None, label_since=None, no_face_since=None, figures_at=None)


def with_path(student: Student, path: str, now: float) -> Student:
    """The student after choosing where their faces are read; not sharing until figures come on that path."""
    return replace(without_figures(student), path=path, last_seen=now)


def after_sample(student: Student, faces: Sequence[np.ndarray], now: float, path: str = "server") -> Student:
    """The student's state after a sample: active again, latest mix, and since when their label and their absence hold."""
    student = replace(with_status(student, "active", now), path=path, figures_at=now)
    if not faces:
        since = student.no_face_since if student.no_face_since is not None else now
        return replace(student, faces=0, mix=None, label=None, label_since=None, no_face_since=since)
    mix = np.mean(np.asarray(faces, dtype=np.float64), axis=0)
    label = EMOTIONS[int(np.argmax(mix))]
    label_since = student.label_since if label == student.label and student.label_since is not None else now
    return replace(
        student,
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
