"""How a teacher's live view reads its room: who is there at every refresh, the figures over time less often.

The counts refresh every second and the charts every two, but the room keeps figures per INTERVAL_SECONDS,
and the intervals are most of what a room holds: a lecture of 200 students for an hour has 72,000. Read and
summed at every refresh they made the view's cost grow with the class and the lecture (bench/teacher_view.py).
So a view reads the students and senders each time and the intervals at most once an interval, and at once
when a student's figures were deleted ("Leave and delete": the room counts them, `Room.forgotten`), so that
no deleted figure outlives the next refresh. Reports read the whole room, fresh, as before.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from emotion.classroom.records import INTERVAL_SECONDS, Interval, RoomData, RoomStore

T = TypeVar("T")


@dataclass
class RoomReader:
    """One teacher session's reading of one room (not shared between threads: a session's runs take turns)."""

    store: RoomStore
    code: str
    every: float = INTERVAL_SECONDS  # seconds between readings of the intervals
    reads: int = 0  # readings of the intervals, for the tests and the bench
    _intervals: list[Interval] = field(default_factory=list)
    _read_at: float = -math.inf
    _forgotten: int = -1
    _created: float | None = None  # the room read: a code given again to a new room is another room
    _made: dict[str, Any] = field(default_factory=dict)  # what was made from the intervals of the latest reading

    def data(self, now: float) -> RoomData:
        """The room now, with intervals at most `every` seconds old (none deleted since): raises what the store raises."""
        if self._read_at <= now < self._read_at + self.every:
            data = self.store.data(self.code, now, with_intervals=False)
            if data.room.created == self._created and data.room.forgotten == self._forgotten:
                return replace(data, intervals=self._intervals)
        data = self.store.data(self.code, now)
        self._intervals, self._read_at = data.intervals, now
        self._forgotten, self._created = data.room.forgotten, data.room.created
        self.reads += 1
        self._made = {}
        return data

    def forget(self) -> None:
        """Drop the copy of the intervals (the room is gone): no figure outlives its room in a teacher's session."""
        self._intervals, self._made, self._read_at, self._created = [], {}, -math.inf, None

    def per_reading(self, name: str, make: Callable[[], T]) -> T:
        """`make()`, made again only after the intervals were read again: for what is made from them alone (the
        timeline, the class's flag). `name` says what it is made with besides (thresholds, time zone)."""
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]
