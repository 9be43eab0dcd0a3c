"""What a teacher sees, computed from a room's figures: presence, the class mix, a timeline, flags.

Pure functions of `RoomData` and the time, so the teacher's view, the CSV and the report say the
same thing, and tests can check them exactly.
"""

from __future__ import annotations

import html
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from emotion.preprocess import EMOTIONS
from emotion.rooms import INTERVAL_SECONDS, RoomData, RoomError, RoomStore, StoreUnavailable, Student

NEGATIVE = ("Angry", "Disgust", "Fear", "Sad")
NEGATIVE_INDEX = [EMOTIONS.index(name) for name in NEGATIVE]


@dataclass(frozen=True)
class Thresholds:
    negative_share: float = 0.40  # class share of negative emotions that raises a flag...
    negative_minutes: float = 2.0  # ...when held over this many recent minutes
    no_face_seconds: float = 60.0  # a connected student with no face in view this long
    stuck_seconds: float = 120.0  # one student held in one negative emotion this long
    leave_after_seconds: float = 15.0  # no figures for this long: the stream dropped, counted as left


@dataclass(frozen=True)
class Flag:
    kind: str  # class_negative, no_face or stuck
    message: str
    student: str | None = None


def presence(student: Student, now: float, thresholds: Thresholds) -> str:
    """active, paused, left (by choice) or dropped (no figures for a while: a closed tab, a lost stream)."""
    if student.status == "left":
        return "left"
    if now - student.last_seen > thresholds.leave_after_seconds:
        return "dropped"
    return student.status


def connected(data: RoomData, now: float, thresholds: Thresholds) -> list[Student]:
    return [s for s in data.students if presence(s, now, thresholds) == "active"]


def mix_now(data: RoomData, now: float, thresholds: Thresholds) -> dict[str, float]:
    """The class's emotion mix now: each connected student with a face in view counts once."""
    mixes = [s.mix for s in connected(data, now, thresholds) if s.faces and s.mix is not None]
    if not mixes:
        return {}
    return dict(zip(EMOTIONS, np.mean(mixes, axis=0).tolist()))


def interval_table(data: RoomData) -> pd.DataFrame:
    """One row per student and interval: sample counts and the mean probability of each emotion."""
    names = {s.student_id: s.name for s in data.students}
    rows = []
    for i in sorted(data.intervals, key=lambda i: (i.start, names.get(i.student_id, ""))):
        shares = [total / i.faces for total in i.sums] if i.faces else [float("nan")] * len(EMOTIONS)
        rows.append(
            {
                "interval_start": pd.Timestamp(i.start, unit="s", tz="UTC"),
                "student": names.get(i.student_id, i.student_id),
                "samples": i.samples,
                "samples_with_face": i.samples_with_face,
                "faces": i.faces,
                **dict(zip(EMOTIONS, shares)),
            }
        )
    return pd.DataFrame(rows, columns=["interval_start", "student", "samples", "samples_with_face", "faces", *EMOTIONS])


def class_table(data: RoomData, seconds: int = INTERVAL_SECONDS) -> pd.DataFrame:
    """The class per period: students sending figures, samples with a face, and emotion shares over all faces."""
    buckets: dict[float, dict] = {}
    for i in data.intervals:
        start = i.start - i.start % seconds
        row = buckets.setdefault(
            start, {"students": set(), "samples": 0, "samples_with_face": 0, "faces": 0, "sums": np.zeros(len(EMOTIONS))}
        )
        row["students"].add(i.student_id)
        row["samples"] += i.samples
        row["samples_with_face"] += i.samples_with_face
        row["faces"] += i.faces
        row["sums"] += np.asarray(i.sums)
    rows = []
    for start in sorted(buckets):
        row = buckets[start]
        shares = row["sums"] / row["faces"] if row["faces"] else np.full(len(EMOTIONS), np.nan)
        rows.append(
            {
                "interval_start": pd.Timestamp(start, unit="s", tz="UTC"),
                "students": len(row["students"]),
                "samples": row["samples"],
                "samples_with_face": row["samples_with_face"],
                "faces": row["faces"],
                **dict(zip(EMOTIONS, shares.tolist())),
            }
        )
    return pd.DataFrame(rows, columns=["interval_start", "students", "samples", "samples_with_face", "faces", *EMOTIONS])


def timeline(data: RoomData) -> pd.DataFrame:
    """Emotion shares per minute over the lecture, long form (minute, emotion, share) for charting."""
    table = class_table(data, seconds=60)
    if table.empty:
        return pd.DataFrame(columns=["minute", "emotion", "share"])
    long = table.melt(id_vars=["interval_start"], value_vars=list(EMOTIONS), var_name="emotion", value_name="share")
    return long.rename(columns={"interval_start": "minute"}).dropna()


def negative_share(data: RoomData, since: float, until: float | None = None) -> float | None:
    """Share of negative emotions over all faces seen in [since, until); None where no face was seen."""
    chosen = [i for i in data.intervals if i.start >= since and (until is None or i.start < until)]
    faces = sum(i.faces for i in chosen)
    if not faces:
        return None
    return float(sum(sum(i.sums[k] for k in NEGATIVE_INDEX) for i in chosen) / faces)


def flags(data: RoomData, now: float, thresholds: Thresholds) -> list[Flag]:
    found: list[Flag] = []
    window_start = now - thresholds.negative_minutes * 60
    recent = negative_share(data, window_start)
    if recent is not None and recent >= thresholds.negative_share:
        before = negative_share(data, data.room.created, window_start)
        earlier = f", against {before:.0%} earlier in the lecture" if before is not None else ""
        found.append(
            Flag(
                "class_negative",
                f"Negative emotions at {recent:.0%} of the class over the last {thresholds.negative_minutes:g} min{earlier}.",
            )
        )
    for student in connected(data, now, thresholds):
        if student.no_face_since is not None and now - student.no_face_since >= thresholds.no_face_seconds:
            found.append(
                Flag(
                    "no_face", f"{student.name}: no face in view for {(now - student.no_face_since) / 60:.0f} min.", student.name
                )
            )
        if (
            student.label in NEGATIVE
            and student.label_since is not None
            and now - student.label_since >= thresholds.stuck_seconds
        ):
            minutes = (now - student.label_since) / 60
            found.append(Flag("stuck", f"{student.name}: {student.label} for {minutes:.0f} min.", student.name))
    return found


def roster(data: RoomData, now: float, thresholds: Thresholds) -> pd.DataFrame:
    rows = [
        {"student": s.name, "state": presence(s, now, thresholds), "faces in view": s.faces, "emotion": s.label or "–"}
        for s in sorted(data.students, key=lambda s: (s.joined, s.name))
    ]
    return pd.DataFrame(rows, columns=["student", "state", "faces in view", "emotion"])


def report_csv(data: RoomData) -> str:
    """Per-interval figures for each student, then for the class (student = 'class')."""
    students = interval_table(data)
    whole = class_table(data).drop(columns=["students"]).assign(student="class")
    return pd.concat([students, whole[students.columns]], ignore_index=True).to_csv(index=False, float_format="%.4f")


def report_html(data: RoomData, now: float, thresholds: Thresholds, chart_html: str) -> str:
    """A self-contained summary page: the timeline chart, the flags, the roster."""
    flag_items = "".join(f"<li>{html.escape(flag.message)}</li>" for flag in flags(data, now, thresholds)) or "<li>None.</li>"
    title = html.escape(data.room.title)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(data.room.created))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: class mood report</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2rem .6rem}}</style></head><body>
<h1>{title}: class mood report</h1>
<p>Room {data.room.code}, started {started}; {len(data.students)} students joined.
Emotion figures only: no images were kept. This is a reading of faces, not of feelings; never grade on it.</p>
<h2>Emotion shares per minute</h2>
{chart_html}
<h2>Flags now</h2><ul>{flag_items}</ul>
<h2>Students</h2>
{roster(data, now, thresholds).to_html(index=False)}
</body></html>
"""


class RoomPublisher:
    """Sends a student's face figures to their room a few times a second, from the video thread.

    Publishing is throttled (the room needs figures, not every frame), and when the store is
    unreachable it backs off instead of slowing the video; `problem` tells the page why.
    """

    def __init__(
        self, store: RoomStore, code: str, student_id: str, interval: float = 0.3, clock: Callable[[], float] = time.time
    ) -> None:
        self.store, self.code, self.student_id = store, code, student_id
        self.interval, self.clock = interval, clock
        self.paused = False
        self.problem: str | None = None
        self._next = 0.0

    def __call__(self, faces: Sequence) -> None:
        now = self.clock()
        if self.paused or now < self._next:
            return
        self._next = now + self.interval
        try:
            self.store.publish(self.code, self.student_id, [face.probabilities for face in faces], now)
            self.problem = None
        except StoreUnavailable as error:
            self.problem = str(error)
            self._next = now + 5.0  # back off; the video goes on meanwhile
        except RoomError as error:
            self.problem = str(error)
            self.paused = True
