"""Charts of emotion shares, in FER-2013 order and the colours the video labels use."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import altair as alt
import pandas as pd

from emotion.classroom.analytics import NO_DATA, TOO_FEW
from emotion.classroom.reports import NO_DATA_COLOUR, TOO_FEW_COLOUR
from emotion.drawing import EMOTION_COLOURS
from emotion.labels import EMOTIONS


def _hex(bgr: tuple[int, int, int]) -> str:
    b, g, r = bgr
    return f"#{r:02x}{g:02x}{b:02x}"


EMOTION_SCALE = {"domain": list(EMOTIONS), "range": [_hex(EMOTION_COLOURS[name]) for name in EMOTIONS]}
TIMELINE_SCALE = alt.Scale(
    domain=[*EMOTION_SCALE["domain"], NO_DATA, TOO_FEW], range=[*EMOTION_SCALE["range"], NO_DATA_COLOUR, TOO_FEW_COLOUR]
)


def emotion_bars(shares: Mapping[str, float], height: int = 240) -> dict[str, Any]:
    """Horizontal bars of shares in [0, 1], one per emotion, as a Vega-Lite spec for st.vega_lite_chart.

    Written as the spec itself, not with Altair: the live figures draw it every second for every stream, and
    Altair's validation made a chart cost many times the spec's server time (bench/README.md).
    """
    return {
        "data": {"values": [{"emotion": name, "share": float(shares.get(name, 0.0))} for name in EMOTIONS]},
        "mark": {"type": "bar"},
        "height": height,
        "encoding": {
            "x": {"field": "share", "type": "quantitative", "axis": {"format": "%"}, "scale": {"domain": [0, 1]}, "title": None},
            "y": {"field": "emotion", "type": "nominal", "sort": list(EMOTIONS), "title": None},
            "color": {"field": "emotion", "type": "nominal", "scale": EMOTION_SCALE, "legend": None},
            "tooltip": [{"field": "emotion", "type": "nominal"}, {"field": "share", "type": "quantitative", "format": ".0%"}],
        },
    }


def timeline_chart(long: pd.DataFrame, height: int = 260) -> alt.Chart:
    """Stacked shares per minute from `emotion.classroom.analytics.timeline` (minutes without figures, or with
    too few students to show, in greys)."""
    order = [*EMOTIONS, NO_DATA, TOO_FEW]
    return (
        alt.Chart(long, height=height)
        .mark_bar()
        .encode(
            x=alt.X("time:O", title=None, sort=None),
            y=alt.Y("share:Q", stack="normalize", axis=alt.Axis(format="%"), title=None),
            # Three columns: in one row the nine entries ran past a phone's 390 px and were cut off.
            color=alt.Color(
                "emotion:N", scale=TIMELINE_SCALE, sort=order, legend=alt.Legend(orient="bottom", title=None, columns=3)
            ),
            order=alt.Order("emotion_order:Q"),
            tooltip=[alt.Tooltip("time:O", title="minute"), "emotion", alt.Tooltip("share:Q", format=".0%")],
        )
        .transform_calculate(emotion_order=f"indexof({order!r}, datum.emotion)")
    )
