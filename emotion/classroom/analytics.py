"""What a teacher sees, computed from a room's figures: presence, the class mix, a timeline, flags.

Pure functions of `RoomData` and the time, so the teacher's view, the CSV and the report say the
same thing, and tests can check them exactly.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from emotion.classroom.records import INTERVAL_SECONDS, RoomData, Student
from emotion.preprocess import EMOTIONS

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
