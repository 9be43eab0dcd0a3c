"""Live face-emotion recognition, the core: one BGR frame in, each face's box and emotion out.

This package imports no Streamlit, TensorFlow, Keras or Redis; the layers on top of it do:
`emotion.live` (streamlit-webrtc video), `emotion.classroom` (rooms and their reports),
`emotion.training` (the model) and `webapp` (the pages).

The public API below is loaded on first use, so that importing one module of a layer (say
emotion.live.memory, or emotion.classroom.records) does not load OpenCV and LiteRT with it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emotion.pipeline import Face, FrameAnalysis, Models, PipelineSettings, analyze_frame, load_models

__all__ = ["Face", "FrameAnalysis", "Models", "PipelineSettings", "analyze_frame", "load_models"]


def __getattr__(name: str) -> Any:
    if name in __all__:
        from emotion import pipeline

        return getattr(pipeline, name)
    raise AttributeError(f"module 'emotion' has no attribute {name!r}")
