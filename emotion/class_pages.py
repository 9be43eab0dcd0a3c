"""The class room's two sides: students join and stream, the teacher watches the room's mood.

A student's page runs the same live pipeline as the Live page and hands each frame's smoothed
face probabilities to a `RoomPublisher`; nothing else of the video leaves the student's session.
"""

from __future__ import annotations

import time
import urllib.parse

import streamlit as st

from emotion.charts import emotion_bars, timeline_chart
from emotion.classroom import (
    RoomPublisher,
    Thresholds,
    connected,
    flags,
    mix_now,
    presence,
    report_csv,
    report_html,
    roster,
    timeline,
)
from emotion.rooms import RoomError, RoomNotFound, RoomStore, StoreUnavailable
from emotion.stream import LiveStream
from emotion.ui import (
    STALL_MESSAGE,
    live_video,
    session_stream,
    shared_store,
    sidebar_settings,
    stalled,
)

ROOM_HOURS = (1, 2, 3, 4, 6, 8, 12)


def clock_time(epoch: float) -> str:
    return time.strftime("%H:%M UTC", time.gmtime(epoch))


def consent_notice(expires: float) -> str:
    return (
        "While your camera runs, this page reads the emotion on the faces it sees and sends **only those "
        "figures** (seven numbers per face, about three times a second) to your teacher's room, under your "
        "display name or as 'student N'. No image of you is sent, stored or recorded. You can pause or leave "
        f"at any time. The room and all its figures are **deleted when it expires, at {clock_time(expires)}**."
    )


def student_page() -> None:
    st.title("Join a class")
    store = shared_store()
    membership = st.session_state.get("membership")
    if membership is None:
        join_form(store)
    else:
        class_stream(store, membership)


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
    st.subheader(room.title)
    name = st.text_input("Display name (optional)", max_chars=40, help="Leave it empty to appear as 'student N'.")
    st.info(consent_notice(room.expires))
    agreed = st.checkbox("I agree to share my emotion figures with this class as described above.")
    if st.button("Join the class", type="primary", disabled=not agreed):
        try:
            student = store.join(room.code, name, time.time())
        except RoomError as error:
            st.error(str(error))
            return
        st.session_state.membership = {
            "code": room.code,
            "title": room.title,
            "name": student.name,
            "publisher": RoomPublisher(store, room.code, student.student_id),
        }
        st.rerun()
    elif not agreed:
        st.caption("You can join once you have agreed.")


def class_stream(store: RoomStore, membership: dict) -> None:
    publisher: RoomPublisher = membership["publisher"]
    stream = session_stream("class_stream", sidebar_settings(live=True), on_faces=publisher)
    st.subheader(f"{membership['title']}: you are {membership['name']}")
    live_video("class", stream)
    pause, leave = st.columns(2)
    if pause.button("Resume sharing" if publisher.paused else "Pause sharing"):
        publisher.paused = not publisher.paused
        if publisher.paused:
            set_status(store, publisher, "paused")
        st.rerun()
    if leave.button("Leave the class", type="primary"):
        set_status(store, publisher, "left")
        del st.session_state.membership, st.session_state.class_stream
        st.rerun()
    sharing_status(publisher, stream)


def set_status(store: RoomStore, publisher: RoomPublisher, status: str) -> None:
    try:
        store.set_status(publisher.code, publisher.student_id, status, time.time())
    except StoreUnavailable as error:
        st.warning(f"{error}. Your choice is kept here and the room will hear of it when it is back.")
    except RoomError:
        pass  # the room is gone: nothing to tell it


@st.fragment(run_every=2.0)
def sharing_status(publisher: RoomPublisher, stream: LiveStream) -> None:
    stats = stream.snapshot()
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


def teacher_page() -> None:
    st.title("Class mood")
    store = shared_store()
    code, key = st.query_params.get("room"), st.query_params.get("key")
    if not (code and key):
        create_form(store)
        return
    try:
        room = store.room(code, time.time())
    except RoomNotFound as error:
        st.error(f"{error} Create a new room below.")
        st.query_params.clear()
        create_form(store)
        return
    except StoreUnavailable as error:
        st.warning(f"{error}. Retrying…")
        time.sleep(2)
        st.rerun()
    if room.teacher_key != key:
        st.error("This teacher link is not valid for that room. Use the link you got when you created it.")
        return
    join_link = page_link("join", {"room": room.code})
    st.markdown(f"### {room.title} &nbsp; · &nbsp; code **`{room.code}`**")
    st.markdown(
        f"Students join at {join_link} (or open **Join a class** and enter the code). "
        f"The room and its figures are deleted at {clock_time(room.expires)}."
    )
    st.caption("Keep this page's address to yourself: it is your teacher link to this room.")
    with st.expander("Alert thresholds"):
        thresholds = Thresholds(
            negative_share=st.slider("Class share of negative emotions", 0.1, 0.9, 0.4, 0.05, format="%.2f"),
            negative_minutes=st.slider("…held over the last minutes", 1, 10, 2),
            no_face_seconds=st.slider("A student without a face in view for (seconds)", 15, 600, 60, 15),
            stuck_seconds=st.slider("A student in one negative emotion for (seconds)", 30, 900, 120, 30),
        )
    room_view(store, room.code, thresholds)
    st.subheader("Report")
    st.caption("Available at any time; figures up to the moment you download.")
    csv_column, html_column = st.columns(2)
    csv_column.download_button(
        "Figures per interval (CSV)",
        data=lambda: report_csv(store.data(room.code, time.time())),
        file_name=f"class-{room.code}.csv",
        mime="text/csv",
    )
    html_column.download_button(
        "Summary page (HTML)",
        data=lambda: summary_page(store, room.code, thresholds),
        file_name=f"class-{room.code}.html",
        mime="text/html",
    )


def summary_page(store: RoomStore, code: str, thresholds: Thresholds) -> str:
    now = time.time()
    data = store.data(code, now)
    chart = timeline_chart(timeline(data)).properties(width=700).to_html()
    return report_html(data, now, thresholds, chart)


def create_form(store: RoomStore) -> None:
    with st.form("create"):
        title = st.text_input("Class name", max_chars=80, placeholder="e.g. Physics 101, week 5")
        hours = st.select_slider("Delete the room and its figures after (hours)", options=ROOM_HOURS, value=3)
        if st.form_submit_button("Create a class room", type="primary"):
            try:
                room = store.create_room(title, hours * 3600, time.time())
            except StoreUnavailable as error:
                st.error(f"{error}. Try again in a moment.")
                return
            st.query_params.update({"room": room.code, "key": room.teacher_key})
            st.rerun()
    st.caption("Students see only their own video; you see the class's figures, never their images.")


def page_link(page: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(st.context.url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    return f"{base}/{page}?{urllib.parse.urlencode(params)}"


@st.fragment(run_every=2.0)
def room_view(store: RoomStore, code: str, thresholds: Thresholds) -> None:
    now = time.time()
    try:
        data = store.data(code, now)
    except StoreUnavailable as error:
        st.warning(f"{error}. The view resumes by itself when it is back.")
        return
    except RoomNotFound as error:
        st.error(str(error))
        return
    states = [presence(s, now, thresholds) for s in data.students]
    online = connected(data, now, thresholds)
    with_face = sum(1 for s in online if s.faces)
    cols = st.columns(4)
    cols[0].metric("Connected", len(online))
    cols[1].metric("Face in view", with_face)
    cols[2].metric("Paused", states.count("paused"))
    cols[3].metric("Left or dropped", states.count("left") + states.count("dropped"))
    for flag in flags(data, now, thresholds):
        st.warning(flag.message, icon=":material/notification_important:")
    mix, line = st.columns([2, 3])
    with mix:
        st.markdown("**Emotion mix now**")
        current = mix_now(data, now, thresholds)
        if current:
            st.altair_chart(emotion_bars(current), width="stretch")
        else:
            st.info("No face in view yet.")
    with line:
        st.markdown("**Over the lecture (shares per minute)**")
        history = timeline(data)
        if history.empty:
            st.info("The timeline fills in as students stream.")
        else:
            st.altair_chart(timeline_chart(history), width="stretch")
    st.table(roster(data, now, thresholds).set_index("student"))
