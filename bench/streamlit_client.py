"""On-device students without a browser: clients that speak Streamlit's own websocket protocol.

A student's page on the on-device path does what the server sees: it opens a session on the Join page,
its camera component mounts, and every two seconds (a class room's cadence, sooner when the face count
changes) it posts the newest figures and the samples since the last to the figures endpoint
(webapp/endpoints.py); the component's state changes, rerunning the `device_sharing` fragment
(webapp/pages/join.py), only when the room's answer changes (kept, paused, unreachable...). A
`DeviceStudent` does exactly that: over /_stcore/stream with the protobuf messages Streamlit's frontend
sends (BackMsg rerun_script with the component's JSON state and the fragment's id), and over HTTP to the
address the component was given, so the server runs the same code as for a browser, while the machine is
spared a browser page per student. It takes its seat as a reloaded student does (`?room=CODE&seat=ID`,
the seat made in the room's store beforehand), so the join form is not replayed; tests/test_class_browser.py
covers the form in a real browser.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import http.client
import json
import math
import random
import threading
import time
import urllib.parse
from collections import Counter
from dataclasses import dataclass, field

import websockets
from streamlit.proto.BackMsg_pb2 import BackMsg
from streamlit.proto.ForwardMsg_pb2 import ForwardMsg
from streamlit.proto.WidgetStates_pb2 import WidgetState

from emotion.live.device import CLASS_REPORT_EVERY_MS, CLASS_SAMPLE_EVERY_MS

PAGE = "join"
COMPONENT_KEY = "class_device"  # device_camera's key in webapp/pages/join.py
FRAME_EVERY_S = 0.25  # how often a student's faces are looked at: the figures change no faster than the samples
REMIND_S = 5.0  # delivery.js's REMIND_MS: an answer the page acts on is handed over again this often
ACT_ON = {"paused", "ended"}
PLAUSIBLE_FACE = (0.08, 0.02, 0.07, 0.35, 0.1, 0.08, 0.3)  # probabilities, varied per face here and in classroom_load's stub


class FacePlan:
    """How many faces every student reports: a count now, and a switch to another at a chosen moment."""

    def __init__(self, faces: int = 1) -> None:
        # (count before, switch at time.time() or None, count after), replaced whole: the students' thread reads it
        self._plan: tuple[int, float | None, int] = (faces, None, faces)

    def faces_now(self, now: float) -> int:
        before, at, after = self._plan
        return after if at is not None and now >= at else before

    def schedule(self, at: float, faces: int) -> None:
        """From `at` on, `faces` faces; until then the count of now (a switch planned before and not yet due is dropped)."""
        self._plan = (self.faces_now(time.time()), at, faces)


class FiguresReporter:
    """static/ondevice/reporter.js's rule, for clients without a browser: a sample of the faces every
    `sample_every_ms`, sent together every `report_every_ms`, and sooner when the number of faces changes
    (taking the place of a sample less than `sample_every_ms` old)."""

    def __init__(self, sample_every_ms: float = CLASS_SAMPLE_EVERY_MS, report_every_ms: float = CLASS_REPORT_EVERY_MS) -> None:
        self.sample_every_ms, self.report_every_ms = sample_every_ms, report_every_ms
        self.samples: list[tuple[float, list[list[float]]]] = []  # (taken, faces), not sent yet
        self.last_sample = self.last_sent = -math.inf
        self.faces_sent = -1

    def offer(self, now_ms: float, faces: list[list[float]]) -> dict | None:
        """The message to send for this frame (the component's new state), or None."""
        since_sent = now_ms - self.last_sent
        due = since_sent >= self.report_every_ms or (len(faces) != self.faces_sent and since_sent >= self.sample_every_ms)
        sample_due = now_ms - self.last_sample >= self.sample_every_ms
        if not due and not sample_due:
            return None
        if not sample_due and self.samples:
            self.samples.pop()
        self.samples.append((now_ms, faces))
        if sample_due:
            self.last_sample = now_ms
        if not due:
            return None
        at = time.time() * 1000
        samples = [{"at": at - (now_ms - taken), "faces": taken_faces} for taken, taken_faces in self.samples]
        message = {"faces": faces, "skipped": 0, "fps": 15, "msMedian": 17, "frames": 30, "at": at, "samples": samples}
        self.samples, self.last_sent, self.faces_sent = [], now_ms, len(faces)
        return {"figures": message}


@dataclass
class DeviceStudent:
    base_url: str
    code: str
    seat: str
    plan: FacePlan
    sent: int = 0
    errors: list[str] = field(default_factory=list)  # exceptions the server's runs put on the page
    said: list[str] = field(default_factory=list)  # the page's warnings and notes (st.warning, st.info...)
    timers: dict[str, tuple[float, float]] = field(default_factory=dict)  # fragment id -> (run_every s, last run)
    outcomes: Counter[str] = field(default_factory=Counter)  # the room's answers to the posted figures
    component_id: str | None = None
    send_to: dict | None = None  # the component's data's sendTo: where its figures go
    state: dict = field(default_factory=dict)  # the component's state, as the page's frontend keeps it
    _posting: asyncio.Task | None = None  # the latest post: the next goes after it
    _poster: FiguresPoster | None = None
    _last_outcome: str = "kept"  # as delivery.js assumes until told otherwise
    _answered: float = -math.inf
    fragment_id: str = ""
    page_script_hash: str = ""
    mounted: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def query_string(self) -> str:
        return urllib.parse.urlencode({"room": self.code, "seat": self.seat})

    def rerun(self, state: dict | None = None, fragment_id: str | None = None) -> bytes:
        message = BackMsg()
        client = message.rerun_script
        client.query_string = self.query_string
        client.page_name = PAGE
        client.page_script_hash = self.page_script_hash
        if state is not None and self.component_id:
            widget = WidgetState(id=self.component_id, json_value=json.dumps(state))
            client.widget_states.widgets.append(widget)
            client.fragment_id = self.fragment_id
        elif fragment_id is not None:
            client.fragment_id = fragment_id
        return message.SerializeToString()

    def read(self, raw: bytes) -> None:
        message = ForwardMsg.FromString(raw)
        kind = message.WhichOneof("type")
        if kind == "auto_rerun":  # a fragment's run_every: the browser reruns it on that timer
            self.timers[message.auto_rerun.fragment_id] = (message.auto_rerun.interval, time.monotonic())
        elif kind == "stop_auto_rerun":
            for fragment in message.stop_auto_rerun.fragment_ids or list(self.timers):
                self.timers.pop(fragment, None)
        elif kind == "navigation" and message.navigation.page_script_hash:
            self.page_script_hash = message.navigation.page_script_hash
        elif kind == "delta" and message.delta.WhichOneof("type") == "new_element":
            element = message.delta.new_element
            which = element.WhichOneof("type")
            if which == "bidi_component" and element.bidi_component.id.endswith(COMPONENT_KEY):
                self.component_id = element.bidi_component.id
                self.fragment_id = message.delta.fragment_id
                self.send_to = json.loads(element.bidi_component.json).get("sendTo")
                self.mounted.set()
            elif which == "exception":
                self.errors.append(element.exception.message)
            elif which == "alert":
                self.said.append(element.alert.body)

    def faces(self) -> list[list[float]]:
        faces = []
        for _ in range(self.plan.faces_now(time.time())):
            p = [b * (0.5 + random.random()) for b in PLAUSIBLE_FACE]
            faces.append([v / sum(p) for v in p])
        return faces

    async def send(self, socket: websockets.ClientConnection, message: dict, http: concurrent.futures.Executor) -> None:
        """As static/ondevice/delivery.js does in a class room: the figures posted to the room, after the posts
        before them (the frame loop goes on meanwhile), and the room's answer handed to the page (a rerun of the
        fragment) when it changes, and again every REMIND_S while it is one the page acts on."""
        if self.send_to is None:
            raise RuntimeError("the camera component was given nowhere to send its figures")
        if self._poster is None:
            self._poster = FiguresPoster(urllib.parse.urljoin(self.base_url.rstrip("/") + "/", self.send_to["url"]))
        poster = self._poster
        post = {key: self.send_to[key] for key in ("room", "seat", "figures")} | {"message": message}
        before = self._posting

        async def post_after() -> None:
            if before is not None:
                await asyncio.gather(before, return_exceptions=True)
            receipt = await asyncio.get_running_loop().run_in_executor(http, poster.post, post)
            self.outcomes[receipt["outcome"]] += 1
            now = time.monotonic()
            remind = receipt["outcome"] in ACT_ON and now - self._answered >= REMIND_S
            if receipt["outcome"] != self._last_outcome or remind:
                self._last_outcome, self._answered = receipt["outcome"], now
                self.state["answer"] = {"outcome": receipt["outcome"], "at": time.time() * 1000}
                await socket.send(self.rerun(self.state))

        self._posting = asyncio.create_task(post_after())
        self.sent += 1

    async def run(self, stop: asyncio.Event, http: concurrent.futures.Executor, mount_timeout_s: float = 120) -> None:
        """Join, wait for the camera component, then send figures as the page does until `stop`; posts go through `http`."""
        url = self.base_url.replace("http", "ws", 1).rstrip("/") + "/_stcore/stream"
        async with websockets.connect(url, subprotocols=["streamlit"], max_size=None, open_timeout=60) as socket:  # type: ignore[list-item]
            reader = asyncio.create_task(self._receive(socket))
            try:
                await socket.send(self.rerun())
                await self._until_mounted(socket, reader, stop, mount_timeout_s)
                await asyncio.sleep(random.random() * CLASS_REPORT_EVERY_MS / 1000)  # students' clocks are not in step
                reporter = FiguresReporter()
                while not stop.is_set():
                    if reader.done():
                        reader.result()  # raises what stopped it, if anything did
                        raise ConnectionError("the server ended the session")
                    message = reporter.offer(time.monotonic() * 1000, self.faces())
                    if message is not None:
                        await self.send(socket, message["figures"], http)
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(stop.wait(), FRAME_EVERY_S)
            finally:
                reader.cancel()
                await asyncio.gather(reader, *([self._posting] if self._posting else []), return_exceptions=True)
                if self._poster is not None:
                    self._poster.close()

    async def _receive(self, socket: websockets.ClientConnection) -> None:
        async for raw in socket:
            if isinstance(raw, bytes):
                self.read(raw)

    async def _until_mounted(self, socket: websockets.ClientConnection, reader: asyncio.Task, stop: asyncio.Event,
                             timeout_s: float) -> None:
        """Until the camera component is on the page (or the bench stops), running the page's fragment timers
        meanwhile as a browser does (a page waiting for its seat asks again on one); a dead reader or a timeout raises."""
        waiters = [asyncio.create_task(self.mounted.wait()), asyncio.create_task(stop.wait())]
        deadline = time.monotonic() + timeout_s
        done: set = set()
        while not done and time.monotonic() < deadline:
            done, _ = await asyncio.wait([*waiters, reader], timeout=0.5, return_when=asyncio.FIRST_COMPLETED)
            now = time.monotonic()
            for fragment, (every, last) in list(self.timers.items()):
                if not done and now - last >= every:
                    self.timers[fragment] = (every, now)
                    await socket.send(self.rerun(fragment_id=fragment))
        for waiter in waiters:
            waiter.cancel()
        if reader in done:
            reader.result()
            raise ConnectionError("the server ended the session before the camera component came")
        if not done:
            raise TimeoutError(f"no camera component on the page after {timeout_s:g} s; the page said {self.said[-3:]}")


class FiguresPoster:
    """One student's posts to the figures endpoint over one kept-alive connection, as a browser makes them
    (HTTP/1.1 keeps its connection), one at a time: the receipt whatever its status code, or, as delivery.js
    takes anything else (no answer in time, not JSON, not a receipt), 'unreachable'."""

    def __init__(self, url: str, timeout_s: float = 10) -> None:
        self.address = urllib.parse.urlsplit(url)
        self.timeout_s = timeout_s
        self.connection: http.client.HTTPConnection | None = None

    def post(self, body: dict) -> dict:
        try:
            if self.connection is None:
                self.connection = http.client.HTTPConnection(self.address.netloc, timeout=self.timeout_s)
            self.connection.request("POST", self.address.path, json.dumps(body), {"Content-Type": "application/json"})
            receipt = json.loads(self.connection.getresponse().read())
        except (OSError, http.client.HTTPException, ValueError) as error:
            self.close()  # a new connection next time
            receipt = {"outcome": "unreachable", "message": str(error)}
        if not (isinstance(receipt, dict) and isinstance(receipt.get("outcome"), str)):
            receipt = {"outcome": "unreachable", "message": "not the endpoint's answer"}
        return receipt

    def close(self) -> None:
        if self.connection is not None:
            self.connection.close()
            self.connection = None


class StudentCrowd:
    """Many DeviceStudents on one event loop in a background thread."""

    def __init__(self, base_url: str, code: str, seats: list[str], plan: FacePlan) -> None:
        self.plan = plan
        self.students = [DeviceStudent(base_url, code, seat, plan) for seat in seats]
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self._stop = asyncio.Event()
        self.http = concurrent.futures.ThreadPoolExecutor(max_workers=32, thread_name_prefix="figures-post")
        self.tasks = [asyncio.run_coroutine_threadsafe(self._run(s), self.loop) for s in self.students]

    async def _run(self, student: DeviceStudent) -> None:
        try:
            await student.run(self._stop, self.http)
        except Exception as error:  # a dropped or refused socket is the bench's finding, not its crash
            student.errors.append(f"{type(error).__name__}: {error}")

    def wait_mounted(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while not all(s.mounted.is_set() or s.errors for s in self.students):
            if time.monotonic() > deadline:
                waiting = sum(not s.mounted.is_set() for s in self.students)
                raise SystemExit(f"{waiting} protocol students never saw their camera component")
            time.sleep(0.2)

    def schedule(self, at: float, faces: int) -> None:
        self.plan.schedule(at, faces)

    def sent(self) -> int:
        return sum(s.sent for s in self.students)

    def errors(self) -> list[str]:
        return [error for s in self.students for error in s.errors]

    def outcomes(self) -> Counter[str]:
        """The room's answers to every post so far, by outcome."""
        return sum((s.outcomes for s in self.students), Counter())

    def close(self, timeout_s: float = 15) -> None:
        """Stop every student (each ends within a report period) and the loop; stragglers are cancelled."""
        self.loop.call_soon_threadsafe(self._stop.set)
        _, pending = concurrent.futures.wait(self.tasks, timeout=timeout_s)
        for task in pending:
            task.cancel()
        concurrent.futures.wait(pending, timeout=5)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=5)
        self.http.shutdown(wait=False, cancel_futures=True)
        if not self.thread.is_alive():
            self.loop.close()
