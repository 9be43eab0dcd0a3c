"""The server's part of the teacher's lag: one refresh of the class-mood view's figures and charts.

    python bench/teacher_view.py [--students 50] [--minutes 10] [--repeats 30]

Fills an in-memory room with --students students who each sent one face's figures once a second (a class
room's samples) for --minutes, then times what the teacher page's fragments (webapp/pages/teach.py:
room_counts every second, room_charts every two) compute together, first reading the whole room at each
refresh (as the page did before emotion/classroom/reading.py), then over ten seconds as the page reads
it now (the intervals once), with the page's own room_counts_now and room_charts_now: the room read from
the store, presence, flags, the mix now and its chart, the per-minute timeline and its chart (as
Vega-Lite specs, as Streamlit sends them) and the roster. Not timed: Streamlit's own work and the
browser's rendering. Prints the median and p95 in ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.pipeline_latency import timed
from emotion.classroom.analytics import Thresholds
from emotion.classroom.memory_store import MemoryStore
from emotion.classroom.reading import RoomReader
from emotion.classroom.records import INTERVAL_SECONDS
from emotion.classroom.views import room_charts_now, room_counts_now
from webapp.charts import emotion_bars, timeline_chart
from webapp.widgets import by_student

FIGURES_EVERY_S = 1.0  # a class room's samples (emotion.live.device.CLASS_SAMPLE_EVERY_MS)


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


def refresh(store: MemoryStore, code: str, thresholds: Thresholds, now: float, reader: RoomReader | None = None,
            charts: bool = True) -> None:
    """What room_counts (and, with `charts`, room_charts) compute before Streamlit draws them: the page's own
    functions (emotion/classroom/views.py, the charts' specs from webapp/charts.py). With a `reader`, the room is
    read as the page reads it (emotion/classroom/reading.py)."""
    data = store.data(code, now) if reader is None else reader.data(now)
    room_counts_now(data, now, thresholds, reader)
    if not charts:
        return
    made = room_charts_now(data, now, thresholds, UTC, reader)
    made.roster.set_index("student") if made.roster_scrolls else by_student(made.roster)  # as the page shows it
    if made.mix:
        emotion_bars(made.mix)  # the Vega-Lite spec, as Streamlit is given it
    if not made.history.empty:
        timeline_chart(made.history).to_dict()


def median_p95(work: Callable[[], None], repeats: int) -> tuple[float, float]:
    """Milliseconds of `work`, timed as bench/pipeline_latency.py times a frame: its median and p95."""
    samples = timed(work, repeats)
    return statistics.median(samples), statistics.quantiles(samples, n=20)[-1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    store, code = filled_room(args.students, args.minutes)
    thresholds = Thresholds()
    head = f"{args.students} students, {args.minutes:g} min of figures:"
    median, p95 = median_p95(lambda: refresh(store, code, thresholds, time.time()), args.repeats)
    print(f"{head} one refresh of both fragments reading every interval: {median:.1f} ms median, {p95:.1f} p95")

    def ten_seconds(read_as_the_page_does: bool) -> Callable[[], None]:
        """Ten seconds of the live view: the counts each second, the charts every two."""

        def run() -> None:
            reader, start = RoomReader(store, code) if read_as_the_page_does else None, time.time()
            for second in range(INTERVAL_SECONDS):
                refresh(store, code, thresholds, start + second, reader, charts=second % 2 == 0)

        return run

    for read_as_the_page_does, how in ((False, "reading every interval at each refresh"), (True, "as the page reads the room")):
        median, p95 = median_p95(ten_seconds(read_as_the_page_does), max(3, args.repeats // 5))
        print(f"{head} ten seconds of refreshes {how}: {median:.1f} ms median, {p95:.1f} p95, "
              f"{median / INTERVAL_SECONDS / 1000:.3f} cores")

if __name__ == "__main__":
    main()
