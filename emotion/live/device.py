"""The on-device camera on a page: faces found and read in the student's browser, only figures come back.

A Streamlit component (st.components.v2, no iframe) whose script imports static/ondevice/camera.js;
the models and the LiteRT.js runtime are served by the app itself (static/, `enableStaticServing`).
Every setting the browser uses comes from the Python pipeline (emotion.ondevice.browser_settings).
The page reads back what the browser sent: the faces' smoothed probabilities, the frame rate, or a
problem (camera refused, runtime not loaded, device too slow), which the page turns into advice. A class
room's camera posts its figures to the room itself (`send_to`, webapp/endpoints.py), since each message
handed to the page reruns it on the server; it shows the faces in view itself, and the page hears only the
room's answer, when it changes (kept, paused, ended, unreachable...).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import cast

import streamlit as st

from emotion.contract import OUTCOMES, CameraConstraints, CameraData, FiguresAnswer, FiguresMessage, Problem, SendTo
from emotion.ondevice import DeviceFigures, browser_settings, figures_of
from emotion.pipeline import PipelineSettings

# The component's script: the camera module is loaded from the app's static files. A component's own
# script runs from a blob: address, so the module's address is made from the page's.
_SCRIPT = """
export default async function (component) {
  const base = new URL('app/static/', document.baseURI).href;
  const { mount } = await import(base + 'ondevice/camera.js');
  return mount(component);
}
"""
_camera = st.components.v2.component("emotion_ondevice_camera", js=_SCRIPT)
_preview = st.components.v2.component("emotion_self_view", js=_SCRIPT.replace("camera.js", "preview.js"))

CAMERA: CameraConstraints = {"width": 640, "height": 480, "frameRate": {"ideal": 15}}
REPORT_EVERY_MS = 500  # figures handed to the page twice a second
# A class room's: a sample a second (its figures are kept per 10 s), sent two at a time, since each message
# costs the server a store transaction; a change in the faces in view goes at once (static/ondevice/reporter.js).
CLASS_SAMPLE_EVERY_MS = 1000
CLASS_REPORT_EVERY_MS = 2000


@dataclass(frozen=True)
class DeviceState:
    figures: DeviceFigures | None  # None until the first message, and on a class room's page (they go to the room)
    problem: Problem | None
    answer: FiguresAnswer | None = None  # a class room's: the room's latest answer to its figures, as it changed


def self_view(key: str) -> None:
    """The student's own camera as a preview on the page (static/ondevice/preview.js); nothing is read or sent.

    streamlit-webrtc's send-only mode shows no video, so a student on the server path would not see what
    their camera shows. Not drawn, it unmounts and ends its tracks.
    """
    _preview(key=key, data={"camera": CAMERA})


def device_camera(
    key: str,
    settings: PipelineSettings,
    frame_rate: int | None = None,
    report_every_ms: int = REPORT_EVERY_MS,
    sample_every_ms: int | None = None,
    send_to: SendTo | None = None,
) -> DeviceState:
    """Mount the on-device camera under `key`; what it has reported so far.

    `frame_rate`: frames read a second, where fewer than the camera's do (a class room needs figures, not
    video: fewer frames spare the student's battery and processor). `report_every_ms`: how often the
    figures go out (to the page, where each reruns the page's fragment on the server, or to `send_to`), with a sample of the faces
    every `sample_every_ms` (default: one a report). `send_to`: a class room's seat, to which the browser posts
    the figures itself, and says itself what it sees; the page gets back only the room's answer, as it changes.
    """
    camera: CameraConstraints = CAMERA if frame_rate is None else {**CAMERA, "frameRate": {"ideal": frame_rate}}
    data: CameraData = {
        "settings": browser_settings(settings),
        "camera": camera,
        "reportEveryMs": report_every_ms,
        "sampleEveryMs": report_every_ms if sample_every_ms is None else sample_every_ms,
        "showProbabilities": settings.show_probabilities,
        "sendTo": send_to,
    }
    result = _camera(
        key=key, data=data, on_figures_change=lambda: None, on_problem_change=lambda: None, on_answer_change=lambda: None
    )
    # The browser's JSON, taken as the contract's shapes (static/ondevice/contract.js) once it is an object.
    raw, problem, answer = (getattr(result, name, None) for name in ("figures", "problem", "answer"))
    return DeviceState(
        figures_of(cast(FiguresMessage, raw), settings.max_faces) if isinstance(raw, dict) else None,
        cast(Problem, problem) if isinstance(problem, dict) else None,
        cast(FiguresAnswer, answer) if isinstance(answer, dict) and answer.get("outcome") in OUTCOMES else None,
    )
