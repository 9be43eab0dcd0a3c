"""Join a class: a student enters the teacher's code, agrees to the notice, and streams.

The student's page runs the same live pipeline as the Live page and hands each frame's smoothed
face probabilities to a `RoomPublisher`; nothing else of the video leaves the student's session.
A joined student's seat is kept in the page's address (`seat=`), so a reload brings them back to it.
"""

from __future__ import annotations

import logging
import time

import streamlit as st

from emotion.classifier import ModelError
from emotion.classroom.publisher import RoomPublisher
from emotion.classroom.records import Room, RoomError, RoomNotFound, RoomStore, StoreUnavailable, Student
from emotion.live.component import STALL_MESSAGE, live_video, session_stream, stalled
from emotion.live.device import device_camera
from emotion.live.stream import LiveStream
from emotion.pipeline import PipelineSettings
from webapp.resources import ice_servers_or_stop, models_or_stop, shared_models, shared_store
from webapp.widgets import clock_time, device_sidebar_settings, plain, sidebar_settings

LOGGER = logging.getLogger(__name__)
MODEL_MISSING = "The emotion model is not available on this server, so you cannot join a class here. Tell your teacher."


def consent_notice(expires: float) -> str:
    return (
        "While your camera runs, this page reads the emotion on the faces it sees and sends **only those "
        "figures** (seven numbers per face, a few times a second) to your teacher's room, under your "
        "display name or as 'student N'. By default your browser reads your faces itself and your video never "
        "leaves this device; if you choose to have them read on the server, your video goes there to be read "
        "and is neither stored nor recorded. You can pause or leave "
        f"at any time. The room and all its figures are **deleted when it expires, at {clock_time(expires)}**."
    )


def student_page() -> None:
    st.title("Join a class")
    store = shared_store()
    membership = st.session_state.get("membership") or returning_student(store)
    if membership is None:
        join_form(store)
    else:
        class_stream(store, membership)


def model_ready() -> bool:
    """Whether the server can read emotions; the detail goes to the log, the student reads plain words."""
    try:
        shared_models()
    except (ModelError, FileNotFoundError) as error:
        LOGGER.error("the emotion model could not be loaded: %s", error)
        st.error(MODEL_MISSING)
        return False
    return True


def seat_in(store: RoomStore, room: Room, student: Student) -> dict:
    """This session's membership; the seat goes into the page's address, so that a reload finds it."""
    membership = {
        "code": room.code,
        "title": room.title,
        "name": student.name,
        "publisher": RoomPublisher(store, room.code, student.student_id),
    }
    st.session_state.membership = membership
    st.query_params.update({"room": room.code, "seat": student.student_id})
    return membership


def returning_student(store: RoomStore) -> dict | None:
    """The student of a reloaded tab, back in their own seat (`seat=` in the address), or None."""
    code, seat = st.query_params.get("room"), st.query_params.get("seat")
    if not (code and seat):
        return None
    try:
        now = time.time()
        room = store.room(code, now)
        student = store.rejoin(room.code, seat, now)
    except RoomError as error:
        st.warning(f"{error}" if isinstance(error, StoreUnavailable) else f"You could not get your seat back: {error}")
        del st.query_params["seat"]
        return None
    return seat_in(store, room, student)


def join_form(store: RoomStore) -> None:
    code = st.text_input("Class code", value=st.query_params.get("room", ""), max_chars=8, placeholder="e.g. K7PX2M")
    if not code.strip():
        st.caption("Your teacher gives you the code or a link to this page.")
        return
    try:
        room = store.room(code, time.time())
    except RoomError as error:
        st.error(str(error))
        return
    st.subheader(plain(room.title))
    if not model_ready():
        return
    name = st.text_input("Display name (optional)", max_chars=40, help="Leave it empty to appear as 'student N'.")
    st.info(consent_notice(room.expires))
    agreed = st.checkbox("I agree to share my emotion figures with this class as described above.")
    if st.button("Join the class", type="primary", disabled=not agreed):
        try:
            student = store.join(room.code, name, time.time())
        except RoomError as error:
            st.error(str(error))
            return
        seat_in(store, room, student)
        st.rerun()
    elif not agreed:
        st.caption("You can join once you have agreed.")


PATHS = {"device": "On this device (recommended)", "server": "On the server"}


def class_stream(store: RoomStore, membership: dict) -> None:
    publisher: RoomPublisher = membership["publisher"]
    st.subheader(f"{plain(membership['title'])}: you are {plain(membership['name'])}")
    path = st.segmented_control(
        "Where your faces are read",
        options=list(PATHS),
        format_func=PATHS.__getitem__,
        default="device",
        key="class_path",
        help="On this device, your browser reads your faces itself and sends the class only the figures; "
        "no video leaves it. On the server, your video goes to the server, which reads it there.",
    ) or "device"
    publisher.path = path
    stream = None
    if path == "server":
        stream = session_stream("class_stream", models_or_stop(), sidebar_settings(live=True), on_faces=publisher)
        live_video("class", stream, ice_servers_or_stop(), send_only=True)
    else:
        device_sharing(publisher, device_sidebar_settings())
    pause, leave = st.columns(2)
    label = "Resume sharing" if publisher.paused else "Pause sharing"
    if not publisher.ended and pause.button(label, type="primary", key="pause"):
        publisher.paused = not publisher.paused
        if publisher.paused:
            set_status(store, publisher, "paused")
        st.rerun()
    # Its look never changes: a widget drawn differently in the run its click starts is a new widget, and the click is lost.
    if leave.button("Leave the class", key="leave_class"):
        if not publisher.ended:
            set_status(store, publisher, "left")
        del st.session_state.membership
        st.session_state.pop("class_stream", None)
        st.query_params.pop("seat", None)
        st.rerun()
    if stream is not None:
        sharing_status(publisher, stream)


@st.fragment
def device_sharing(publisher: RoomPublisher, settings: PipelineSettings) -> None:
    """The on-device camera; each new set of figures it hands back is sent to the room."""
    state = device_camera("class_device", settings)
    figures = state.figures
    if figures is not None and figures.at != st.session_state.get("class_device_sent_at"):
        st.session_state["class_device_sent_at"] = figures.at
        publisher.send(figures.faces)
    if state.problem is not None:
        st.warning(f"{state.problem['message']} You can choose **On the server** above instead.")
    if publisher.ended:
        st.info(f"{publisher.problem} Your video stays on this page only; press **Leave the class** when you are done.")
    elif publisher.problem:
        st.warning(f"{publisher.problem} Sharing resumes by itself when the room is reachable.")
    elif publisher.paused:
        st.info("Sharing is paused: your teacher sees you as paused.")
    elif figures is not None:
        st.caption(f"Your camera: {len(figures.faces)} face(s) in view. Sharing emotion figures with the class.")
    else:
        st.caption("Starting your camera: allow it when the browser asks.")


def set_status(store: RoomStore, publisher: RoomPublisher, status: str) -> None:
    try:
        store.set_status(publisher.code, publisher.student_id, status, time.time())
    except StoreUnavailable as error:
        st.warning(f"{error} Your choice is kept here and the room will hear of it when it is back.")
    except RoomNotFound:
        pass  # the room is gone: nothing to tell it


@st.fragment(run_every=2.0)
def sharing_status(publisher: RoomPublisher, stream: LiveStream) -> None:
    stats = stream.snapshot()
    if publisher.ended:
        st.info(f"{publisher.problem} Your video stays on this page only; press **Leave the class** when you are done.")
        return
    if stalled("class", stream):
        st.warning(STALL_MESSAGE)
    elif stats.frames:
        st.caption(f"Your video: {stats.faces_in_view} face(s) in view.")
    else:
        st.caption("Press START to begin; emotion figures are shared with the class while the video runs.")
    if publisher.problem:
        st.warning(f"{publisher.problem} Your video goes on; sharing resumes by itself when the room is reachable.")
    elif publisher.paused:
        st.info("Sharing is paused: your teacher sees you as paused.")
    elif stats.frames:
        st.caption("Sharing emotion figures with the class.")
