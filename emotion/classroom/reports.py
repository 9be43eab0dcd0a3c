"""The reports a teacher downloads: the figures per interval as CSV, a summary page as HTML."""

from __future__ import annotations

import html
import time

import pandas as pd

from emotion.classroom.analytics import Thresholds, class_table, flags, interval_table, roster
from emotion.classroom.records import RoomData


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
