"""What a class of on-device students costs the server: CPU, memory, and how far behind the teacher's view is.

    python bench/classroom_load.py [--students 1 10 50] [--seconds 60] [--switch-every 8] [--batch 10] [--redis]
        [--clients browser|protocol]

For each count N in --students: a fresh `streamlit run app.py` (tests.support.browser.streamlit_server),
a teacher page that creates a room, and N students, each in its own browser context, who join through
the form with consent as the browser tests do and share on the default path ("On this device"). The
real server path runs: every student is a real Streamlit session over a websocket, each set of figures
is posted to the figures endpoint (webapp/endpoints.py, emotion.classroom.inbox) as the page posts it,
the `device_sharing` fragment reruns when the room's answer changes, and the teacher's fragments read
the room.

Only the camera work is skipped: Playwright routing answers each student page's request for
static/ondevice/camera.js with a stub module (STUB_CAMERA below) that opens no camera and loads no model;
it sends plausible figures (seven probabilities a face) through the real modules' reporter and delivery
(static/ondevice/reporter.js: a sample a second, sent two at a time, at once when the face count changes;
delivery.js: posted to the room), for a face count the bench controls. The product code is not changed.

Measured in the steady period (--seconds, after all N are connected and a short settling time):
- server CPU: utime+stime of the server process and its children (/proc/<pid>/stat), as CPU seconds per
  wall second (cores) and per student-minute;
- server RSS (tests.support.browser.rss_mb): the peak of samples taken about once a second;
- the teacher's lag: every --switch-every seconds all stubs switch from 1 face to 0 (and back) at a
  moment the bench chooses (a flag set on each page with page.evaluate, ahead of time, so that all
  switch together); the lag is from that moment (or from the last flag set, when setting them took
  longer) to the teacher's "Face in view" metric showing the new count (0 or N). It includes the
  figures' own cadence (a change in the face count goes within a class room's sample period,
  emotion.live.device.CLASS_SAMPLE_EVERY_MS), the post to the room and the teacher's refresh of the
  counts (every second; the charts every two).

Chromium, its N+1 pages and Playwright run on the same 2-core machine and take their share: the server's
CPU seconds are still its own, but a starved browser sends fewer figures (each line says how many each
stub handed its page a second, against the real module's one every 2 s with an unchanging face count)
and the teacher's page renders late, so the lag is an upper bound of the server's part. --redis splits
it: the rooms live in a real redis-server (REDIS_URL), and the bench also reads the room from the store
itself, as the teacher's view does, so each switch has a store lag (the students' pages, their sessions
and the publisher: figures in the store) beside the teacher lag (that, then the teacher's refresh of the
counts and its page's rendering). `--clients protocol` (with --redis) takes the students' pages out of
the browser: each is a client of bench/streamlit_client.py speaking Streamlit's own websocket messages,
seated through the store as a reloaded student is, whose component state changes by the same rule as the
stub's (bench.streamlit_client.FiguresReporter), so the server does the same work while the machine
carries one browser page, the teacher's. The bench's own CPU (those clients, Playwright) is printed
beside the machine's.
The last line is for the largest N that ran:
`students=N server_cpu_cores=X rss_mb=Y teacher_lag_p95_s=Z`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import tempfile
import time
import urllib.parse
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.streamlit_client import FRAME_EVERY_S, PLAUSIBLE_FACE, FacePlan, StudentCrowd
from emotion.classroom.analytics import Thresholds, faces_in_view, sharing_senders
from emotion.classroom.redis_store import RedisStore
from tests.support.browser import chromium_with_camera, process_tree_files, rss_mb, streamlit_server
from tests.support.redis_server import RedisProcess

# Stands in for static/ondevice/camera.js: the same mount() contract, no camera, no models. The bench
# steers it through window.__bench: `next = {at, faces}` switches the face count at `at` (Date.now()).
STUB_CAMERA = """
import { FiguresReporter } from './reporter.js';
import { figuresGoTo } from './delivery.js';
const BASE = __BASE__;
export function mount({ parentElement, data, setStateValue }) {
  const bench = (window.__bench = window.__bench || { faces: 1, next: null, sent: 0 });
  const caption = document.createElement('p');
  caption.textContent = 'bench: stub camera';
  if (parentElement) parentElement.replaceChildren(caption);
  const send = figuresGoTo(data.sendTo, setStateValue, caption);
  const reporter = new FiguresReporter(data, (message) => {
    bench.sent += 1;
    send(message);
  });
  const tick = () => {
    const now = Date.now();
    if (bench.next && now >= bench.next.at) {
      bench.faces = bench.next.faces;
      bench.next = null;
    }
    const faces = [];
    for (let i = 0; i < bench.faces; i++) {
      const p = BASE.map((b) => b * (0.5 + Math.random()));
      const sum = p.reduce((a, b) => a + b, 0);
      faces.push({ probabilities: p.map((v) => v / sum) });
    }
    reporter.offer(performance.now(), faces, { skipped: 0, fps: 15, msMedian: 17, frames: 30 });
  };
  const timer = setInterval(tick, __FRAME_EVERY_MS__);
  tick();
  return () => clearInterval(timer);
}
""".replace("__BASE__", json.dumps(list(PLAUSIBLE_FACE))).replace("__FRAME_EVERY_MS__", str(FRAME_EVERY_S * 1000))
FACES_IN_VIEW = re.compile(r"[1-9]\d* face\(s\) in view")
# One round trip, no waiting: the teacher's counts re-render every second, and a locator could wait on an
# element that a re-render just replaced.
READ_METRIC = """label => {
  for (const m of document.querySelectorAll('[data-testid="stMetric"]')) {
    const l = m.querySelector('[data-testid="stMetricLabel"]');
    const v = m.querySelector('[data-testid="stMetricValue"]');
    if (l && v && l.textContent.trim() === label) return v.textContent.trim();
  }
  return '';
}"""
TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """utime+stime of a process and its children (those alive now), from /proc."""
    total = 0
    for stat in process_tree_files(pid, "stat"):
        fields = stat.rsplit(")", 1)[1].split()  # fields from the 3rd (state) on; the name may hold spaces
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15
    return total / TICKS


def machine_busy() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / TICKS, sum(values) / TICKS


def available_mb() -> float:
    found = re.search(r"MemAvailable:\s+(\d+) kB", Path("/proc/meminfo").read_text())
    return int(found.group(1)) / 1024 if found else float("nan")


def faces_in_store(store: RedisStore, code: str) -> int:
    """The teacher's "Face in view", counted as webapp/pages/teach.py does, from the store itself."""
    now = time.time()
    return faces_in_view(sharing_senders(store.data(code, now), now, Thresholds()))


def metric(page, label: str) -> int | None:
    text = page.evaluate(READ_METRIC, label)
    return int(text) if text.isdigit() else None


def wait_for_metric(page, label: str, expected: int, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    while metric(page, label) != expected:
        if time.monotonic() > deadline:
            raise SystemExit(f"the teacher's {label!r} stayed at {metric(page, label)}, expected {expected}")
        page.wait_for_timeout(250)


def create_room(browser, url: str):
    """The teacher's page with a new room (as tests/test_class_browser.py creates one); (page, code)."""
    teacher = browser.new_context(viewport={"width": 1280, "height": 1400}).new_page()
    teacher.goto(f"{url}/teach")
    teacher.get_by_role("textbox", name="Class name").fill("Load test")
    teacher.get_by_role("button", name="Create a class room").click()
    teacher.wait_for_url(re.compile(r"room=[A-Z0-9]{6}"), timeout=60_000)
    code = urllib.parse.parse_qs(urllib.parse.urlsplit(teacher.url).query)["room"][0]
    wait_for_metric(teacher, "Connected", 0, timeout_s=60)
    return teacher, code


def serve_stub(route) -> None:
    route.fulfill(status=200, content_type="text/javascript", body=STUB_CAMERA)


def join(browser, url: str, code: str, names: list[str], timeout_ms: float = 180_000) -> list:
    """Students join through the form with consent, one step at a time across the batch, so that the
    browser works on all of them at once; each page's camera module is the stub."""
    pages = []
    for _ in names:
        context = browser.new_context(viewport={"width": 1000, "height": 800})
        context.route("**/ondevice/camera.js", serve_stub)
        page = context.new_page()
        page.goto(f"{url}/join?room={code}", wait_until="commit")
        pages.append(page)
    for page, name in zip(pages, names):
        page.get_by_role("textbox", name="Display name (optional)").fill(name, timeout=timeout_ms)
    for page in pages:
        page.get_by_text("I agree to share my emotion figures").click(timeout=timeout_ms)
    for page in pages:
        page.get_by_role("button", name="Join the class").click(timeout=timeout_ms)
    for page, name in zip(pages, names):
        page.get_by_text(f"you are {name}").wait_for(timeout=timeout_ms)
    for page in pages:
        page.get_by_text(FACES_IN_VIEW).first.wait_for(timeout=timeout_ms)  # the stub is mounted and sending
    return pages


class BrowserStudents:
    """Students as browser pages (the stub camera's flag steers their face count)."""

    def __init__(self, browser, url: str, code: str, count: int, batch: int) -> None:
        self.pages: list = []
        while len(self.pages) < count:
            size = min(batch, count - len(self.pages))
            names = [f"s{len(self.pages) + i + 1:03d}" for i in range(size)]
            self.pages += join(browser, url, code, names)

    def schedule(self, at: float, faces: int) -> None:
        for page in self.pages:
            page.evaluate("plan => { window.__bench.next = plan; }", {"at": at * 1000, "faces": faces})

    def sent(self) -> int:
        return sum(page.evaluate("window.__bench ? window.__bench.sent : 0") for page in self.pages)

    def errors(self) -> int:
        return sum(page.locator('[data-testid="stException"]').count() for page in self.pages)

    def close(self) -> None:
        pass


class ProtocolStudents:
    """Students as protocol clients (bench/streamlit_client.py), seated through the room's store."""

    def __init__(self, store: RedisStore, url: str, code: str, count: int) -> None:
        now = time.time()
        seats = [store.join(code, f"s{i + 1:03d}", now).student_id for i in range(count)]
        self.crowd = StudentCrowd(url, code, seats, FacePlan())
        self.crowd.wait_mounted(timeout_s=60 + count)
        waited = sum(any("cannot be reached" in said for said in s.said) for s in self.crowd.students)
        if waited:
            print(f"  {waited} of {count} students were told the room could not be reached while they joined", flush=True)
        dropped = self.crowd.errors()
        if dropped:  # said now: the teacher's counts would only stay at 0
            self.crowd.close()
            raise SystemExit(f"{len(dropped)} of {count} protocol students were dropped before sharing, e.g. {dropped[0]}")

    def schedule(self, at: float, faces: int) -> None:
        self.crowd.schedule(at, faces)

    def sent(self) -> int:
        return self.crowd.sent()

    def errors(self) -> int:
        errors = self.crowd.errors()
        for error in errors:
            print(f"protocol student: {error}", flush=True)
        return len(errors)

    def close(self) -> None:
        self.crowd.close()


def own_cpu_seconds() -> float:
    """This process's CPU seconds: the protocol students' work and Playwright's Python client (not chromium's)."""
    times = os.times()
    return times.user + times.system


def p95(values: list[float]) -> float:
    """Nearest rank: with fewer than 20 values, the largest."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def run_class(count: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as tmp, chromium_with_camera(Path(tmp)) as browser:
        log = Path(tmp) / "streamlit.log"
        redis = RedisProcess(Path(tmp)).start() if args.redis else None
        try:
            return run_class_on(count, args, browser, log, redis)
        finally:
            if redis:
                redis.stop()


def run_class_on(count: int, args: argparse.Namespace, browser, log: Path, redis: RedisProcess | None) -> dict:
    store = RedisStore(redis.url) if redis else None
    with streamlit_server({"REDIS_URL": redis.url} if redis else None, log_path=log) as server:
        started = time.monotonic()
        teacher, code = create_room(browser, server.url)
        idle_rss = rss_mb(server.pid)
        if args.clients == "protocol":
            assert store is not None  # --clients protocol needs --redis: the bench seats the students in the store
            students: BrowserStudents | ProtocolStudents = ProtocolStudents(store, server.url, code, count)
        else:
            students = BrowserStudents(browser, server.url, code, count, args.batch)
        try:
            return measure_class(count, args, server.pid, teacher, code, store, students, started, idle_rss)
        finally:
            students.close()


def measure_class(
    count: int,
    args: argparse.Namespace,
    pid: int,
    teacher,
    code: str,
    store: RedisStore | None,
    students: BrowserStudents | ProtocolStudents,
    started: float,
    idle_rss: float,
) -> dict:
    """The steady period with every student in: the server's CPU and RSS, and each switch's lags."""
    wait_for_metric(teacher, "Connected", count, timeout_s=60)
    wait_for_metric(teacher, "Face in view", count, timeout_s=60)
    joined_s = time.monotonic() - started
    teacher.wait_for_timeout(args.settle * 1000)

    cpu0, busy0, sent0, t0 = cpu_seconds(pid), machine_busy(), students.sent(), time.monotonic()
    bench0 = own_cpu_seconds()
    rss = [rss_mb(pid)]
    lags: list[float] = []
    store_lags: list[float] = []
    missed = 0
    faces = 1
    next_switch = t0 + 2.0
    lead = 1.0 + 0.05 * count
    while True:
        now = time.monotonic()
        if now - t0 >= args.seconds:
            break
        if now < next_switch or next_switch + args.switch_every > t0 + args.seconds:
            teacher.wait_for_timeout(min(1000, max(50, (t0 + args.seconds - now) * 1000)))
            rss.append(rss_mb(pid))
            continue
        faces = 1 - faces
        at = time.time() + lead
        set_started = time.time()
        students.schedule(at, faces)
        set_took = time.time() - set_started
        changed = max(at, time.time())
        lead = max(1.0, 1.5 * set_took + 0.5)
        expected = count * faces
        deadline = changed + args.switch_every + 20
        last_rss = time.monotonic()
        in_store = store is None
        while True:
            # The store first: it holds the new count no later than the teacher's view shows it.
            if not in_store and store is not None and faces_in_store(store, code) == expected:
                store_lags.append(time.time() - changed)
                in_store = True
            if metric(teacher, "Face in view") == expected:
                lags.append(time.time() - changed)
                break
            if time.time() > deadline:
                missed += 1
                break
            teacher.wait_for_timeout(100 if in_store else 20)
            if time.monotonic() - last_rss >= 1:
                rss.append(rss_mb(pid))
                last_rss = time.monotonic()
        next_switch = max(next_switch + args.switch_every, time.monotonic())
    wall = time.monotonic() - t0
    cpu = cpu_seconds(pid) - cpu0
    busy1 = machine_busy()
    handed = (students.sent() - sent0) / wall / count
    bench_cores = (own_cpu_seconds() - bench0) / wall
    connected_end = metric(teacher, "Connected")
    rss.append(rss_mb(pid))
    errors = teacher.locator('[data-testid="stException"]').count() + students.errors()
    return {
        "students": count,
        "cores": cpu / wall,
        "per_student_minute": cpu / (count * wall / 60),
        "rss": max(rss),
        "rss_end": rss[-1],
        "idle_rss": idle_rss,
        "lags": lags,
        "store_lags": store_lags,
        "missed": missed,
        "p95": p95(lags) if lags and not missed else float("inf"),
        "sent_per_s": handed,
        "bench_cores": bench_cores,
        "machine_cores": (busy1[0] - busy0[0]) / (busy1[1] - busy0[1]) * (os.cpu_count() or 1),
        "joined_s": joined_s,
        "connected_end": connected_end,
        "errors": errors,
        "available_mb": available_mb(),
        "wall": wall,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--seconds", type=float, default=60, help="the steady period measured at each count")
    parser.add_argument("--switch-every", type=float, default=8, help="seconds between face-count switches")
    parser.add_argument("--settle", type=float, default=5, help="seconds after all have joined before measuring")
    parser.add_argument("--batch", type=int, default=10, help="students joining at once")
    parser.add_argument("--redis", action="store_true", help="rooms in a real redis-server, whose lag is read too")
    parser.add_argument(
        "--clients",
        choices=["browser", "protocol"],
        default="browser",
        help="students as browser pages, or as protocol clients (bench/streamlit_client.py; needs --redis)",
    )
    args = parser.parse_args()
    if args.clients == "protocol" and not args.redis:
        parser.error("--clients protocol needs --redis: the bench seats its students in the room's store")
    results = []
    for count in args.students:
        r = run_class(count, args)
        results.append(r)
        lags = ", ".join(f"{lag:.1f}" for lag in r["lags"])
        missed = f", {r['missed']} never shown" if r["missed"] else ""
        if r["store_lags"]:
            store_lags = ", ".join(f"{lag:.1f}" for lag in r["store_lags"])
            sampled = f"{len(r['store_lags'])} of {len(r['lags'])} switches"
            missed += f"; in the store: p95 {p95(r['store_lags']):.1f} s over {sampled} [{store_lags}]"
        print(
            f"{count:>3} students: server CPU {r['cores']:.3f} cores, {r['per_student_minute']:.2f} CPU s per "
            f"student-minute; RSS idle {r['idle_rss']:.0f} MB, peak {r['rss']:.0f} MB (end {r['rss_end']:.0f}); teacher lag "
            f"p95 {r['p95']:.1f} s over {len(r['lags'])} switches [{lags}]{missed}; "
            f"figures {r['sent_per_s']:.2f}/s per student; machine busy {r['machine_cores']:.2f} of {os.cpu_count()} cores "
            f"(this bench {r['bench_cores']:.2f}); "
            f"joined in {r['joined_s']:.0f} s; connected at the end {r['connected_end']}; page errors {r['errors']}; "
            f"memory available {r['available_mb']:.0f} MB; steady {r['wall']:.0f} s",
            flush=True,
        )
    first, last = results[0], results[-1]
    if last["students"] > first["students"]:
        # The teacher's page and an idle server cost the same at any count: what one more student adds.
        added = (last["cores"] - first["cores"]) / (last["students"] - first["students"])
        print(f"each student beyond {first['students']}: {added:.4f} cores, {added * 60:.2f} CPU s per student-minute")
    print(
        f"students={last['students']} server_cpu_cores={last['cores']:.3f} rss_mb={last['rss']:.0f} "
        f"teacher_lag_p95_s={last['p95']:.1f}"
    )


if __name__ == "__main__":
    main()
