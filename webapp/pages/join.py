"""Join a class: a student enters the teacher's code, agrees to the notice, and streams.

By default the student's browser reads their faces and posts only the figures to the room
(webapp/endpoints.py); on the server path the page runs the Live page's pipeline and hands each frame's
smoothed face probabilities to a `RoomPublisher`. Either way nothing else of the video is kept, and the
student's choices (pause, leave, delete) go to the room through that publisher.
A joined student's seat is kept in the page's address (`seat=`), so a reload brings them back to it.
"""

from __future__ import annotations

import logging
import time

import pandas as pd
import streamlit as st

from emotion.classifier import ModelError
from emotion.classroom.analytics import Thresholds, roster_row, student_flags
from emotion.classroom.leaving import OwedLeave
from emotion.classroom.policy import RoomPolicy
from emotion.classroom.publisher import RoomPublisher
from emotion.classroom.records import Room, RoomError, RoomNotFound, RoomStore, StoreUnavailable, Student, new_sender
from emotion.contract import SendTo
from emotion.live.component import SEND_ONLY_FPS, connection_advice, forget_connection, live_video, session_stream
from emotion.live.device import CLASS_REPORT_EVERY_MS, CLASS_SAMPLE_EVERY_MS, device_camera, self_view
from emotion.live.stream import LiveStream
from emotion.pipeline import PipelineSettings
from webapp.endpoints import FIGURES_PATH
from webapp.resources import ice_servers_or_stop, leaves_owed, models_or_stop, room_policy, shared_models, shared_store
from webapp.widgets import by_student, clock_time, device_sidebar_settings, plain, sidebar_settings

LOGGER = logging.getLogger(__name__)
MODEL_MISSING = "The emotion model is not available on this server, so you cannot join a class here. Tell your teacher."


def consent_notice(room: Room, policy: RoomPolicy) -> str:
    """What the student agrees to, for this room's kind, with what is kept, where and until when."""
    if room.per_student:
        who = ("**Your teacher sees your figures by name** (your emotion and faces in view, live) and gets a report "
               "of every student's figures by name. You see what your teacher sees about you on your page.")
    else:
        who = ("Your teacher sees **only the class's figures, never yours by name**, and only for moments when at "
               f"least {policy.min_students} students share.")
    return (
        "While your camera runs, this page reads the emotion on the faces it sees and sends **only those "
        "figures** (seven numbers per face, up to a few times a second) to your teacher's room. "
        f"{who} By default your browser reads your faces itself and your video never "
        "leaves this device; if you choose to have them read on the server, your video goes there to be read "
        "and is neither stored nor recorded. You can pause (your camera turns off), leave, or leave and delete "
        "every figure you shared, at any time.\n\n"
        f"{policy.retention(room.per_student, hours=clock_hours(room))} This room expires at {clock_time(room.expires)}."
    )


def clock_hours(room: Room) -> str:
    """The room's life in hours, as the teacher chose it."""
    return f"{(room.expires - room.created) / 3600:g}"


def student_page() -> None:
    st.title("Join a class")
    store = shared_store()
    membership = st.session_state.get("membership") or returning_student(store)
    if membership is None:
        if note := st.session_state.pop(LEFT_NOTE_KEY, None):
            st.warning(note)  # said by the Leave click, whose run ended drawing the sharing page
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
    """This session's membership; the seat goes into the page's address, so that a reload finds it.

    In a class-only room the student's figures go under a sender id that this page makes and keeps in its
    address (`figures=`), so that a reloaded page can still delete them; the room never links it to the seat.
    """
    sender = None if room.per_student else st.query_params.get("figures") or new_sender()
    membership = {
        "code": room.code,
        "title": room.title,
        "name": student.name,
        "per_student": room.per_student,
        "publisher": RoomPublisher(store, room.code, student.student_id, sender=sender),
    }
    st.session_state.membership = membership
    st.session_state[PATH_KEY] = student.path  # a reloaded student comes back on the path they chose
    st.query_params.update({"room": room.code, "seat": student.student_id, **({"figures": sender} if sender else {})})
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
    except StoreUnavailable as error:
        # Out for now, not gone: the seat stays in the address and the page asks again by itself.
        st.warning(f"{error} Your seat is kept: this page tries again every few seconds.")
        ask_for_the_seat_again()
        st.stop()
    except RoomError as error:
        said = error.render(plain)
        st.warning(said if isinstance(error, RoomNotFound) else f"You could not get your seat back: {said}")
        del st.query_params["seat"]
        return None
    return seat_in(store, room, student)


@st.fragment(run_every=3.0)
def ask_for_the_seat_again() -> None:
    """While the room cannot be reached, the whole page runs again every few seconds (this fragment's timer);
    drawn by the page's run, it only marks that it was, so the timer's run is the one that reruns the page."""
    if st.session_state.pop(SEAT_RETRY_KEY, False):
        st.rerun()
    st.session_state[SEAT_RETRY_KEY] = True


def join_form(store: RoomStore) -> None:
    code = st.text_input("Class code", value=st.query_params.get("room", ""), max_chars=8, placeholder="e.g. K7PX2M")
    if not code.strip():
        st.caption("Your teacher gives you the code or a link to this page.")
        return
    try:
        room = store.room(code, time.time())
    except RoomError as error:
        st.error(error.render(plain))
        return
    st.subheader(plain(room.title))
    if not model_ready():
        return
    name = st.text_input("Display name (optional)", max_chars=40, help="Leave it empty to appear as 'student N'.")
    st.info(consent_notice(room, room_policy()))
    agreed = st.checkbox(
        "I agree that my teacher sees my emotion figures by name, as described above." if room.per_student
        else "I agree to share my emotion figures with this class as described above."
    )
    if st.button("Join the class", type="primary", disabled=not agreed):
        try:
            student = store.join(room.code, name, time.time())
        except RoomError as error:
            st.error(error.render(plain))
            return
        seat_in(store, room, student)
        st.rerun()
    elif not agreed:
        st.caption("You can join once you have agreed.")


PATHS = {"device": "On this device (recommended)", "server": "On the server"}
PATH_KEY = "class_path"  # the path control's value: where this student's faces are read
ENDED_ADVICE = "Your camera is off. Press **Leave the class** when you are done."
ANSWER_AT_KEY = "class_device_answer_at"  # when the room's latest answer the page acted on was heard
SEAT_RETRY_KEY = "seat_retry_drawn"  # ask_for_the_seat_again was drawn by the page's run
LEFT_NOTE_KEY = "left_note"  # what the join form says first after a Leave the room could not hear yet


def class_stream(store: RoomStore, membership: dict) -> None:
    """The student's camera, its controls and what is shared, on the path they chose.

    On the device path the camera, the path control and the buttons all live in one fragment: the
    browser sends a batch of widget changes with the fragment id of the first one in it, so a button
    drawn outside the fragment could share a batch with the camera's figures and its click would go to
    a rerun of the fragment alone, and be lost.
    """
    st.subheader(f"{plain(membership['title'])}: you are {plain(membership['name'])}")
    if st.session_state.get(PATH_KEY, "device") == "server":
        server_sharing(store, membership)
    else:
        forget_connection("class")  # the server path's component is gone; coming back, a START is judged afresh
        device_sharing(store, membership, device_sidebar_settings())


def path_choice(publisher: RoomPublisher) -> str:
    """Where the faces are read; a change is told to the room at once, so the roster follows it."""
    path = st.segmented_control(
        "Where your faces are read",
        options=list(PATHS),
        format_func=PATHS.__getitem__,
        key=PATH_KEY,
        on_change=lambda: tell_room(publisher, path=st.session_state.get(PATH_KEY) or "device"),
        help="On this device, your browser reads your faces itself and sends the class only the figures; "
        "no video leaves it. On the server, your video goes to the server, which reads it there.",
    ) or "device"
    publisher.path = path
    return path


def class_controls(publisher: RoomPublisher) -> None:
    """Pause or resume, leave, leave and delete. Each acts in its callback, before the run draws anything, so
    no figure is kept after the click (the room refuses a paused or left seat's, from wherever they come); the
    buttons' look never changes between the run a click starts and the next.

    Each button does what its label says, whatever state it finds: Streamlit's browser side can send one click
    twice (a fragment's `run_every` timer falling due between the click and its message sends the click too),
    and a toggle would undo the student's choice.
    """
    pause, leave, forget = st.columns(3)
    if not publisher.ended:
        resume = publisher.paused
        pause.button(
            "Resume sharing" if resume else "Pause sharing",
            type="primary",
            key="resume_sharing" if resume else "pause_sharing",
            on_click=set_paused,
            args=(publisher, not resume),
            help="Paused, your camera is off and nothing is shared; your teacher sees you as paused.",
        )
    leave.button("Leave the class", key="leave_class", on_click=leave_class, args=(publisher, False))
    forget.button(
        "Leave and delete my figures",
        key="leave_and_delete",
        on_click=leave_class,
        args=(publisher, True),
        disabled=publisher.ended,
        help="Removes every figure you shared from the room: your teacher's reports made afterwards lack them.",
    )


def set_paused(publisher: RoomPublisher, paused: bool) -> None:
    if publisher.paused != paused:
        publisher.paused = paused
        tell_room(publisher, status="paused" if paused else "active")


def leave_class(publisher: RoomPublisher, delete_figures: bool) -> None:
    publisher.paused = True  # nothing more leaves this session, whatever the store says
    membership = st.session_state.get("membership")
    if membership is None or membership["publisher"] is not publisher:
        return  # the same click, sent twice: the student has left already
    if not publisher.ended:
        try:
            publisher.tell(status="left", forget=delete_figures)
        except StoreUnavailable as error:  # the page forgets the seat now: this process tells the room when it is back
            leaves_owed().add(OwedLeave(publisher.store, publisher.code, publisher.student_id, publisher.sender,
                                        delete_figures, at=publisher.clock()))
            what = "that you left and to delete your figures" if delete_figures else "that you left"
            st.session_state[LEFT_NOTE_KEY] = (f"{error} You have left: the room will be told {what} as soon as it "
                                               "can be reached, whether or not this page stays open.")
        except RoomNotFound:
            pass  # the room is gone: nothing to tell it
    del st.session_state.membership
    for key in ("class_stream", PATH_KEY, ANSWER_AT_KEY, "class_ended_drawn"):
        st.session_state.pop(key, None)
    for param in ("seat", "figures"):
        st.query_params.pop(param, None)


def left_the_class(membership: dict) -> bool:
    """Whether this membership ended in the callback of this run (the student pressed Leave)."""
    return st.session_state.get("membership") is not membership


@st.fragment
def device_sharing(store: RoomStore, membership: dict, settings: PipelineSettings) -> None:
    """The on-device camera with its controls; the browser posts the figures to the room itself, and the page
    hears the room's answer when it changes (kept, paused, ended...).

    Paused or ended, the camera is not drawn: its component unmounts, which ends the camera's tracks.
    """
    publisher: RoomPublisher = membership["publisher"]
    if left_the_class(membership) or path_choice(publisher) != "device":
        st.rerun()  # the whole page: the join form, or the server path
    state = None
    if not (publisher.paused or publisher.ended):
        seat: SendTo = {"url": FIGURES_PATH, "room": publisher.code, "seat": publisher.student_id, "figures": publisher.sender}
        state = device_camera(
            "class_device", settings, SEND_ONLY_FPS, report_every_ms=CLASS_REPORT_EVERY_MS,
            sample_every_ms=CLASS_SAMPLE_EVERY_MS, send_to=seat,
        )
        if ANSWER_AT_KEY not in st.session_state:
            publisher.heard("kept")  # a camera drawn anew is taken as sharing until it hands the room's answer
        if state.answer is not None and state.answer["at"] != st.session_state.get(ANSWER_AT_KEY):
            st.session_state[ANSWER_AT_KEY] = state.answer["at"]
            publisher.heard(state.answer["outcome"])
            if publisher.paused or publisher.ended:
                st.rerun(scope="fragment")  # without the camera
    else:
        st.session_state.pop(ANSWER_AT_KEY, None)  # a camera drawn again is heard afresh
    class_controls(publisher)
    if membership["per_student"] and not publisher.ended:
        what_the_teacher_sees(store, publisher)
    if publisher.ended:
        st.info(f"{publisher.problem} {ENDED_ADVICE}")
        return
    if publisher.problem:
        unreachable = publisher.problem == str(StoreUnavailable())
        st.warning(f"{publisher.problem}{' Sharing resumes by itself when the room is reachable.' if unreachable else ''}")
    if state is None:
        st.info("Sharing is paused: your camera is off and your teacher sees you as paused.")
        room_watch(publisher)  # drawn whatever else is said: it keeps the paused seat and hears of the class's end
    elif state.problem is not None:  # the camera says itself, under its picture, what it sees and shares
        st.warning(f"{state.problem['message']} You can choose **On the server** above instead.")


@st.fragment(run_every=3.0)
def room_watch(publisher: RoomPublisher) -> None:
    """While nothing is sent (paused), ask the store now and then whether the class has ended."""
    if not publisher.check_room():
        st.rerun()


def server_sharing(store: RoomStore, membership: dict) -> None:
    """The server path: the webcam goes to the server (send-only), the student sees a local preview."""
    publisher: RoomPublisher = membership["publisher"]
    if path_choice(publisher) != "server":
        st.rerun()
    stream = session_stream("class_stream", models_or_stop(), sidebar_settings(live=True), on_faces=publisher)
    if not (publisher.paused or publisher.ended):
        video, preview = st.columns(2)
        with video:
            context = live_video("class", stream, ice_servers_or_stop(), send_only=True)
        if context.state.playing:
            with preview:
                self_view("class_self_view")
        # In the page's full run, like the path control it changes (see connection_advice).
        connection_advice("class", stream, lambda: read_on_this_device(publisher))
    else:
        forget_connection("class")  # no component while paused: a START after Resume is judged afresh
    class_controls(publisher)
    if membership["per_student"] and not publisher.ended:
        what_the_teacher_sees(store, publisher)
    sharing_status(publisher, stream)


def read_on_this_device(publisher: RoomPublisher) -> None:
    """The server path's advice, where WebRTC cannot connect: the device path, told to the room like the control's change."""
    forget_connection("class")
    st.session_state[PATH_KEY] = "device"
    tell_room(publisher, path="device")


@st.fragment(run_every=2.0)
def what_the_teacher_sees(store: RoomStore, publisher: RoomPublisher) -> None:
    """A per-student room's promise: the student sees their own row and flags as the teacher's page shows them."""
    try:
        student = store.student(publisher.code, publisher.student_id, time.time())
    except RoomError:
        return  # said by the sharing status
    if student is None:
        return
    now, thresholds = time.time(), Thresholds()
    row = roster_row(student, now, thresholds)
    st.markdown("**What your teacher sees about you**")
    st.table(by_student(pd.DataFrame([row])))
    for flag in student_flags(student, now, thresholds) if row["state"] == "active" else []:
        st.caption(f"Flagged to your teacher: {flag.render(plain)}")


def tell_room(publisher: RoomPublisher, *, status: str | None = None, path: str | None = None, forget: bool = False) -> None:
    """Tell the room of the student's choice (in turn with the figures sent); where it cannot hear now, say so
    (the choice holds here)."""
    try:
        publisher.tell(status=status, path=path, forget=forget)
    except StoreUnavailable as error:
        st.warning(f"{error} Your choice is kept here and the room will hear of it when it is back.")
    except RoomNotFound:
        pass  # the room is gone: nothing to tell it


@st.fragment(run_every=2.0)
def sharing_status(publisher: RoomPublisher, stream: LiveStream) -> None:
    stats = stream.snapshot()
    if not publisher.check_room():  # a paused or idle student sends nothing that would tell
        if not st.session_state.get("class_ended_drawn"):
            st.session_state["class_ended_drawn"] = True
            st.rerun()  # the whole page: the video component goes, which ends the camera
        st.info(f"{publisher.problem} {ENDED_ADVICE}")
        return
    if publisher.paused:
        st.info("Sharing is paused: your camera is off and your teacher sees you as paused. "
                "Press **Resume sharing**, then START.")
        return
    if stats.frames:
        st.caption(f"Your video: {stats.faces_in_view} face(s) in view.")
    else:
        st.caption("Press START to begin; emotion figures are shared with the class while the video runs.")
    if publisher.problem:
        st.warning(f"{publisher.problem} Your video goes on; sharing resumes by itself when the room is reachable.")
    elif stats.frames:
        st.caption("Sharing emotion figures with the class.")
