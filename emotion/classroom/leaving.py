"""A Leave the room could not hear when the student chose it, told again until it does.

Leave (and Leave and delete) is a student's last word to the room: their page forgets the seat at once, and
the tab may be closed the next moment. Where the store cannot be reached at that moment (StoreUnavailable),
the choice is kept in this server process and told again every `retry_s` seconds, dated when the student
chose it, until the room hears it, or has nothing left to hear it with (the room or the seat is gone).
A restart of the server in between loses it: the seat then drops out as a silent seat does
(records.LEAVE_AFTER_SECONDS), and figures the student asked to delete stay until the room ends.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from emotion.classroom.records import RoomError, RoomStore, StoreUnavailable

LOGGER = logging.getLogger(__name__)
RETRY_S = 2.0  # between tries: a store back from an outage hears the leave within this


@dataclass(frozen=True)
class OwedLeave:
    store: RoomStore
    code: str
    student_id: str
    sender: str | None  # a class-only room's id for the student's figures
    forget: bool  # leave and delete their figures
    at: float  # when the student chose it (the store's clock: time.time())

    def tell(self) -> bool:
        """Tell the room; whether that is done with (heard, or nobody left to hear it), False while the store is out."""
        try:
            if self.forget:
                self.store.forget_student(self.code, self.student_id, self.at, self.sender)
            else:
                self.store.set_status(self.code, self.student_id, "left", self.at, self.sender)
        except StoreUnavailable:
            return False
        except RoomError as error:  # the room closed or the seat is gone already: the leave has nothing to undo
            LOGGER.info("a leave owed to room %s was not needed: %s", self.code, type(error).__name__)
        except Exception:  # not the store being out: telling again would fail again
            LOGGER.exception("a leave owed to room %s could not be told", self.code)
        return True


class LeavesOwed:
    """The leaves this process owes rooms, and the one thread that tells them while any are owed."""

    def __init__(self, retry_s: float = RETRY_S) -> None:
        self.retry_s = retry_s
        self._owed: list[OwedLeave] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def add(self, leave: OwedLeave) -> None:
        with self._lock:
            self._owed.append(leave)
            if self._thread is None or not self._thread.is_alive():
                thread = threading.Thread(target=self._tell_until_heard, name="leaves-owed", daemon=True)
                thread.start()  # may raise (no thread to be had): then none is recorded, and the next add tries again
                self._thread = thread

    def owed(self) -> list[OwedLeave]:
        with self._lock:
            return list(self._owed)

    def _tell_until_heard(self) -> None:
        try:
            while True:
                time.sleep(self.retry_s)
                done = [leave for leave in self.owed() if leave.tell()]
                with self._lock:
                    self._owed = [leave for leave in self._owed if leave not in done]
                    if not self._owed:
                        self._thread = None  # under the lock: a leave added from now on starts a new thread
                        return
        finally:
            with self._lock:
                if self._thread is threading.current_thread():  # ended some other way: the next add starts one
                    self._thread = None
