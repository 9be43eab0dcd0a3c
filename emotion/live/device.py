"""The on-device camera on a page: faces found and read in the student's browser, only figures come back.

A Streamlit component (st.components.v2, no iframe) whose script imports static/ondevice/camera.js;
the models and the LiteRT.js runtime are served by the app itself (static/, `enableStaticServing`).
Every setting the browser uses comes from the Python pipeline (emotion.ondevice.browser_settings).
The page reads back what the browser sent: the faces' smoothed probabilities, the frame rate, or a
problem (camera refused, runtime not loaded, device too slow), which the page turns into advice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import cast

import numpy as np
import streamlit as st

from emotion.contract import CameraConstraints, CameraData, FiguresMessage, Problem
from emotion.labels import EMOTIONS
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

CAMERA: CameraConstraints = {"width": 640, "height": 480, "frameRate": {"ideal": 15}}
REPORT_EVERY_MS = 500  # figures handed to the page twice a second
# A class room's: a sample a second (its figures are kept per 10 s), sent two at a time, since each message
# reruns the student's fragment on the server; a change in the faces in view goes at once (static/ondevice/reporter.js).
CLASS_SAMPLE_EVERY_MS = 1000
CLASS_REPORT_EVERY_MS = 2000


@dataclass(frozen=True)
class DeviceFigures:
    faces: list[np.ndarray] = field(default_factory=list)  # each face's smoothed probabilities, FER-2013 order
    skipped: int = 0
    fps: float | None = None
    ms_median: float | None = None
    at: float | None = None  # the browser's clock when sent, ms: a new value means new figures
    # The samples taken since the last message, oldest first: (seconds before `at`, each face's probabilities)
    samples: list[tuple[float, list[np.ndarray]]] = field(default_factory=list)


@dataclass(frozen=True)
class DeviceState:
    figures: DeviceFigures | None
    problem: Problem | None


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
) -> DeviceState:
    """Mount the on-device camera under `key`; what it has reported so far.

    `frame_rate`: frames read a second, where fewer than the camera's do (a class room needs figures, not
    video: fewer frames spare the student's battery and processor). `report_every_ms`: how often the
    figures come back (each report reruns the page's fragment on the server), with a sample of the faces
    every `sample_every_ms` (default: one a report).
    """
    camera: CameraConstraints = CAMERA if frame_rate is None else {**CAMERA, "frameRate": {"ideal": frame_rate}}
    data: CameraData = {
        "settings": browser_settings(settings),
        "camera": camera,
        "reportEveryMs": report_every_ms,
        "sampleEveryMs": report_every_ms if sample_every_ms is None else sample_every_ms,
        "showProbabilities": settings.show_probabilities,
    }
    result = _camera(key=key, data=data, on_figures_change=lambda: None, on_problem_change=lambda: None)
    # The browser's JSON, taken as the contract's shapes (static/ondevice/contract.js) once it is an object.
    raw = getattr(result, "figures", None)
    problem = getattr(result, "problem", None)
    return DeviceState(
        figures_of(cast(FiguresMessage, raw), settings.max_faces) if isinstance(raw, dict) else None,
        cast(Problem, problem) if isinstance(problem, dict) else None,
    )


def figures_of(message: FiguresMessage, max_faces: int = PipelineSettings().max_faces) -> DeviceFigures | None:
    """The figures of a message from static/ondevice/reporter.js; None when it is not one (the page ignores it).

    The browser's JSON is checked, not trusted: a face is seven finite probabilities, at most `max_faces` of
    them (the browser's pipeline reads no more), a sample a time and faces, and a sample that is not is left
    out. A message without samples (a page still running an earlier camera.js, from the browser's cache) counts
    as a single sample of its faces.
    """
    faces, at = faces_of(message.get("faces"), max_faces), _number(message.get("at"))
    if faces is None or at is None:
        return None
    samples = []
    raw_samples = message.get("samples")
    for sample in raw_samples if isinstance(raw_samples, list) else []:
        taken = _number(sample.get("at")) if isinstance(sample, dict) else None
        sample_faces = faces_of(sample.get("faces"), max_faces) if isinstance(sample, dict) else None
        if taken is not None and sample_faces is not None:
            samples.append(((at - taken) / 1000, sample_faces))
    return DeviceFigures(
        faces=faces,
        skipped=_count(message.get("skipped")),
        fps=_number(message.get("fps")),
        ms_median=_number(message.get("msMedian")),
        at=at,
        samples=samples if isinstance(raw_samples, list) else [(0.0, faces)],
    )


def faces_of(raw: object, max_faces: int) -> list[np.ndarray] | None:
    """Each face's probabilities, or None unless there are at most `max_faces` and every face is len(EMOTIONS)
    finite numbers in [0, 1]."""
    if not isinstance(raw, list) or len(raw) > max_faces:
        return None
    try:
        faces = [np.asarray(face, dtype=np.float32) for face in raw]
    except (TypeError, ValueError):
        return None
    def valid(face: np.ndarray) -> bool:
        return face.shape == (len(EMOTIONS),) and bool(np.isfinite(face).all() and (face >= 0).all() and (face <= 1).all())

    return faces if all(valid(face) for face in faces) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None


def _count(value: object) -> int:
    return int(value) if isinstance(value, (int, float)) and math.isfinite(value) and value >= 0 else 0
