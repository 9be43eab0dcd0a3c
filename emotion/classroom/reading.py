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
    _made: dict[str, Any] = field(default_factory=dict)  # what was made from the intervals of the latest reading

    def data(self, now: float) -> RoomData:
        """The room now, with intervals at most `every` seconds old (none deleted since): raises what the store raises."""
        data = self.store.data(self.code, now, with_intervals=False)
        if now - self._read_at >= self.every or data.room.forgotten != self._forgotten or now < self._read_at:
            data = self.store.data(self.code, now)
            self._intervals, self._read_at, self._forgotten = data.intervals, now, data.room.forgotten
            self.reads += 1
            self._made = {}
            return data
        return replace(data, intervals=self._intervals)

    def per_reading(self, name: str, make: Callable[[], T]) -> T:
        """`make()`, made again only after the intervals were read again: for what is made from them (the timeline)."""
        if name not in self._made:
            self._made[name] = make()
        return self._made[name]
