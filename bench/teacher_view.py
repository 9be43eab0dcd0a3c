"""The server's part of the teacher's lag: one refresh of the class-mood view's figures and charts.

    python bench/teacher_view.py [--students 50] [--minutes 10] [--repeats 30]

Fills an in-memory room with --students students who each sent one face's figures twice a second for
--minutes, then times what the teacher page's fragments (webapp/pages/teach.py: room_counts every second,
room_charts every two) compute together, with the page's own room_counts_now and room_charts_now: the
room read from the store, presence, flags, the mix now and its chart, the per-minute timeline and its
chart (as Vega-Lite specs, as Streamlit sends them) and the roster. Not
timed: Streamlit's own work and the browser's rendering. Prints the median and p95 in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from emotion.classroom.analytics import Thresholds
from emotion.classroom.memory_store import MemoryStore
from webapp.pages.teach import room_charts_now, room_counts_now

FIGURES_EVERY_S = 0.5  # the on-device page's cadence


def filled_room(students: int, minutes: float) -> tuple[MemoryStore, str]:
    store = MemoryStore()
    start = time.time() - minutes * 60
    code = store.create_room("bench", 4 * 3600, start, per_student=True).code
    ids = [store.join(code, f"student {i}", start).student_id for i in range(students)]
    rng = np.random.default_rng(0)
    for step in range(int(minutes * 60 / FIGURES_EVERY_S)):
        for student_id in ids:
            face = rng.dirichlet(np.ones(7)).astype(np.float32)
            store.publish(code, student_id, [face], start + step * FIGURES_EVERY_S, "device")
    return store, code


def refresh(store: MemoryStore, code: str, thresholds: Thresholds) -> None:
    """What room_counts and room_charts compute before Streamlit draws them: the page's own functions."""
    now = time.time()
    data = store.data(code, now)
    room_counts_now(data, now, thresholds)
    charts = room_charts_now(data, now, thresholds, UTC)
    for chart in (charts.mix, charts.history):
        if chart is not None:
            chart.to_dict()  # the Vega-Lite spec, as Streamlit sends it


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    store, code = filled_room(args.students, args.minutes)
    thresholds = Thresholds()
    for _ in range(3):
        refresh(store, code, thresholds)
    samples = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        refresh(store, code, thresholds)
        samples.append((time.perf_counter() - started) * 1000)
    p95 = statistics.quantiles(samples, n=20)[-1]
    median = statistics.median(samples)
    print(f"{args.students} students, {args.minutes:g} min of figures: one teacher refresh {median:.1f} ms median, {p95:.1f} p95")


if __name__ == "__main__":
    main()
