"""What a teacher sees, computed from a room's figures: presence, the class mix, a timeline, flags, summaries.

Pure functions of `RoomData`, the time and the viewer's time zone, so the teacher's view, the CSV and
the report say the same thing, and tests can check them exactly. Names stay raw here: each renderer
(the page, the CSV, the HTML report) makes them safe for its own format.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from emotion.classroom.records import INTERVAL_SECONDS, LEAVE_AFTER_SECONDS, Interval, RoomData, Student
from emotion.labels import EMOTIONS

NEGATIVE = ("Angry", "Disgust", "Fear", "Sad")
NEGATIVE_INDEX = [EMOTIONS.index(name) for name in NEGATIVE]
NO_DATA = "No data"  # a period in which no student's figures arrived (a store outage, or no one streaming)
TOO_FEW = "Too few students"  # a class-only room's period with fewer students than its minimum: not shown
MIN_CLASS_STUDENTS = 5  # a class-only room shows the class's emotions only where at least this many share (k)
LOWEST_MIN_CLASS_STUDENTS = 3  # a deployment may lower the minimum this far, never further
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Thresholds:
    negative_share: float = 0.40  # class share of negative emotions that raises a flag...
    negative_minutes: float = 2.0  # ...when held over this many recent minutes
    no_face_seconds: float = 60.0  # a connected student with no face in view this long
    stuck_seconds: float = 120.0  # one student held in one negative emotion this long
    leave_after_seconds: float = LEAVE_AFTER_SECONDS  # no figures for this long: the stream dropped, counted as left
    min_students: int = MIN_CLASS_STUDENTS  # a class-only room's k: the deployment's, never the teacher's


def min_students(data: RoomData, thresholds: Thresholds) -> int:
    """How many students' figures a shown emotion figure must mix: the minimum in a class-only room, 1 by name."""
    return 1 if data.room.per_student else thresholds.min_students


@dataclass(frozen=True)
class Flag:
    kind: str  # class_negative, no_face or stuck
    text: str  # the message, with STUDENT where the student's name goes
    student: str | None = None
    since: float | None = None  # when the condition began (the report lists flags with their times)

    def render(self, name: Callable[[str], str] = str) -> str:
        """The message, the student's name passed through `name` (which makes it safe for the output's format)."""
        return self.text.replace("STUDENT", name(self.student)) if self.student is not None else self.text

    @property
    def message(self) -> str:
        return self.render()


def presence(student: Student, now: float, thresholds: Thresholds) -> str:
    """active (sharing), not sharing (joined, no figures yet on their path), paused, left (by choice) or
    dropped (not heard from for a while: a closed tab, a lost stream)."""
    if student.status == "left":
        return "left"
    if now - student.last_seen > thresholds.leave_after_seconds:
        return "dropped"
    if student.status == "active" and student.figures_at is None:
        return "not sharing"
    return student.status


def connected(data: RoomData, now: float, thresholds: Thresholds) -> list[Student]:
    """The students sharing now."""
    return [s for s in data.students if presence(s, now, thresholds) == "active"]


def sharing_senders(data: RoomData, now: float, thresholds: Thresholds) -> list[Student]:
    """The figures of the students sharing now (in a class-only room, under ids no name goes with)."""
    return [s for s in data.senders if presence(s, now, thresholds) == "active"]


def faces_in_view(senders: list[Student]) -> int:
    """How many of these senders show a face: the teacher's "Face in view" for the sharing ones."""
    return sum(1 for s in senders if s.faces)


def mix_now(data: RoomData, now: float, thresholds: Thresholds) -> dict[str, float]:
    """The class's emotion mix now: each sharing student with a face in view counts once; nothing in a
    class-only room until at least its minimum of students show a face."""
    mixes = [s.mix for s in sharing_senders(data, now, thresholds) if s.faces and s.mix is not None]
    if not mixes or len(mixes) < min_students(data, thresholds):
        return {}
    return dict(zip(EMOTIONS, np.mean(mixes, axis=0).tolist()))


def shown_intervals(data: RoomData, thresholds: Thresholds) -> list[Interval]:
    """The intervals whose class figures may be shown: those of moments when the room's minimum of students showed a face."""
    least = min_students(data, thresholds)
    if least <= 1:
        return data.intervals
    senders: dict[float, set[str]] = {}
    for i in data.intervals:
        if i.faces:
            senders.setdefault(i.start, set()).add(i.student_id)
    return [i for i in data.intervals if len(senders.get(i.start, ())) >= least]


def local_time(epoch: float | pd.Series, tz: tzinfo) -> pd.Timestamp | pd.Series:
    if isinstance(epoch, pd.Series):
        return pd.to_datetime(epoch, unit="s", utc=True).dt.tz_convert(tz)
    return pd.Timestamp(epoch, unit="s", tz="UTC").tz_convert(tz)


def interval_table(data: RoomData, tz: tzinfo = UTC) -> pd.DataFrame:
    """One row per student and interval: sample counts and the mean probability of each emotion (a per-student room's)."""
    names = {s.student_id: s.name for s in data.students}
    rows = []
    for i in sorted(data.intervals, key=lambda i: (i.start, names.get(i.student_id, ""))):
        shares = [total / i.faces for total in i.sums] if i.faces else [float("nan")] * len(EMOTIONS)
        rows.append(
            {
                "interval_start": local_time(i.start, tz),
                "student": names.get(i.student_id, i.student_id),
                "samples": i.samples,
                "samples_with_face": i.samples_with_face,
                "faces": i.faces,
                **dict(zip(EMOTIONS, shares)),
            }
        )
    return pd.DataFrame(rows, columns=["interval_start", "student", "samples", "samples_with_face", "faces", *EMOTIONS])


def class_table(
    data: RoomData, seconds: int = INTERVAL_SECONDS, until: float | None = None, tz: tzinfo = UTC, least: int = 1
) -> pd.DataFrame:
    """The class per period: students sending figures, samples with a face, and emotion shares over all faces.

    Every period from the first figures to `until` (default: the last figures) has a row; a period
    in which no figures arrived has 0 students, no shares and the note NO_DATA; one in which fewer than
    `least` students showed a face has no shares and the note TOO_FEW.
    """
    buckets: dict[float, dict] = {}
    for i in data.intervals:
        start = i.start - i.start % seconds
        row = buckets.setdefault(start, {"students": set(), "with_face": set(), "samples": 0, "samples_with_face": 0,
                                         "faces": 0, "sums": np.zeros(len(EMOTIONS))})
        row["students"].add(i.student_id)
        if i.faces:
            row["with_face"].add(i.student_id)
        row["samples"] += i.samples
        row["samples_with_face"] += i.samples_with_face
        row["faces"] += i.faces
        row["sums"] += np.asarray(i.sums)
    columns = ["interval_start", "students", "samples", "samples_with_face", "faces", *EMOTIONS, "note"]
    if not buckets:
        return pd.DataFrame(columns=columns)
    first = min(buckets)
    last = max(max(buckets), (until - until % seconds) if until is not None else first)
    rows = []
    for start in np.arange(first, last + seconds, seconds, dtype=np.float64):
        bucket = buckets.get(float(start))
        if bucket is None:
            rows.append({"interval_start": local_time(float(start), tz), "students": 0, "samples": 0, "samples_with_face": 0,
                         "faces": 0, **dict.fromkeys(EMOTIONS, float("nan")), "note": NO_DATA})
            continue
        too_few = 0 < len(bucket["with_face"]) < least
        shown = bucket["faces"] and not too_few
        shares = bucket["sums"] / bucket["faces"] if shown else np.full(len(EMOTIONS), np.nan)
        rows.append(
            {
                "interval_start": local_time(float(start), tz),
                "students": len(bucket["students"]),
                "samples": bucket["samples"],
                "samples_with_face": bucket["samples_with_face"],
                "faces": bucket["faces"],
                **dict(zip(EMOTIONS, shares.tolist())),
                "note": TOO_FEW if too_few else "",
            }
        )
    return pd.DataFrame(rows, columns=columns)


def timeline(data: RoomData, until: float | None = None, tz: tzinfo = UTC, least: int = 1) -> pd.DataFrame:
    """Emotion shares per minute over the lecture, long form (minute, time, emotion, share) for charting.

    `time` is the minute as HH:MM in `tz`. A minute without figures is one NO_DATA row of share 1, so
    a gap shows as a gap, not as a quiet class; a minute with fewer than `least` students showing a
    face is one TOO_FEW row alike.
    """
    table = class_table(data, seconds=60, until=until, tz=tz, least=least)
    columns = ["minute", "time", "emotion", "share"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    long = table.melt(id_vars=["interval_start"], value_vars=list(EMOTIONS), var_name="emotion", value_name="share").dropna()
    gaps = [table.loc[table["note"] == note, ["interval_start"]].assign(emotion=note, share=1.0) for note in (NO_DATA, TOO_FEW)]
    long = pd.concat([long, *gaps], ignore_index=True).rename(columns={"interval_start": "minute"})
    long["time"] = long["minute"].dt.strftime("%H:%M")
    order = {name: i for i, name in enumerate([*EMOTIONS, NO_DATA, TOO_FEW])}
    return long.sort_values(["minute", "emotion"], key=lambda c: c.map(order) if c.name == "emotion" else c)[columns]


def negative_share(intervals: list[Interval], since: float, until: float | None = None) -> float | None:
    """Share of negative emotions over all faces seen in [since, until); None where no face was seen."""
    chosen = [i for i in intervals if i.start >= since and (until is None or i.start < until)]
    faces = sum(i.faces for i in chosen)
    if not faces:
        return None
    return float(sum(sum(i.sums[k] for k in NEGATIVE_INDEX) for i in chosen) / faces)


def class_negative_flag(data: RoomData, now: float, thresholds: Thresholds) -> Flag | None:
    """Judged on the intervals that may be shown alone (a class-only room's minimum of students)."""
    window_start = now - thresholds.negative_minutes * 60
    shown = shown_intervals(data, thresholds)
    recent = negative_share(shown, window_start, now)
    if recent is None or recent < thresholds.negative_share:
        return None
    before = negative_share(shown, data.room.created, window_start)
    earlier = f", against {before:.0%} earlier in the lecture" if before is not None else ""
    text = f"Negative emotions at {recent:.0%} of the class over the last {thresholds.negative_minutes:g} min{earlier}."
    return Flag("class_negative", text, since=window_start)


def flags(data: RoomData, now: float, thresholds: Thresholds) -> list[Flag]:
    """The flags that hold now; a student's own flags only in a per-student room."""
    return flags_with(class_negative_flag(data, now, thresholds), data, now, thresholds)


def flags_with(class_flag: Flag | None, data: RoomData, now: float, thresholds: Thresholds) -> list[Flag]:
    """The class's flag (made already, from the same intervals) and each sharing student's own, in a per-student room."""
    found = [class_flag] if class_flag is not None else []
    for student in connected(data, now, thresholds) if data.room.per_student else []:
        found += student_flags(student, now, thresholds)
    return found


def student_flags(student: Student, now: float, thresholds: Thresholds) -> list[Flag]:
    """A sharing student's own flags now (a per-student room's): no face in view, or held in a negative emotion."""
    found = []
    if student.no_face_since is not None and now - student.no_face_since >= thresholds.no_face_seconds:
        minutes = (now - student.no_face_since) / 60
        found.append(Flag("no_face", f"STUDENT: no face in view for {minutes:.0f} min.", student.name, student.no_face_since))
    if student.label in NEGATIVE and student.label_since is not None and now - student.label_since >= thresholds.stuck_seconds:
        minutes = (now - student.label_since) / 60
        found.append(Flag("stuck", f"STUDENT: {student.label} for {minutes:.0f} min.", student.name, student.label_since))
    return found


def flag_history(data: RoomData, now: float, thresholds: Thresholds) -> list[Flag]:
    """Every flag raised during the lecture, with the time its condition began, from the stored intervals.

    The class flag is judged at the end of each minute; a student's flags from runs of their
    intervals: with no face in any sample, or with one negative emotion ahead, for at least the
    threshold. Interval figures are what a room keeps, so times are to INTERVAL_SECONDS.
    """
    found = []
    raised = False
    for minute in range(int(data.room.created // 60 * 60 + 60), int(now) + 1, 60):
        flag = class_negative_flag(data, minute, thresholds)
        if flag is not None and not raised:
            found.append(Flag(flag.kind, flag.text.replace("over the last", "over"), since=minute))
        raised = flag is not None
    names = {s.student_id: s.name for s in data.students} if data.room.per_student else {}
    for student_id, name in names.items():
        intervals = sorted((i for i in data.intervals if i.student_id == student_id), key=lambda i: i.start)
        found += _runs(intervals, name, "no_face", lambda i: i.samples > 0 and i.samples_with_face == 0,
                       thresholds.no_face_seconds, "STUDENT: no face in view for {minutes:.0f} min.")
        for label in NEGATIVE:
            index = EMOTIONS.index(label)
            found += _runs(intervals, name, "stuck", lambda i, index=index: i.faces > 0 and int(np.argmax(i.sums)) == index,
                           thresholds.stuck_seconds, f"STUDENT: {label} for {{minutes:.0f}} min.")
    return sorted(found, key=lambda f: (f.since or 0.0, f.kind, f.student or ""))


def _runs(intervals, name: str, kind: str, holds: Callable, seconds: float, text: str) -> list[Flag]:
    """A flag for each run of consecutive intervals in which `holds` is true for at least `seconds`."""
    found, start, previous = [], None, None
    for interval in [*intervals, None]:
        consecutive = interval is not None and previous is not None and interval.start - previous.start <= INTERVAL_SECONDS
        if interval is not None and holds(interval) and (start is None or consecutive):
            start = interval.start if start is None else start
        else:
            if start is not None and previous is not None and previous.start + INTERVAL_SECONDS - start >= seconds:
                minutes = (previous.start + INTERVAL_SECONDS - start) / 60
                found.append(Flag(kind, text.format(minutes=minutes), name, start))
            start = interval.start if interval is not None and holds(interval) else None
        previous = interval
    return found


ROSTER_COLUMNS = ["student", "state", "faces read"]
ROSTER_TABLE_LIMIT = 30  # a larger class's roster scrolls, the students who may need the teacher first
ATTENTION_ORDER = ("not sharing", "paused", "dropped", "left", "active")
FIGURE_COLUMNS = ["faces in view", "emotion"]  # a per-student room's only


def roster(data: RoomData, now: float, thresholds: Thresholds) -> pd.DataFrame:
    """Each student's state and path now; in a per-student room their figures too, only while they share (a
    paused, gone or not-yet-sharing student's last figures no longer describe them)."""
    rows = [roster_row(s, now, thresholds) for s in sorted(data.students, key=lambda s: (s.joined, s.name))]
    return pd.DataFrame(rows, columns=ROSTER_COLUMNS + (FIGURE_COLUMNS if data.room.per_student else []))


def attention_first(table: pd.DataFrame) -> pd.DataFrame:
    """A roster with the students not sharing first, then the paused, the gone and the sharing, each in joining order."""
    rank = table["state"].map({state: place for place, state in enumerate(ATTENTION_ORDER)})
    return table.iloc[rank.argsort(kind="stable")]


def roster_row(student: Student, now: float, thresholds: Thresholds) -> dict[str, str]:
    """One student's row: what the teacher sees about them, and what a student in a per-student room sees of themselves."""
    state = presence(student, now, thresholds)
    sharing = state == "active"
    return {
        "student": student.name,
        "state": state,
        "faces read": "on device" if student.path == "device" else "on server",
        "faces in view": str(student.faces) if sharing else "–",
        "emotion": (student.label or "–") if sharing else "–",
    }


def student_summary(data: RoomData, now: float) -> pd.DataFrame:
    """Per student over the lecture: time with a face in view, time paused, and the share of each emotion."""
    rows = []
    for student in sorted(data.students, key=lambda s: (s.joined, s.name)):
        intervals = [i for i in data.intervals if i.student_id == student.student_id]
        in_view = sum(INTERVAL_SECONDS * i.samples_with_face / i.samples for i in intervals if i.samples)
        faces = sum(i.faces for i in intervals)
        sums = np.sum([i.sums for i in intervals], axis=0) if intervals else np.zeros(len(EMOTIONS))
        shares = sums / faces if faces else np.full(len(EMOTIONS), np.nan)
        paused = student.paused_seconds + (now - student.paused_since if student.paused_since is not None else 0.0)
        rows.append({"student": student.name, "minutes in view": in_view / 60, "minutes paused": paused / 60,
                     **dict(zip(EMOTIONS, shares.tolist()))})
    return pd.DataFrame(rows, columns=["student", "minutes in view", "minutes paused", *EMOTIONS])
