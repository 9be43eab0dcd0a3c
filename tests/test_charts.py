"""The charts' specs: valid Vega-Lite, with the shares they are given in FER-2013 order and the labels' colours."""

from __future__ import annotations

import altair as alt
import pytest

from emotion.drawing import EMOTION_COLOURS
from emotion.labels import EMOTIONS
from webapp.charts import emotion_bars


def test_emotion_bars_is_a_valid_vega_lite_spec_of_the_shares():
    spec = emotion_bars({"Happy": 0.75, "Sad": 0.25, "Nonsense": 1.0}, height=120)
    alt.Chart.from_dict(spec)  # Altair validates the spec against the Vega-Lite schema; raises if it is not one
    assert [row["emotion"] for row in spec["data"]["values"]] == list(EMOTIONS)
    assert {row["emotion"]: row["share"] for row in spec["data"]["values"]} == pytest.approx(
        {name: {"Happy": 0.75, "Sad": 0.25}.get(name, 0.0) for name in EMOTIONS}
    )
    b, g, r = EMOTION_COLOURS["Happy"]
    assert spec["encoding"]["color"]["scale"]["range"][EMOTIONS.index("Happy")] == f"#{r:02x}{g:02x}{b:02x}"
    assert spec["height"] == 120
