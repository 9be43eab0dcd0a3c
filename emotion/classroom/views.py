"""What the teacher's live view shows, worked out from a room's figures: the page (webapp/pages/teach.py)
only draws it. bench/teacher_view.py times exactly these, and tests check them without a browser.

With the `RoomReader` the figures came from, what is made from the intervals (the timeline, the class's
flag) is made once a reading of them (emotion/classroom/reading.py), not at every refresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import tzinfo

import pandas as pd

from emotion.classroom.analytics import (
    ROSTER_TABLE_LIMIT,
    Flag,
    Thresholds,
    attention_first,
    class_negative_flag,
    connected,
    faces_in_view,
    flags_with,
    min_students,
    mix_now,
    presence,
    roster,
    sharing_senders,
    timeline,
)
from emotion.classroom.reading import RoomReader
from emotion.classroom.records import RoomData


@dataclass(frozen=True)
class Counts:
    """What the counts show each second: the figures a teacher glances at, and the flags that hold now."""

    connected: int
    faces_in_view: int
    paused: int
    gone: int  # left or dropped
    flags: list[Flag]


def room_counts_now(data: RoomData, now: float, thresholds: Thresholds, reader: RoomReader | None = None) -> Counts:
    states = [presence(s, now, thresholds) for s in data.students]
    online = connected(data, now, thresholds)
    gone = states.count("left") + states.count("dropped")
    showing = faces_in_view(sharing_senders(data, now, thresholds))

    def class_flag() -> Flag | None:
        return class_negative_flag(data, now, thresholds)

    made = class_flag() if reader is None else reader.per_reading(f"class flag {thresholds}", class_flag)
    return Counts(len(online), showing, states.count("paused"), gone, flags_with(made, data, now, thresholds))


@dataclass(frozen=True)
class Charts:
    """What the charts show every two seconds: the mix now ({} while nothing may be shown), the lecture's
    timeline (long form, empty until figures come) and the roster (names raw: the page makes them safe)."""

    mix: dict[str, float]
    history: pd.DataFrame
    roster: pd.DataFrame
    least: int  # students who must show a face before the class's emotions show (1: a per-student room)
    roster_scrolls: bool  # more students than ROSTER_TABLE_LIMIT: a scrolling grid, who may need the teacher first


def room_charts_now(data: RoomData, now: float, thresholds: Thresholds, tz: tzinfo, reader: RoomReader | None = None) -> Charts:
    least = min_students(data, thresholds)

    def lecture() -> pd.DataFrame:
        return timeline(data, until=now, tz=tz, least=least)

    history = lecture() if reader is None else reader.per_reading(f"timeline {tz} {least}", lecture)
    students = roster(data, now, thresholds)
    scrolls = len(students) > ROSTER_TABLE_LIMIT
    return Charts(mix_now(data, now, thresholds), history, attention_first(students) if scrolls else students, least, scrolls)
