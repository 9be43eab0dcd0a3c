"""The student's side of a room: their face figures sent from the video thread, throttled."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import numpy as np

from emotion.classroom.records import (
    FiguresRefused,
    FiguresTooSoon,
    NotInRoom,
    RoomEnded,
    RoomError,
    RoomNotFound,
    RoomStore,
    Sample,
    SeatPaused,
    StoreUnavailable,
)
from emotion.pipeline import Face

MAX_SAMPLES = 4  # a message's samples kept: the device sends two (emotion.live.device), more only after a stall
MAX_SAMPLE_AGE_S = 10.0  # no sample is dated further back than this
# The room's answers to posted figures that say why they were not kept, and the words for each.
NOT_KEPT: dict[str, Callable[[], RoomError]] = {
    "unreachable": StoreUnavailable, "refused": FiguresRefused, "too-soon": FiguresTooSoon
}


def dated(samples: Sequence[tuple[float, Sequence[np.ndarray]]], now: float, earliest: float) -> list[Sample]:
    """A page's samples, each as (seconds before `now`, its faces), on the server's clock: the newest MAX_SAMPLES,
    oldest first, none dated before `earliest` (the sender's last message, or MAX_SAMPLE_AGE_S back) or after now.

    The ages are the device's own, so its clock need not agree with the server's, but they are not trusted:
    a page can neither rewrite the past nor send a lecture's worth at once.
    """
    newest = sorted(samples, key=lambda sample: -sample[0])[-MAX_SAMPLES:]
    return [Sample(min(now, max(earliest, now - age)), faces) for age, faces in newest]


class RoomPublisher:
    """Sends a student's face figures to their room a few times a second, from the video thread.

    Publishing is throttled (the room needs figures, not every frame), and when the store is
    unreachable it backs off instead of slowing the video; `problem` tells the page why.

    Two threads share it: the video thread calls it for every frame, the page's script thread reads
    `problem` and `paused` and sets `paused` (the student's button). The lock keeps each of those
    reads and writes whole against a publish running at the same moment.

    Every store call of this student's (a send, and the choices the page tells through `tell`) is made in
    turn, so that the room hears them in the order they were made: a Pause clicked while a send is on its way
    to the store waits for it, and no send that read "sharing" before the click writes the seat after it.
    """

    def __init__(
        self,
        store: RoomStore,
        code: str,
        student_id: str,
        interval: float = 0.3,
        clock: Callable[[], float] = time.time,
        sender: str | None = None,
    ) -> None:
        self.store, self.code, self.student_id = store, code, student_id
        self.sender = sender  # a class-only room's id for this student's figures, known to this session alone
        self.interval, self.clock = interval, clock
        self._lock = threading.Lock()
        self._in_turn = threading.Lock()  # held across each store call that writes this student's seat
        self.path = "server"  # where the faces are read, "device" or "server": the page sets it, sends read it
        self._paused = False
        self._ended = False
        self._problem: str | None = None
        self._next = 0.0
        self._last_sent = -math.inf  # when the latest samples were sent

    @property
    def paused(self) -> bool:
        with self._lock:
            return self._paused

    @paused.setter
    def paused(self, value: bool) -> None:
        with self._lock:
            self._paused = value

    @property
    def ended(self) -> bool:
        """The room is gone (it expired or was closed): nothing will be sent again."""
        with self._lock:
            return self._ended

    @property
    def problem(self) -> str | None:
        """Why the latest figures could not be sent, in words for the student; None while they go through."""
        with self._lock:
            return self._problem

    def _end(self, error: RoomNotFound) -> None:
        why = "the teacher closed its room and deleted its figures" if isinstance(error, RoomEnded) else "its room has closed"
        with self._lock:
            self._problem = f"This class has ended: {why}, and nothing more is shared."
            self._ended = True

    def check_room(self) -> bool:
        """Whether the room still exists, asked of the store: a paused or idle student sends nothing that would tell.

        A paused student's seat is kept meanwhile, so that the teacher sees them paused, not dropped.
        """
        if self.ended:
            return False
        try:
            with self._in_turn:
                if self.paused:
                    self.store.set_status(self.code, self.student_id, "paused", self.clock(), self.sender)
                else:
                    self.store.room(self.code, self.clock())
        except RoomNotFound as error:
            self._end(error)
        except StoreUnavailable:
            pass  # said by the next send; the room may well be there
        return not self.ended

    def __call__(self, faces: Sequence[Face]) -> None:
        """The live stream's hook: one frame's faces."""
        self.send([face.probabilities for face in faces])

    def send(self, probabilities: Sequence[np.ndarray]) -> None:
        """One sample of the faces in view (each face's smoothed probabilities), from wherever they were read."""
        self.send_samples([(0.0, probabilities)])

    def send_samples(self, samples: Sequence[tuple[float, Sequence[np.ndarray]]]) -> None:
        """Samples taken on the device, each as (seconds before now, its faces): a message of the on-device path
        carries the samples since its last, so that the room keeps a sample a second from fewer messages. Dated
        by `dated`, none before this publisher's last message."""
        with self._in_turn:
            self._send_in_turn(samples)

    def _send_in_turn(self, samples: Sequence[tuple[float, Sequence[np.ndarray]]]) -> None:
        now = self.clock()
        with self._lock:
            if self._paused or self._ended or now < self._next or not samples:
                return
            self._next = now + self.interval
            path = self.path
            earliest = max(self._last_sent, now - MAX_SAMPLE_AGE_S)
            self._last_sent = now
        timed = dated(samples, now, earliest)
        # The store call runs outside the lock: a slow store must not hold up the page's reads.
        try:
            self._publish(timed, path)
        except StoreUnavailable as error:
            with self._lock:
                self._problem = str(error)
                self._next = now + 5.0  # back off; the video goes on meanwhile
        except RoomNotFound as error:
            self._end(error)
        except RoomError as error:
            with self._lock:
                self._problem = str(error)
                self._paused = True
        else:
            with self._lock:
                self._problem = None

    def _publish(self, samples: Sequence[Sample], path: str) -> None:
        try:
            self.store.publish_samples(self.code, self.student_id, samples, path, self.sender)
        except SeatPaused:
            if self.paused:
                return  # the student paused while these were on their way: they are not kept, as they should not be
            # The room missed the student's Resume (the store was out when they clicked it): it hears it now.
            self.store.set_status(self.code, self.student_id, "active", self.clock(), self.sender)
            self.store.publish_samples(self.code, self.student_id, samples, path, self.sender)

    def heard(self, outcome: str) -> None:
        """The room's answer to figures the student's page posted itself (a class room's on-device path,
        emotion.classroom.inbox), taken as this publisher takes the answers to its own sends. Only the outcome
        is read: the words shown are the room's own, whatever the page's copy of the answer says."""
        if outcome == "ended":
            self.check_room()  # the store says how: expired, or closed by the teacher
        elif outcome == "paused" and not self.paused:
            try:  # the room missed the student's Resume (the store was out when they clicked it): it hears it now
                self.tell(status="active")
            except StoreUnavailable as error:
                self._set_problem(str(error))
            except RoomNotFound as error:
                self._end(error)
        elif outcome == "left":
            with self._lock:
                self._problem, self._paused = str(NotInRoom()), True
        elif outcome in NOT_KEPT:
            self._set_problem(str(NOT_KEPT[outcome]()))
        elif outcome == "kept":
            self._set_problem(None)

    def _set_problem(self, problem: str | None) -> None:
        with self._lock:
            self._problem = problem

    def tell(self, *, status: str | None = None, path: str | None = None, forget: bool = False) -> None:
        """Tell the room of the student's choice (`status`: active, paused or left; `forget`: leave and delete their
        figures; `path`: where their faces are read), in turn with the sends. The page sets `paused` first, so that
        no send starts meanwhile. Raises the store's RoomError (StoreUnavailable: tell the student it is kept here).
        """
        with self._in_turn:
            now = self.clock()
            if forget:
                self.store.forget_student(self.code, self.student_id, now, self.sender)
            elif status is not None:
                self.store.set_status(self.code, self.student_id, status, now, self.sender)
            if path is not None:
                self.store.set_path(self.code, self.student_id, path, now)
