"""The glue between streamlit-webrtc's video thread and the frame pipeline.

streamlit-webrtc calls `LiveStream.process` on its own thread for every frame; the page reads
the figures back through `snapshot()` on the script thread. A lock guards what both share, and
nothing of a frame is kept beyond the call: only counts and probabilities survive it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import av
import cv2
import numpy as np

from emotion.detection.windows import WindowedSearch
from emotion.labels import EMOTIONS
from emotion.pipeline import Face, Models, PipelineSettings, analyze_frame
from emotion.tracking import CLASSIFY_EVERY_MS, FaceTracker

LOGGER = logging.getLogger(__name__)


@dataclass(frozen=True)
class LiveStats:
    frames: int = 0
    faces_in_view: int = 0
    skipped_faces: int = 0  # faces beyond the per-frame cap in the latest frame
    current_mix: dict[str, float] = field(default_factory=dict)  # mean probabilities of the faces in view
    session_counts: dict[str, int] = field(default_factory=dict)  # labelled faces per emotion, all frames
    latency_ms_median: float | None = None  # over the last 60 frames
    latency_ms_p95: float | None = None
    fps: float | None = None
    error: str | None = None


FULL_TO_VIDEO_RANGE = np.round(128 + (np.arange(256) - 128) * 224 / 255).astype(np.uint8)  # chroma, BT.601


def returned_frame(image: np.ndarray) -> av.VideoFrame:
    """The labelled BGR image as the video frame to send back: yuv420p, as the VP8 encoder takes it.

    Made with OpenCV rather than by the encoder's libswscale: on the server that saved more than the
    conversion's own time (bench/README.md; the frame-sized BGR buffer no longer made may be why). OpenCV's I420
    takes each 2x2 block's colour from one of its pixels, which frays coloured edges such as the labels';
    the colour planes are made here from each block's mean instead, as libswscale does. Odd sizes stay BGR.
    """
    height, width = image.shape[:2]
    if height % 2 or width % 2:
        return av.VideoFrame.from_ndarray(image, format="bgr24")
    planes: np.ndarray = cv2.cvtColor(image, cv2.COLOR_BGR2YUV_I420)  # Y, then U and V: a quarter of Y's size each
    blocks = cv2.resize(image, (width // 2, height // 2), interpolation=cv2.INTER_AREA)  # each block's mean colour
    _, v, u = cv2.split(cv2.LUT(cv2.cvtColor(blocks, cv2.COLOR_BGR2YCrCb), FULL_TO_VIDEO_RANGE))
    colour = planes.reshape(-1)[height * width :]
    colour[: u.size], colour[u.size :] = u.reshape(-1), v.reshape(-1)
    return av.VideoFrame.from_ndarray(planes, format="yuv420p")


class LiveStream:
    """One browser session's stream: its own tracker and figures, the shared models."""

    def __init__(
        self,
        models: Models,
        settings: PipelineSettings = PipelineSettings(),
        on_faces: Callable[[list[Face]], None] | None = None,
    ) -> None:
        self.models = models
        self.settings = settings  # replaced whole from the script thread; read once per frame
        self.on_faces = on_faces
        self._tracker = FaceTracker(classify_every_ms=CLASSIFY_EVERY_MS)  # a tracked face is read at a bounded rate
        self._search = WindowedSearch()  # and looked for where it was, the whole frame every few frames
        self._lock = threading.Lock()
        self._stats = LiveStats(session_counts={name: 0 for name in EMOTIONS})
        self._latencies: deque[float] = deque(maxlen=60)
        self._arrivals: deque[float] = deque(maxlen=30)

    def process(self, frame: av.VideoFrame) -> av.VideoFrame:
        """streamlit-webrtc's video_frame_callback. Never raises: an exception here would stop the stream silently."""
        started = time.perf_counter()
        try:
            image = frame.to_ndarray(format="bgr24")  # the stream's own copy: labels are drawn on it
            analysis = analyze_frame(image, self.models, self.settings, self._tracker, draw_in_place=True, search=self._search)
            if self.on_faces is not None:
                self.on_faces(analysis.faces)
            self._record(analysis.faces, analysis.skipped_faces, started)
            if not analysis.drawn:
                return frame
            out = returned_frame(analysis.image)
            out.pts = frame.pts
            if frame.time_base is not None:
                out.time_base = frame.time_base
            return out
        except Exception as error:
            LOGGER.exception("frame processing failed")
            with self._lock:
                self._stats = replace(self._stats, error=f"{type(error).__name__}: {error}")
            return frame

    def _record(self, faces: list[Face], skipped: int, started: float) -> None:
        now = time.perf_counter()
        with self._lock:
            self._latencies.append((now - started) * 1000)
            self._arrivals.append(started)
            counts = dict(self._stats.session_counts)
            for face in faces:
                counts[face.label] += 1
            mix = np.mean([face.probabilities for face in faces], axis=0) if faces else None
            span = self._arrivals[-1] - self._arrivals[0]
            self._stats = LiveStats(
                frames=self._stats.frames + 1,
                faces_in_view=len(faces),
                skipped_faces=skipped,
                current_mix={name: float(p) for name, p in zip(EMOTIONS, mix)} if mix is not None else {},
                session_counts=counts,
                latency_ms_median=float(np.median(self._latencies)),
                latency_ms_p95=float(np.percentile(self._latencies, 95)),
                fps=(len(self._arrivals) - 1) / span if span > 0 else None,
                error=None,
            )

    def snapshot(self) -> LiveStats:
        with self._lock:
            return self._stats
