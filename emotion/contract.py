"""The shapes that cross between Python and the browser's on-device camera, written once on each side.

Python hands the page `CameraData` (with `BrowserSettings`, made by emotion.ondevice.browser_settings);
the page hands back a `FiguresMessage` or a `Problem` (read by emotion.live.device). A class room's page
posts its `FiguresMessage`s itself, as a `FiguresPost` to `SendTo.url` (webapp/endpoints.py), and gets a
`FiguresReceipt`; it hands the page a `FiguresAnswer` when the answer changes, and shows the faces in view
itself. static/ondevice/contract.js declares the same shapes as JSDoc typedefs, which TypeScript checks the browser's modules
against (.ci/run), and tests/test_contract.py checks that both sides name the same keys with the same types.
Keys are the browser's (camelCase): the JSON goes across as it is.
"""

from __future__ import annotations

from typing import Literal, TypedDict, get_args


class FitSettings(TypedDict):
    """How BlazeFace's boxes map onto the Haar cascade's framing (emotion.detection.BoxFit)."""

    width: float
    height: float
    centreDown: float


class DetectorSettings(TypedDict):
    """BlazeFace short range's constants, as emotion.detection.blazeface uses them."""

    inputSize: int
    strides: list[int]
    anchorsPerLayer: int
    minScore: float
    rawScoreLimit: float
    suppressionIou: float
    fit: FitSettings
    fullEvery: int  # emotion.detection.windows.FULL_EVERY: frames between two searches of the whole frame
    thumbnailSide: int  # windows.THUMBNAIL: cells a side of the thumbnail that tells whether a face's pixels changed
    unchangedLevels: float  # windows.UNCHANGED_LEVELS: how far a cell may move and the face still keep its box
    remember: int  # windows.REMEMBER: searches a face that a search missed is remembered for (each frame searched)


class TrackerSettings(TypedDict):
    """The live FaceTracker's settings (emotion.tracking)."""

    window: int
    minIou: float
    maxMissed: int
    classifyEveryMs: float
    movedIou: float
    renewPerFrame: int


class BrowserSettings(TypedDict):
    """Everything static/ondevice/pipeline.js and draw.js take; they have no defaults of their own."""

    files: dict[str, str]  # role (litert, runtime, wasm, detector, emotion) -> path under /app/static/
    hashes: dict[str, str]  # path -> sha256 (static/ondevice/cache.js keeps files by content)
    emotions: list[str]
    colours: dict[str, str]  # emotion -> CSS colour
    inputSize: int
    detector: DetectorSettings
    tracker: TrackerSettings
    minFace: int
    maxFaces: int


class FrameRate(TypedDict):
    ideal: int


class CameraConstraints(TypedDict):
    """getUserMedia's video constraints."""

    width: int
    height: int
    frameRate: FrameRate


class CameraData(TypedDict):
    """The on-device camera component's data (static/ondevice/camera.js's `mount`)."""

    settings: BrowserSettings
    camera: CameraConstraints
    reportEveryMs: int
    sampleEveryMs: int
    showProbabilities: bool
    sendTo: SendTo | None  # a class room's: the figures go there, not to the page


class SendTo(TypedDict):
    """Where a class room's page posts its figures, and the seat they are for (the ids the page's address holds)."""

    url: str  # relative to the page's address
    room: str
    seat: str
    figures: str | None  # a class-only room's sender id; None in a per-student room


class FiguresSample(TypedDict):
    at: float  # the browser's Date.now() when taken, ms
    faces: list[list[float]]  # each face's smoothed probabilities, FER-2013 order


class FiguresMessage(TypedDict):
    """What static/ondevice/reporter.js hands the page: the newest frame's figures and the samples since the last message."""

    faces: list[list[float]]
    skipped: int
    fps: float | None
    msMedian: float | None
    frames: int
    at: float  # Date.now() when sent, ms: a new value means new figures
    samples: list[FiguresSample]


class Problem(TypedDict):
    """Why the on-device camera stopped or falters, in plain words for the student."""

    kind: Literal["camera", "runtime", "slow"]
    message: str


Outcome = Literal["kept", "paused", "left", "ended", "unreachable", "refused", "too-soon"]
OUTCOMES: frozenset[str] = frozenset(get_args(Outcome))


class FiguresPost(TypedDict):
    """The body of a class room page's post to the figures endpoint."""

    room: str
    seat: str
    figures: str | None
    message: FiguresMessage


class FiguresReceipt(TypedDict):
    """The figures endpoint's answer (emotion.classroom.inbox.Receipt): what became of the figures, and why in
    plain words where they were not kept."""

    outcome: Outcome
    message: str


class FiguresAnswer(TypedDict):
    """What a class room's camera hands its page (static/ondevice/delivery.js): the room's latest answer, when heard."""

    outcome: Outcome
    at: float  # Date.now() when heard, ms: a new value means an answer to act on
