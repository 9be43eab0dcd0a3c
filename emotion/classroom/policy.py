"""What a class room keeps, where, for how long, and how many students a class figure must mix.

One source for the pages that say it (creating a room, the student's consent notice, About) and for the
rules that apply it. A deployment may shorten the longest room life and raise (or lower, to no fewer than
LOWEST_MIN_STUDENTS) the minimum of students; a teacher chooses within those and can lower neither.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from emotion.classroom.analytics import LOWEST_MIN_CLASS_STUDENTS, MIN_CLASS_STUDENTS

ROOM_HOURS = (1, 2, 3, 4, 6, 8, 12)  # the room lives a teacher may choose, where the deployment allows them
MAX_HOURS_SETTING = "EMOTION_ROOM_MAX_HOURS"
MIN_STUDENTS_SETTING = "EMOTION_MIN_CLASS_STUDENTS"


@dataclass(frozen=True)
class RoomPolicy:
    max_hours: int = max(ROOM_HOURS)
    min_students: int = MIN_CLASS_STUDENTS

    @classmethod
    def from_settings(cls, settings: Mapping[str, Any]) -> RoomPolicy:
        """The deployment's policy from its settings (emotion.settings); ValueError in plain words."""
        policy = cls()
        max_hours, min_students = ("" if (value := settings.get(name)) is None else str(value)
                                   for name in (MAX_HOURS_SETTING, MIN_STUDENTS_SETTING))
        if max_hours:
            if not max_hours.strip().isdigit() or not min(ROOM_HOURS) <= int(max_hours) <= max(ROOM_HOURS):
                shortest, longest = min(ROOM_HOURS), max(ROOM_HOURS)
                raise ValueError(f"{MAX_HOURS_SETTING} must be a whole number of hours from {shortest} to {longest}")
            policy = RoomPolicy(int(max_hours), policy.min_students)
        if min_students:
            if not min_students.strip().isdigit() or int(min_students) < LOWEST_MIN_CLASS_STUDENTS:
                raise ValueError(f"{MIN_STUDENTS_SETTING} must be a whole number of at least {LOWEST_MIN_CLASS_STUDENTS}")
            policy = RoomPolicy(policy.max_hours, int(min_students))
        return policy

    def hours_offered(self) -> tuple[int, ...]:
        return tuple(hours for hours in ROOM_HOURS if hours <= self.max_hours)

    def kept(self, per_student: bool) -> str:
        """What a room keeps, by its kind."""
        figures = (
            "the emotion figures they share (seven numbers per face, summed per 10 seconds) **under their name**"
            if per_student
            else "the emotion figures they share (seven numbers per face, summed per 10 seconds) under an id that only "
            "their own page knows, **never under their name**; the class's emotions are shown only for moments when at "
            f"least {self.min_students} students share"
        )
        return f"each student's display name, whether they share and where their faces are read, and {figures}. Never an image"

    def how_long(self, hours: str | int | None = None) -> str:
        """Where and how long it is kept; `hours`: the room's own life, if known."""
        life = f"{hours} hours after it opens" if hours is not None else f"at most {self.max_hours} hours after it opens"
        return (
            "on the server (in its memory, or in the deployment's Redis store), until the teacher ends the class, or at the "
            f"latest when the room expires, {life}; then all of it is deleted. A student can delete their own figures at "
            "any time with *Leave and delete my figures*"
        )

    def retention(self, per_student: bool, hours: str | int | None = None) -> str:
        return f"**What is kept:** {self.kept(per_student)}. **Where and how long:** {self.how_long(hours)}."
