"""The teacher's figures from simulated students: real pipelines on real photos push into a room.

Each student is a tracker-smoothed pipeline fed with real photographs; the test keeps what each
published and checks that the teacher's mix, timeline, flags and CSV are exactly what it implies.
"""

from __future__ import annotations

import codecs
import io
import re
import xml.etree.ElementTree as ET
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest

from emotion.classroom.analytics import (
    NEGATIVE_INDEX,
    NO_DATA,
    Thresholds,
    attention_first,
    class_table,
    flag_history,
    flags,
    mix_now,
    negative_share,
    presence,
    roster,
    student_summary,
    timeline,
)
from emotion.classroom.memory_store import MemoryStore
from emotion.classroom.publisher import RoomPublisher
from emotion.classroom.records import new_sender
from emotion.classroom.redis_store import RedisStore
from emotion.classroom.reports import report_csv, report_csv_file, report_html, timeline_svg
from emotion.classroom.views import room_charts_now, room_counts_now
from emotion.labels import EMOTIONS
from emotion.pipeline import PipelineSettings, analyze_frame
from emotion.tracking import FaceTracker
from tests.support.files import read_photo

T0 = 1_800_000_000.0  # a whole minute, so intervals and minutes start with the lecture
STUDENT_PHOTOS = {"Ada": "facerec_obama.jpg", "Ben": "facerec_two_people.jpg", "Cy": None}  # Cy's camera sees no one


@pytest.fixture(scope="module", params=["memory", "redis"])
def store(request):
    return MemoryStore() if request.param == "memory" else RedisStore(request.getfixturevalue("redis_process").url)


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


class RecordingStore:
    """The real store, noting what each student published (names by student id)."""

    def __init__(self, store) -> None:
        self.store = store
        self.sent: dict[str, list[tuple[float, list[np.ndarray]]]] = {}

    def publish_samples(self, code, student_id, samples, path="server", sender=None):
        self.store.publish_samples(code, student_id, samples, path, sender)
        for sample in samples:
            self.sent.setdefault(student_id, []).append((sample.at, [np.asarray(f) for f in sample.faces]))


SETTLED_FRAMES = 2 * FaceTracker().window  # the faces read from then on are the same, frame after frame


def run_class(store, models, seconds: int = 130, fps: int = 2):
    """Three students stream for `seconds`; returns the room and what each student actually published."""
    room = store.create_room("Biology", 3 * 3600, T0, per_student=True)
    clock = Clock(T0)
    recorder = RecordingStore(store)
    students = []
    for name, photo in STUDENT_PHOTOS.items():
        student = store.join(room.code, name, T0)
        frame = read_photo(photo) if photo else np.full((480, 640, 3), 70, np.uint8)
        publisher = RoomPublisher(recorder, room.code, student.student_id, interval=0.5, clock=clock)
        students.append((name, student.student_id, frame, FaceTracker(), publisher))
    settings = PipelineSettings()
    read: dict[str, list] = {}
    for step in range(seconds * fps):
        clock.now = T0 + step / fps
        for name, _, frame, tracker, publisher in students:
            if step < SETTLED_FRAMES:  # a still photo: once the tracker's smoothing settles, each frame reads the same
                read[name] = analyze_frame(frame, models, settings, tracker).faces
            publisher(read[name])
    published = {name: recorder.sent.get(student_id, []) for name, student_id, *_ in students}
    return room, published, clock.now


@pytest.fixture(scope="module")
def lecture(store, models):
    room, published, end = run_class(store, models)
    return store, room, published, end


def test_live_figures_are_what_the_students_sent(lecture):
    store, room, published, end = lecture
    data = store.data(room.code, end)
    thresholds = Thresholds()
    assert [presence(s, end, thresholds) for s in data.students] == ["active"] * 3
    assert {s.name: s.faces for s in data.students} == {"Ada": 1, "Ben": 2, "Cy": 0}
    expected = np.mean([np.mean(np.asarray(published[name][-1][1], dtype=np.float64), axis=0) for name in ("Ada", "Ben")], axis=0)
    assert list(mix_now(data, end, thresholds).values()) == pytest.approx(expected.tolist())
    assert roster(data, end, thresholds)["student"].tolist() == ["Ada", "Ben", "Cy"]


def test_class_intervals_sum_every_published_face(lecture):
    store, room, published, end = lecture
    table = class_table(store.data(room.code, end))
    assert table["samples"].sum() == sum(len(sent) for sent in published.values())
    faces = [face for sent in published.values() for _, sample in sent for face in sample]
    assert table["faces"].sum() == len(faces)
    first = table.iloc[0]
    in_first = [f for sent in published.values() for t, sample in sent if t < T0 + 10 for f in sample]
    assert [first[name] for name in EMOTIONS] == pytest.approx(np.mean(np.asarray(in_first, dtype=np.float64), axis=0).tolist())


def test_timeline_has_one_share_per_emotion_per_minute(lecture):
    store, room, published, end = lecture
    line = timeline(store.data(room.code, end))
    assert sorted(line["minute"].unique()) == [pd.Timestamp(T0 + 60 * m, unit="s", tz="UTC") for m in range(3)]
    second_minute = [f for sent in published.values() for t, sample in sent if T0 + 60 <= t < T0 + 120 for f in sample]
    shares = line[line["minute"] == pd.Timestamp(T0 + 60, unit="s", tz="UTC")].set_index("emotion")["share"]
    expected = np.mean(np.asarray(second_minute, dtype=np.float64), axis=0)
    assert [shares[name] for name in EMOTIONS] == pytest.approx(expected.tolist())


def test_flags_follow_the_teachers_thresholds(lecture):
    store, room, published, end = lecture
    data = store.data(room.code, end)
    faces = [f for sent in published.values() for t, sample in sent if t >= end - 120 for f in sample]
    share = float(np.mean([np.asarray(f, dtype=np.float64)[NEGATIVE_INDEX].sum() for f in faces]))
    assert negative_share(data.intervals, end - 120) == pytest.approx(share)
    lenient = flags(data, end, Thresholds(negative_share=min(share + 0.01, 1.0), no_face_seconds=3600, stuck_seconds=3600))
    assert lenient == []
    strict = flags(data, end, Thresholds(negative_share=max(share - 0.01, 0.0), no_face_seconds=60, stuck_seconds=3600))
    kinds = {(f.kind, f.student) for f in strict}
    assert ("class_negative", None) in kinds and ("no_face", "Cy") in kinds
    assert f"{share:.0%}" in next(f.message for f in strict if f.kind == "class_negative")


def test_one_student_held_in_a_negative_emotion_is_flagged_by_name(store):
    room = store.create_room("Maths", 3600, T0, per_student=True)
    dana = store.join(room.code, "Dana", T0)
    sad = np.array([0.05, 0.02, 0.08, 0.05, 0.7, 0.02, 0.08])
    for t in range(0, 181, 1):
        store.publish(room.code, dana.student_id, [sad], T0 + t)
    found = flags(store.data(room.code, T0 + 180), T0 + 180, Thresholds(stuck_seconds=120))
    assert [(f.kind, f.student, f.message) for f in found if f.kind == "stuck"] == [("stuck", "Dana", "Dana: Sad for 3 min.")]


def test_paused_left_and_dropped_students(store):
    room = store.create_room("Presence", 3600, T0, per_student=True)
    ids = {name: store.join(room.code, name, T0).student_id for name in ("Eve", "Fay", "Gus")}
    for student_id in ids.values():
        store.publish(room.code, student_id, [], T0 + 1)
    store.set_status(room.code, ids["Eve"], "paused", T0 + 2)
    store.set_status(room.code, ids["Fay"], "left", T0 + 2)
    data = store.data(room.code, T0 + 30)
    states = dict(zip(roster(data, T0 + 30, Thresholds())["student"], roster(data, T0 + 30, Thresholds())["state"]))
    assert states == {"Eve": "dropped", "Fay": "left", "Gus": "dropped"}
    eve = next(s for s in data.students if s.name == "Eve")
    assert presence(eve, T0 + 10, Thresholds()) == "paused"


def test_csv_holds_every_student_interval_and_the_class(lecture):
    store, room, published, end = lecture
    data = store.data(room.code, end)
    table = pd.read_csv(io.StringIO(report_csv(data)))
    assert set(table["student"]) == {"Ada", "Ben", "Cy", "class"}
    per_student = table[table["student"] != "class"]
    assert len(per_student) == len(data.intervals)
    ada = per_student[per_student["student"] == "Ada"]
    assert ada["samples"].sum() == len(published["Ada"])
    cy = per_student[per_student["student"] == "Cy"]
    assert cy["faces"].sum() == 0 and cy["Happy"].isna().all()
    assert table[table["student"] == "class"]["faces"].sum() == per_student["faces"].sum()


def test_html_report_is_self_contained_and_escapes_names(store):
    room = store.create_room("<b>Chem</b>", 3600, T0, per_student=True)
    store.join(room.code, "<script>x</script>", T0)
    page = report_html(store.data(room.code, T0 + 5), T0 + 5, Thresholds())
    assert "&lt;b&gt;Chem&lt;/b&gt;" in page and "<script>x</script>" not in page
    assert "no images were kept" in page
    assert not re.search(r"<script|\b(?:src|href)=|@import|url\(", page)  # nothing to fetch: it opens offline


def test_html_report_has_the_timeline_mix_flags_and_each_students_summary(lecture):
    store, room, _, end = lecture
    page = report_html(store.data(room.code, end), end, Thresholds(negative_share=0.01, no_face_seconds=30))
    assert page.count("<svg") == 2  # the timeline and the class mix, inline
    assert re.search(r"<li><time>\d\d:\d\d</time> Cy: no face in view for 2 min\.</li>", page)
    for name in ("Ada", "Ben", "Cy"):
        assert f"<td>{name}</td>" in page


def test_csv_neutralises_cells_a_spreadsheet_would_run(store):
    room = store.create_room("CSV", 3600, T0, per_student=True)
    names = ['=HYPERLINK("http://ev.il","x")', "+1", "-2", "@SUM(A1)", "Zoë"]
    for name in names:
        student = store.join(room.code, name, T0)
        store.publish(room.code, student.student_id, [np.eye(len(EMOTIONS))[3]], T0 + 1)
    table = pd.read_csv(io.StringIO(report_csv(store.data(room.code, T0 + 2))))
    assert set(table["student"]) == {"'" + n for n in names[:4]} | {"Zoë", "class"}


def test_the_downloaded_csv_has_a_byte_order_mark_so_excel_reads_any_name(store):
    """Issue #25: without the mark Excel reads the file in a legacy code page and garbles non-Latin names."""
    room = store.create_room("BOM", 3600, T0, per_student=True)
    names = ["Зоя", "Αλίκη", "美咲", "Zoë"]
    for name in names:
        student = store.join(room.code, name, T0)
        store.publish(room.code, student.student_id, [np.eye(len(EMOTIONS))[3]], T0 + 1)
    data = store.data(room.code, T0 + 2)
    downloaded = report_csv_file(data)
    assert downloaded.startswith(codecs.BOM_UTF8) and downloaded[len(codecs.BOM_UTF8) :].startswith(b"interval_start,student,")
    assert downloaded.decode("utf-8-sig") == report_csv(data)
    table = pd.read_csv(io.BytesIO(downloaded), encoding="utf-8-sig")
    assert set(table["student"]) == {*names, "class"}


def test_the_timeline_keeps_every_label_inside_the_picture():
    """Issue #25: the HTML report's timeline cut its "100%" label at the top. Each label's box, estimated
    generously (0.6 em a character, 0.8 em above the baseline, 0.25 em below), lies within the SVG."""
    minutes = [f"09:{m:02d}" for m in range(30)]
    long = pd.DataFrame(
        [{"time": t, "emotion": e, "share": 1 / len(EMOTIONS)} for t in minutes for e in EMOTIONS]
    )
    svg = ET.fromstring(timeline_svg(long))
    width, height = float(svg.get("width")), float(svg.get("height"))
    texts = svg.findall("{http://www.w3.org/2000/svg}text")
    assert {"0%", "50%", "100%", "09:00", "09:28"} <= {t.text for t in texts}  # every second minute of 30
    for text in texts:
        size, x, y = float(text.get("font-size")), float(text.get("x")), float(text.get("y"))
        extent = 0.6 * size * len(text.text)
        start = {"end": x - extent, "middle": x - extent / 2}.get(text.get("text-anchor", "start"), x)
        assert start >= 0 and start + extent <= width, f"{text.text!r} runs past a side: {start:.0f} to {start + extent:.0f}"
        assert y - 0.8 * size >= 0 and y + 0.25 * size <= height, f"{text.text!r} runs past the top or bottom at y={y}"


def test_intervals_without_figures_are_marked_in_the_csv_and_the_timeline(store):
    """A store outage drops figures; the report shows the gap as a gap, not as a quiet class."""
    room = store.create_room("Outage", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    for second in (5, 15, 95):  # nothing arrives between T0 + 20 and T0 + 90
        store.publish(room.code, ada.student_id, [np.eye(len(EMOTIONS))[3]], T0 + second)
    data = store.data(room.code, T0 + 125)
    table = pd.read_csv(io.StringIO(report_csv(data, until=T0 + 125)))
    whole = table[table["student"] == "class"]
    assert list(whole["note"].fillna("")) == ["", "", *[NO_DATA] * 7, "", NO_DATA, NO_DATA, NO_DATA]
    minutes = timeline(data, until=T0 + 125)
    assert list(minutes[minutes["emotion"] == NO_DATA]["time"]) == ["08:02"]  # T0 is 08:00 UTC


def test_times_follow_the_viewers_time_zone(lecture):
    store, room, _, end = lecture
    data = store.data(room.code, end)
    berlin = ZoneInfo("Europe/Berlin")
    table = pd.read_csv(io.StringIO(report_csv(data, tz=berlin)))
    assert table["interval_start"].iloc[0] == "2027-01-15 09:00:00+0100"
    assert timeline(data, tz=berlin)["time"].iloc[0] == "09:00"
    assert "2027-01-15 09:00 CET" in report_html(data, end, Thresholds(), berlin)


def test_each_students_summary(store):
    room = store.create_room("Summary", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    for second in range(0, 20, 2):  # 5 samples in each of two intervals; a face in 5, then in 2
        faces = [np.eye(len(EMOTIONS))[3]] if second < 10 or second % 4 == 0 else []
        store.publish(room.code, ada.student_id, faces, T0 + second)
    store.set_status(room.code, ada.student_id, "paused", T0 + 20)
    summary = student_summary(store.data(room.code, T0 + 80), T0 + 80).iloc[0]
    assert summary["minutes in view"] == pytest.approx((10 + 4) / 60)
    assert summary["minutes paused"] == pytest.approx(1.0)
    assert summary["Happy"] == pytest.approx(1.0)


def test_flag_history_lists_each_flag_with_the_time_its_condition_began(store):
    room = store.create_room("History", 3600, T0, per_student=True)
    ada = store.join(room.code, "Ada", T0)
    sad = np.eye(len(EMOTIONS))[EMOTIONS.index("Sad")]
    for second in range(0, 300, 5):
        faces = [] if 60 <= second < 150 else [sad] if second >= 150 else [np.eye(len(EMOTIONS))[3]]
        store.publish(room.code, ada.student_id, faces, T0 + second)
    raised = flag_history(store.data(room.code, T0 + 300), T0 + 300, Thresholds(no_face_seconds=60, stuck_seconds=120))
    assert [(f.kind, f.since - T0, f.message) for f in raised if f.student] == [
        ("no_face", 60, "Ada: no face in view for 2 min."),
        ("stuck", 150, "Ada: Sad for 2 min."),
    ]
    assert [f.kind for f in raised if not f.student] == ["class_negative"]


def test_the_teacher_views_counts_and_charts_are_the_rooms_figures(lecture):
    store, room, published, end = lecture
    data = store.data(room.code, end)
    counts = room_counts_now(data, end, Thresholds())
    assert counts.connected == len(STUDENT_PHOTOS) and counts.paused == counts.gone == 0
    assert counts.faces_in_view == sum(1 for sent in published.values() if sent and sent[-1][1])  # students, not faces
    assert counts.flags == flags(data, end, Thresholds())
    charts = room_charts_now(data, end, Thresholds(), ZoneInfo("UTC"))
    assert charts.mix == pytest.approx(mix_now(data, end, Thresholds())) and not charts.history.empty
    assert charts.history.equals(timeline(data, until=end, least=1)) and not charts.roster_scrolls
    assert sorted(charts.roster["student"]) == sorted(STUDENT_PHOTOS)


def class_only_room(store, sharing: int, minutes: int = 3):
    """A class-only room in which `sharing` students show one happy face each, twice a second, for `minutes`."""
    room = store.create_room("Class only", 3600, T0)
    happy = np.full(7, 0.05)
    happy[EMOTIONS.index("Happy")] = 0.7
    students = [(store.join(room.code, f"Pupil {n}", T0), new_sender()) for n in range(sharing)]
    for step in range(minutes * 60 * 2):
        for student, sender in students:
            store.publish(room.code, student.student_id, [happy], T0 + step / 2, "device", sender)
    return room, T0 + minutes * 60 - 1  # still in the last minute of figures


@pytest.mark.parametrize("sharing", [4, 5])
def test_a_class_only_room_shows_the_class_only_with_enough_students(store, sharing):
    """4 students sharing faces: no emotion figure anywhere; 5: the class's, and never a name beside a figure."""
    room, end = class_only_room(store, sharing)
    data = store.data(room.code, end)
    thresholds = Thresholds()  # the default minimum of 5
    enough = sharing >= thresholds.min_students
    assert bool(mix_now(data, end, thresholds)) == enough
    shown = timeline(data, until=end, least=5)
    assert set(shown["emotion"]) == ({*EMOTIONS} if enough else {"Too few students"})
    assert list(roster(data, end, thresholds).columns) == ["student", "state", "faces read"]  # names, no figures
    csv = pd.read_csv(io.StringIO(report_csv(data, until=end, thresholds=thresholds)))
    assert set(csv["student"]) == {"class"}
    assert csv["Happy"].notna().all() if enough else csv["Happy"].isna().all()
    assert set(csv["note"].fillna("")) == ({""} if enough else {"Too few students"})
    page = report_html(data, end, thresholds)
    assert "Pupil 0" in page  # in the roster, with no figure beside it
    students_table = page[page.index("<h2>Roster"):]
    assert "%" not in students_table and "Happy" not in students_table
    assert ("Class mix over the lecture" in page and "No face was seen" not in page) == enough


def test_a_large_roster_puts_those_who_may_need_the_teacher_first():
    table = pd.DataFrame({"student": list("abcdef"), "state": ["active", "left", "paused", "not sharing", "dropped", "paused"]})
    assert attention_first(table)["student"].tolist() == ["d", "c", "f", "e", "b", "a"]
