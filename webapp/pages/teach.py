"""Class mood: a teacher creates a room, shares its link, and watches the class's figures live; reports to download."""

from __future__ import annotations

import time
import urllib.parse
from datetime import tzinfo

import streamlit as st

from emotion.classroom.analytics import Thresholds
from emotion.classroom.reading import RoomReader
from emotion.classroom.records import RoomData, RoomNotFound, RoomStore, StoreUnavailable
from emotion.classroom.reports import report_csv_file, report_html
from emotion.classroom.views import room_charts_now, room_counts_now
from webapp.charts import emotion_bars, timeline_chart
from webapp.resources import room_policy, shared_store
from webapp.widgets import LAWFUL_USE, by_student, clock_time, plain, viewer_timezone


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
        st.error(f"{error.render(plain)} Create a new room below.")
        st.query_params.clear()
        create_form(store)
        return
    except StoreUnavailable as error:
        st.warning(f"{error} Retrying…")
        time.sleep(2)
        st.rerun()
    if room.teacher_key != key:
        st.error("This teacher link is not valid for that room. Use the link you got when you created it.")
        if st.button("Create a new class room"):
            st.query_params.clear()
            st.rerun()
        return
    tz = viewer_timezone()
    join_link = page_url("join", {"room": room.code})
    st.markdown(f"### {plain(room.title)} &nbsp; · &nbsp; code **`{room.code}`**")
    st.markdown(
        f"Students join at {join_link} (or open **Join a class** and enter the code). "
        f"The room and its figures are deleted at {clock_time(room.expires, tz)}."
    )
    policy = room_policy()
    if room.per_student:
        st.caption("Per student: you see each student's figures by name; each of them agreed to exactly that.")
    else:
        st.caption(f"Class only: you see the class's figures, never a student's by name, and only while at least "
                   f"{policy.min_students} students show a face.")
    st.caption("Keep this page's address to yourself: it is your teacher link to this room.")
    with st.expander("Alert thresholds"):
        thresholds = Thresholds(
            negative_share=st.slider("Class share of negative emotions", 0.1, 0.9, 0.4, 0.05, format="%.2f"),
            negative_minutes=st.slider("…held over the last minutes", 1, 10, 2),
            no_face_seconds=st.slider("A student without a face in view for (seconds)", 15, 600, 60, 15,
                                      disabled=not room.per_student),
            stuck_seconds=st.slider("A student in one negative emotion for (seconds)", 30, 900, 120, 30,
                                    disabled=not room.per_student),
            min_students=policy.min_students,
        )
    room_view(store, room.code, thresholds, tz)
    report_section(store, room.code, thresholds, tz)


@st.fragment
def report_section(store: RoomStore, code: str, thresholds: Thresholds, tz: tzinfo) -> None:
    """The reports, made when the teacher asks and handed over as files the session keeps.

    Streamlit builds a download from a function only when it is clicked, and its clean-up of files no
    page refers to runs after every script run of every session: with students streaming, that
    file was often gone before the browser fetched it. Files made here from bytes belong to this
    fragment's buttons until the next press, and `on_click="ignore"` fetches them with no rerun.
    """
    st.subheader("Report")
    report, end = st.columns([3, 1])
    if end.button("End the class…", icon=":material/stop_circle:", help="Reports first, then the room and figures are deleted."):
        end_class(store, code, thresholds, tz)
    prepare = report.button("Prepare the reports", icon=":material/summarize:", help="The figures up to now, as CSV and HTML.")
    if not prepare:
        st.caption("Press to make the reports with the figures up to this moment.")
        return
    report_downloads(store, code, thresholds, tz)


def report_downloads(store: RoomStore, code: str, thresholds: Thresholds, tz: tzinfo) -> bool:
    """The CSV and HTML reports of the figures up to now, as two download buttons; whether they could be made."""
    now = time.time()
    try:
        data = store.data(code, now)
    except StoreUnavailable as error:
        st.warning(f"{error} Press again in a moment.")
        return False
    except RoomNotFound as error:
        st.error(error.render(plain))
        return False
    csv_column, html_column = st.columns(2)
    csv_column.download_button(
        "Figures per interval (CSV)",
        data=report_csv_file(data, until=now, tz=tz, thresholds=thresholds),
        file_name=f"class-{code}.csv",
        mime="text/csv",
        on_click="ignore",
    )
    html_column.download_button(
        "Summary page (HTML)",
        data=report_html(data, now, thresholds, tz).encode(),
        file_name=f"class-{code}.html",
        mime="text/html",
        on_click="ignore",
    )
    st.caption(f"Figures up to {clock_time(now, tz, seconds=True)}. Press again for later figures.")
    return True


@st.dialog("End the class")
def end_class(store: RoomStore, code: str, thresholds: Thresholds, tz: tzinfo) -> None:
    """Reports offered first; then the room and every figure in it are deleted, and every student's camera stops."""
    st.markdown(
        "Ending the class **deletes the room and all its figures now**: no report can be made afterwards. "
        "Every student's page says the class has ended, and their cameras stop. Download the reports first if you want them."
    )
    if not report_downloads(store, code, thresholds, tz):
        return
    if st.button("End the class and delete its figures", type="primary", icon=":material/delete_forever:"):
        try:
            store.end_room(code, time.time())
        except StoreUnavailable as error:
            st.warning(f"{error} Nothing was deleted; try again in a moment.")
            return
        except RoomNotFound:
            pass  # ended meanwhile (another tab) or expired: gone either way
        st.rerun()


ROOM_KINDS = {
    False: "Class only (recommended): the class's mood, never a student's emotions by name",
    True: "Per student: each student's figures by name, and a per-student report",
}


def create_form(store: RoomStore) -> None:
    st.warning(LAWFUL_USE, icon=":material/gavel:")
    policy = room_policy()
    with st.form("create"):
        title = st.text_input("Class name", max_chars=80, placeholder="e.g. Physics 101, week 5")
        per_student = st.radio(
            "What you see",
            options=list(ROOM_KINDS),
            format_func=ROOM_KINDS.__getitem__,
            help="A class aid needs the class's mood. Per student, you see every student's emotions under their name "
            "and get a per-student report (flags such as a student sad for a long time); each student is told exactly "
            "that before they agree, and the law of many places asks for the least data that serves the purpose.",
        )
        offered = policy.hours_offered()
        hours = st.select_slider("Delete the room and its figures after (hours)", options=offered, value=min(3, max(offered)))
        st.markdown(policy.retention(per_student=False) + "\n\n*Per student:* " + policy.kept(per_student=True) + ".")
        if st.form_submit_button("Create a class room", type="primary"):
            try:
                room = store.create_room(title, hours * 3600, time.time(), per_student=bool(per_student))
            except StoreUnavailable as error:
                st.error(f"{error} Try again in a moment.")
                return
            st.query_params.update({"room": room.code, "key": room.teacher_key})
            st.rerun()
    st.caption("Students see only their own video; you see the class's figures, never their images.")


def page_url(page: str, params: dict[str, str]) -> str:
    parts = urllib.parse.urlsplit(st.context.url or "")
    base = f"{parts.scheme}://{parts.netloc}" if parts.netloc else ""
    query = f"?{urllib.parse.urlencode(params)}" if params else ""
    return f"{base}/{page}{query}"


def room_reader(store: RoomStore, code: str) -> RoomReader:
    """This session's reader of the room: the live view's fragments share it (emotion/classroom/reading.py)."""
    readers = st.session_state.setdefault("room_readers", {})
    reader = readers.get(code)
    if reader is None or reader.store is not store:
        reader = readers[code] = RoomReader(store, code)
    return reader


def room_data(store: RoomStore, code: str, *, say_why: bool) -> RoomData | None:
    """The room's figures now (its intervals up to one interval old), or None when the store or the room is gone
    (with a message if `say_why`)."""
    try:
        return room_reader(store, code).data(time.time())
    except StoreUnavailable as error:
        if say_why:
            st.warning(f"{error} The view resumes by itself when it is back.")
    except RoomNotFound as error:
        room_reader(store, code).forget()
        if say_why:
            st.error(error.render(plain))
    return None


def room_view(store: RoomStore, code: str, thresholds: Thresholds, tz: tzinfo) -> None:
    """The counts and flags every second, the charts and the roster every two.

    Apart, the counts a teacher glances at do not wait for the charts, which cost the most to send and to draw.
    """
    room_counts(store, code, thresholds)
    room_charts(store, code, thresholds, tz)


ROSTER_HEIGHT_PX = 420  # a large class's roster: about twelve rows in sight


@st.fragment(run_every=1.0)
def room_counts(store: RoomStore, code: str, thresholds: Thresholds) -> None:
    data = room_data(store, code, say_why=True)
    if data is None:
        return
    counts = room_counts_now(data, time.time(), thresholds, room_reader(store, code))
    cols = st.columns(4)
    cols[0].metric("Connected", counts.connected)
    cols[1].metric("Face in view", counts.faces_in_view)
    cols[2].metric("Paused", counts.paused)
    cols[3].metric("Left or dropped", counts.gone)
    for flag in counts.flags:
        st.warning(flag.render(plain), icon=":material/notification_important:")


@st.fragment(run_every=2.0)
def room_charts(store: RoomStore, code: str, thresholds: Thresholds, tz: tzinfo) -> None:
    data = room_data(store, code, say_why=False)  # the counts above say why
    if data is None:
        return
    charts = room_charts_now(data, time.time(), thresholds, tz, room_reader(store, code))
    mix, line = st.columns([2, 3])
    with mix:
        st.markdown("**Emotion mix now**")
        if charts.mix:
            st.vega_lite_chart(emotion_bars(charts.mix), width="stretch")
        elif charts.least > 1:
            st.info(f"Waiting for {charts.least} students: the class's emotions show once at least {charts.least} "
                    "students share a face, so that no one's can be told apart.")
        else:
            st.info("No face in view yet.")
    with line:
        st.markdown("**Over the lecture (shares per minute)**")
        if not charts.history.empty:
            st.altair_chart(timeline_chart(charts.history), width="stretch")
        else:
            st.info("The timeline fills in as students stream.")
    if charts.roster_scrolls:  # a grid draws only the rows in sight, and shows names as typed
        st.caption("Students who may need you first: not sharing, paused, then gone; then those sharing.")
        st.dataframe(charts.roster.set_index("student"), height=ROSTER_HEIGHT_PX)
    else:
        st.table(by_student(charts.roster))
