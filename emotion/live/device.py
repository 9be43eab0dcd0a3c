"""The on-device camera on a page: faces found and read in the student's browser, only figures come back.

A Streamlit component (st.components.v2, no iframe) whose script imports static/ondevice/camera.js;
the models and the LiteRT.js runtime are served by the app itself (static/, `enableStaticServing`).
Every setting the browser uses comes from the Python pipeline (emotion.ondevice.browser_settings).
The page reads back what the browser sent: the faces' smoothed probabilities, the frame rate, or a
problem (camera refused, runtime not loaded, device too slow), which the page turns into advice.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import streamlit as st

from emotion.ondevice import browser_settings
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

CAMERA = {"width": 640, "height": 480, "frameRate": {"ideal": 15}}
REPORT_EVERY_MS = 500  # figures handed to the page twice a second
CLASS_REPORT_EVERY_MS = 1000  # a class room's: its live view refreshes each second, its figures are kept per 10 s


@dataclass(frozen=True)
class DeviceFigures:
    faces: list[np.ndarray] = field(default_factory=list)  # each face's smoothed probabilities, FER-2013 order
    skipped: int = 0
    fps: float | None = None
    ms_median: float | None = None
    at: float | None = None  # the browser's clock when sent, ms: a new value means new figures


@dataclass(frozen=True)
class DeviceState:
    figures: DeviceFigures | None
    problem: dict | None  # {"kind": camera | runtime | slow, "message": plain words}


def self_view(key: str) -> None:
    """The student's own camera as a preview on the page (static/ondevice/preview.js); nothing is read or sent.

    streamlit-webrtc's send-only mode shows no video, so a student on the server path would not see what
    their camera shows. Not drawn, it unmounts and ends its tracks.
    """
    _preview(key=key, data={"camera": CAMERA})


def device_camera(
    key: str, settings: PipelineSettings, frame_rate: int | None = None, report_every_ms: int = REPORT_EVERY_MS
) -> DeviceState:
    """Mount the on-device camera under `key`; what it has reported so far.

    `frame_rate`: frames read a second, where fewer than the camera's do (a class room needs figures, not
    video: fewer frames spare the student's battery and processor). `report_every_ms`: how often the
    figures come back; each report reruns the page's fragment on the server.
    """
    camera = CAMERA if frame_rate is None else {**CAMERA, "frameRate": {"ideal": frame_rate}}
    data = {
        "settings": browser_settings(settings),
        "camera": camera,
        "reportEveryMs": report_every_ms,
        "showProbabilities": settings.show_probabilities,
    }
    result = _camera(key=key, data=data, on_figures_change=lambda: None, on_problem_change=lambda: None)
    raw = getattr(result, "figures", None)
    figures = None
    if isinstance(raw, dict):
        figures = DeviceFigures(
            faces=[np.asarray(p, dtype=np.float32) for p in raw.get("faces", [])],
            skipped=int(raw.get("skipped") or 0),
            fps=raw.get("fps"),
            ms_median=raw.get("msMedian"),
            at=raw.get("at"),
        )
    problem = getattr(result, "problem", None)
    return DeviceState(figures, problem if isinstance(problem, dict) else None)
