"""The student's side of a room: their choices told to it, and on the server path their face figures sent
from the video thread, throttled. On the device path the student's browser posts the figures itself
(emotion.classroom.inbox), and the page hands this publisher the room's answers (`heard`)."""

from __future__ import annotations

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

# The room's answers to posted figures that say why they were not kept, and the words for each.
NOT_KEPT: dict[str, Callable[[], RoomError]] = {
    "unreachable": StoreUnavailable, "refused": FiguresRefused, "too-soon": FiguresTooSoon
}


class RoomPublisher:
    """Tells the room of a student's choices, and sends their face figures a few times a second from the video thread.

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
        self._owed: str | None = None  # a status the student chose that the room has not heard (it was out)
        self._next = 0.0

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
        """The room is gone (it expired or was closed), or the seat is (left from another tab): nothing is sent again."""
        with self._lock:
            return self._ended

    @property
    def problem(self) -> str | None:
        """Why the latest figures could not be sent, in words for the student; None while they go through."""
        with self._lock:
            return self._problem

    def _set_problem(self, problem: str | None) -> None:
        with self._lock:
            self._problem = problem

    def _end(self, error: RoomNotFound | NotInRoom) -> None:
        if isinstance(error, NotInRoom):
            problem = str(error)
        else:
            why = "the teacher closed its room and deleted its figures" if isinstance(error, RoomEnded) else "its room has closed"
            problem = f"This class has ended: {why}, and nothing more is shared."
        with self._lock:
            self._problem, self._ended = problem, True

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
        except (RoomNotFound, NotInRoom) as error:
            self._end(error)
        except StoreUnavailable:
            pass  # said by the next send; the room may well be there
        return not self.ended

    def __call__(self, faces: Sequence[Face]) -> None:
        """The live stream's hook: one frame's faces."""
        self.send([face.probabilities for face in faces])

    def _due(self, now: float) -> bool:
        with self._lock:
            return not (self._paused or self._ended or now < self._next)

    def send(self, probabilities: Sequence[np.ndarray]) -> None:
        """One sample of the faces in view (each face's smoothed probabilities), read on the server now."""
        now = self.clock()
        if not self._due(now):
            return  # most frames: not waiting behind a choice being told to the room
        with self._in_turn:
            if not self._due(now):  # paused, or sent by another thread, while this one waited
                return
            with self._lock:
                self._next = now + self.interval
                path = self.path
            # The store call runs outside the lock: a slow store must not hold up the page's reads.
            try:
                self._publish(probabilities, now, path)
            except StoreUnavailable as error:
                with self._lock:
                    self._problem = str(error)
                    self._next = now + 5.0  # back off; the video goes on meanwhile
            except (RoomNotFound, NotInRoom) as error:
                self._end(error)
            except RoomError as error:
                self._set_problem(str(error))
            else:
                self._set_problem(None)

    def _publish(self, probabilities: Sequence[np.ndarray], now: float, path: str) -> None:
        samples = [Sample(now, probabilities)]
        try:
            self.store.publish_samples(self.code, self.student_id, samples, path, self.sender)
        except SeatPaused:
            if self._resumed_again():
                self.store.publish_samples(self.code, self.student_id, samples, path, self.sender)

    def _resumed_again(self) -> bool:
        """The room says the seat is paused and this page does not: whether the room has heard the page's Resume now.

        If the page owes it the Resume (the store was out when it was clicked), it is told again; else the
        seat was paused elsewhere (another tab of the same seat), and this page pauses too, rather than undo it.
        """
        with self._lock:
            if self._paused:
                return False  # the student paused while figures were on their way: they are not kept, as they should not be
            owed_resume = self._owed == "active"
            if not owed_resume:
                self._paused = True
        if owed_resume:
            self.store.set_status(self.code, self.student_id, "active", self.clock(), self.sender)
            with self._lock:
                self._owed = None
        return owed_resume

    def heard(self, outcome: str) -> None:
        """The room's answer to figures the student's page posted itself (a class room's on-device path,
        emotion.classroom.inbox), taken as this publisher takes the answers to its own sends. Only the outcome
        is read: the words shown are the room's own, whatever the page's copy of the answer says."""
        try:
            if outcome == "ended":
                self.check_room()  # the store says how: expired, or closed by the teacher
            elif outcome == "paused":
                with self._in_turn:
                    self._resumed_again()
            elif outcome == "left":
                self._end(NotInRoom())
            elif outcome in NOT_KEPT:
                self._set_problem(str(NOT_KEPT[outcome]()))
            elif outcome == "kept":
                self._set_problem(None)
        except StoreUnavailable as error:
            self._set_problem(str(error))  # the camera hands the answer again while it holds
        except (RoomNotFound, NotInRoom) as error:
            self._end(error)

    def tell(self, *, status: str | None = None, path: str | None = None, forget: bool = False) -> None:
        """Tell the room of the student's choice (`status`: active, paused or left; `forget`: leave and delete their
        figures; `path`: where their faces are read), in turn with the sends. The page sets `paused` first, so that
        no send starts meanwhile. Raises the store's RoomError (StoreUnavailable: tell the student it is kept here).
        """
        with self._in_turn:
            now = self.clock()
            if forget or status is not None:
                try:
                    if forget:
                        self.store.forget_student(self.code, self.student_id, now, self.sender)
                    elif status is not None:
                        self.store.set_status(self.code, self.student_id, status, now, self.sender)
                except StoreUnavailable:
                    with self._lock:
                        self._owed = "left" if forget else status
                    raise
                except NotInRoom as error:  # the seat was left from another tab of it
                    self._end(error)
                    return
                with self._lock:
                    self._owed = None
            if path is not None:
                self.store.set_path(self.code, self.student_id, path, now)
