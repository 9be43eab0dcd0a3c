"""Classroom emotion recognition: `streamlit run app.py`.

Pages (webapp/pages): Live (webcam through WebRTC), Photo (snapshot or upload, the fallback where
WebRTC cannot connect), Join a class and Class mood (the students' and the teacher's side of a class
room) and About (the model's figures and the privacy note). Beside them, one HTTP endpoint: a class
room's on-device figures, posted by the student's page (webapp/endpoints.py).

`streamlit run app.py` finds `app` below and serves it (st.App): it imports this module to do so, and
runs this file as each session's script (`__main__`), which draws the pages.
"""

from __future__ import annotations

import streamlit as st

if __name__ == "__main__":  # a session's run: the pages
    from emotion.live.workarounds import run_counting_completed_runs
    from webapp.pages.about import about_page
    from webapp.pages.join import student_page
    from webapp.pages.live import live_page
    from webapp.pages.photo import photo_page
    from webapp.pages.teach import teacher_page

    pages = st.navigation(
        [
            st.Page(live_page, title="Live", icon=":material/videocam:", default=True),
            st.Page(photo_page, title="Photo", icon=":material/photo_camera:", url_path="photo"),
            st.Page(student_page, title="Join a class", icon=":material/login:", url_path="join"),
            st.Page(teacher_page, title="Class mood", icon=":material/groups:", url_path="teach"),
            st.Page(about_page, title="About", icon=":material/info:", url_path="about"),
        ]
    )
    st.set_page_config(page_title="Classroom emotion recognition", page_icon=":material/mood:", layout="wide")
    run_counting_completed_runs(pages)  # the run count keep_rendered_context reads
else:  # the server: the pages (this file, run per session) and the figures endpoint beside them
    from webapp.endpoints import routes

    app = st.App(__file__, routes=routes())
