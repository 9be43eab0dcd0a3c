"""The reports a teacher downloads: the figures per interval as CSV, a summary page as HTML.

The HTML page is self-contained (its charts are inline SVG, its styles inline): it opens offline,
years later, as it looked on the day. Times are in the viewer's time zone; user-given text is
escaped for each format (HTML escaping; in the CSV, cells that a spreadsheet would run as a
formula are neutralised as OWASP recommends).
"""

from __future__ import annotations

import html
from dataclasses import replace
from datetime import tzinfo

import numpy as np
import pandas as pd

from emotion.classroom.analytics import (
    NO_DATA,
    TOO_FEW,
    UTC,
    Thresholds,
    class_table,
    flag_history,
    interval_table,
    local_time,
    min_students,
    roster,
    shown_intervals,
    student_summary,
    timeline,
)
from emotion.classroom.records import RoomData
from emotion.drawing import EMOTION_COLOURS
from emotion.labels import EMOTIONS

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NO_DATA_COLOUR = "#d9d9d9"
TOO_FEW_COLOUR = "#efefef"


def neutralise_formula(cell: object) -> object:
    """A text cell that a spreadsheet would take for a formula, prefixed with a quote (OWASP CSV injection)."""
    if isinstance(cell, str) and cell.startswith(FORMULA_STARTS):
        return "'" + cell
    return cell


def report_csv(data: RoomData, until: float | None = None, tz: tzinfo = UTC, thresholds: Thresholds = Thresholds()) -> str:
    """Per-interval figures for each student (a per-student room's), then for the class (student = 'class'); times in `tz`.

    Class rows cover every interval from the first figures to `until`; those with no figures say so
    in the note column (a store outage, or no one streaming), and so do a class-only room's intervals
    with too few students, whose shares stay empty.
    """
    own = data if data.room.per_student else replace(data, intervals=[])  # a class-only room has no student rows
    students = interval_table(own, tz).assign(note="")
    least = min_students(data, thresholds)
    whole = class_table(data, until=until, tz=tz, least=least).drop(columns=["students"]).assign(student="class")
    table = pd.concat([students, whole[students.columns]], ignore_index=True)
    table["student"] = table["student"].map(neutralise_formula)
    return table.to_csv(index=False, float_format="%.4f", date_format="%Y-%m-%d %H:%M:%S%z")


def report_csv_file(data: RoomData, until: float | None = None, tz: tzinfo = UTC, thresholds: Thresholds = Thresholds()) -> bytes:
    """report_csv as the teacher downloads it: UTF-8 with a byte-order mark, without which Excel reads
    the file in the system's legacy code page and garbles every name outside it (Cyrillic, Greek, CJK...)."""
    return report_csv(data, until, tz, thresholds).encode("utf-8-sig")


def hex_colour(name: str) -> str:
    if name == NO_DATA:
        return NO_DATA_COLOUR
    if name == TOO_FEW:
        return TOO_FEW_COLOUR
    b, g, r = EMOTION_COLOURS[name]
    return f"#{r:02x}{g:02x}{b:02x}"


def timeline_svg(long: pd.DataFrame, width: int = 760, height: int = 220) -> str:
    """Stacked bars of the emotion shares per minute (grey where no figures arrived), as inline SVG.

    The bars fill `height`; margins around them hold the labels whole: the share labels stand left of
    the bars, "100%" level with their top, and the minute labels below, the last one ending by the right edge.
    """
    minutes = list(dict.fromkeys(long["time"]))
    if not minutes:
        return "<p>No figures were received.</p>"
    left, top_margin, bottom, right = 34, 8, 24, 16
    bar = (width - left - right) / len(minutes)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{top_margin + height + bottom}" role="img" '
             'aria-label="Emotion shares per minute">']
    for share in (0.0, 0.5, 1.0):
        y = top_margin + height * (1 - share)
        parts.append(f'<text x="{left - 4}" y="{y + 4:.1f}" text-anchor="end" font-size="10">{share:.0%}</text>')
    for index, minute in enumerate(minutes):
        rows = long[long["time"] == minute]
        total = float(rows["share"].sum()) or 1.0
        top = float(top_margin)
        for emotion, share in zip(rows["emotion"], rows["share"]):
            h = height * float(share) / total
            title = {NO_DATA: f"{minute}: no figures received", TOO_FEW: f"{minute}: too few students to show"}.get(
                emotion, f"{minute} {emotion} {float(share):.0%}")
            parts.append(f'<rect x="{left + index * bar:.1f}" y="{top:.1f}" width="{max(bar - 1, 1):.1f}" height="{h:.1f}" '
                         f'fill="{hex_colour(emotion)}"><title>{html.escape(title)}</title></rect>')
            top += h
        if index % max(1, len(minutes) // 12) == 0:
            # Centred under its bar, and kept inside the picture at either end.
            x = min(max(left + (index + 0.5) * bar, left + 14), width - 14)
            parts.append(f'<text x="{x:.1f}" y="{top_margin + height + 16}" text-anchor="middle" font-size="10">{minute}</text>')
    parts.append("</svg>")
    return "".join(parts)


def mix_svg(shares: dict[str, float], width: int = 420) -> str:
    """Horizontal bars of the class's emotion mix over the lecture, as inline SVG."""
    row, label = 22, 70
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{row * len(EMOTIONS)}" role="img" '
             'aria-label="Class mix over the lecture">']
    for index, name in enumerate(EMOTIONS):
        share = shares.get(name, 0.0)
        y = index * row
        parts.append(f'<text x="0" y="{y + 15}" font-size="12">{name}</text>')
        parts.append(f'<rect x="{label}" y="{y + 3}" width="{(width - label - 40) * share:.1f}" height="{row - 6}" '
                     f'fill="{hex_colour(name)}"/>')
        parts.append(f'<text x="{label + (width - label - 40) * share + 4:.1f}" y="{y + 15}" font-size="11">{share:.0%}</text>')
    parts.append("</svg>")
    return "".join(parts)


def lecture_mix(data: RoomData, thresholds: Thresholds = Thresholds()) -> dict[str, float]:
    """The class's mix over the lecture, from the intervals that may be shown."""
    shown = shown_intervals(data, thresholds)
    faces = sum(i.faces for i in shown)
    if not faces:
        return {}
    sums = np.sum([i.sums for i in shown], axis=0)
    return dict(zip(EMOTIONS, (sums / faces).tolist()))


def html_table(table: pd.DataFrame, percent: tuple[str, ...] = (), minutes: tuple[str, ...] = ()) -> str:
    """A table of plain, escaped cells (pandas' to_html escapes too; this keeps the formats readable)."""
    def cell(column: str, value: object) -> str:
        if column in percent:
            return "–" if pd.isna(value) else f"{float(value):.0%}"  # type: ignore[arg-type]
        if column in minutes:
            return f"{float(value):.1f}"  # type: ignore[arg-type]
        return html.escape(str(value))

    head = "".join(f"<th>{html.escape(c)}</th>" for c in table.columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(c, v)}</td>" for c, v in row.items()) + "</tr>" for _, row in table.iterrows())
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def report_html(data: RoomData, now: float, thresholds: Thresholds, tz: tzinfo = UTC) -> str:
    """The summary page: the timeline, the class mix over the lecture, every flag raised with its time,
    each student's summary and the roster at download time. Opens with no network."""
    title = html.escape(data.room.title)
    started = local_time(data.room.created, tz).strftime("%Y-%m-%d %H:%M %Z")
    at = local_time(now, tz).strftime("%Y-%m-%d %H:%M %Z")
    raised = flag_history(data, now, thresholds)
    flag_items = "".join(
        f"<li><time>{local_time(flag.since or now, tz):%H:%M}</time> {html.escape(flag.message)}</li>" for flag in raised
    ) or "<li>None.</li>"
    mix = lecture_mix(data, thresholds)
    keys = [*EMOTIONS, NO_DATA, TOO_FEW]
    legend = "".join(f'<span class="key"><i style="background:{hex_colour(n)}"></i>{n}</span>' for n in keys)
    least = min_students(data, thresholds)
    if data.room.per_student:
        summary = html_table(student_summary(data, now), percent=EMOTIONS, minutes=("minutes in view", "minutes paused"))
        students = f"<h2>Students</h2>\n{summary}"
    else:
        students = (f"<p>A class-only room: no student's figures were kept by name, and the class's emotions are shown "
                    f"only for moments when at least {least} students showed a face.</p>")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{title}: class mood report</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto;color:#222}} table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:.2rem .6rem;text-align:left}} .key{{margin-right:1rem;font-size:.85rem}}
.key i{{display:inline-block;width:.8rem;height:.8rem;margin-right:.3rem;vertical-align:middle}} time{{font-weight:bold}}</style>
</head><body>
<h1>{title}: class mood report</h1>
<p>Room {html.escape(data.room.code)}, started {started}; report made {at}; {len(data.students)} students joined.
Emotion figures only: no images were kept. This is a reading of facial expressions, not of feelings: a classroom
aid, never a basis for grading or discipline.</p>
<h2>Emotion shares per minute</h2>
{timeline_svg(timeline(data, until=now, tz=tz, least=least))}
<p>{legend}</p>
<h2>Class mix over the lecture</h2>
{mix_svg(mix) if mix else "<p>No face was seen.</p>"}
<h2>Flags raised during the lecture</h2><ul>{flag_items}</ul>
{students}
<h2>Roster at {at}</h2>
{html_table(roster(data, now, thresholds))}
</body></html>
"""
