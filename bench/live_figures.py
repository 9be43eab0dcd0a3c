"""The server time of drawing the live figures' emotion bars, which the Live page does every second a stream.

    taskset -c 0 python bench/live_figures.py

In Streamlit's AppTest (a real script run, elements marshalled as the server sends them), the median and p95
milliseconds of `st.vega_lite_chart(emotion_bars(mix))`, the app's way, against the same chart made with Altair
from a DataFrame and drawn with `st.altair_chart`, as webapp/charts.py did before 1199486 (Altair validates
the chart against the Vega-Lite schema each time it is drawn). DRAWS draws each, after WARM_UP (in SCRIPT).
"""

from __future__ import annotations

import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from streamlit.testing.v1 import AppTest

SCRIPT = """
import time

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from emotion.labels import EMOTIONS
from webapp.charts import EMOTION_SCALE, emotion_bars

WARM_UP, DRAWS = 3, 50
mix = dict(zip(EMOTIONS, np.random.default_rng(0).dirichlet(np.ones(len(EMOTIONS))).tolist()))


def altair_bars(shares, height=240):
    data = pd.DataFrame({"emotion": list(EMOTIONS), "share": [float(shares.get(name, 0.0)) for name in EMOTIONS]})
    return (
        alt.Chart(data, height=height)
        .mark_bar()
        .encode(
            x=alt.X("share:Q", axis=alt.Axis(format="%"), scale=alt.Scale(domain=[0, 1]), title=None),
            y=alt.Y("emotion:N", sort=list(EMOTIONS), title=None),
            color=alt.Color("emotion:N", scale=alt.Scale(**EMOTION_SCALE), legend=None),
            tooltip=["emotion", alt.Tooltip("share:Q", format=".0%")],
        )
    )


def timed(draw):
    samples = []
    for index in range(WARM_UP + DRAWS):
        started = time.perf_counter()
        draw()
        if index >= WARM_UP:
            samples.append((time.perf_counter() - started) * 1000)
    return samples


st.session_state["app"] = timed(lambda: st.vega_lite_chart(emotion_bars(mix), width="stretch"))
st.session_state["altair"] = timed(lambda: st.altair_chart(altair_bars(mix), width="stretch"))
"""


def main() -> None:
    run = AppTest.from_string(SCRIPT, default_timeout=120).run()
    for name in ("app", "altair"):
        samples = run.session_state[name]
        print(f"{name:7s} median {statistics.median(samples):5.2f} ms, p95 {statistics.quantiles(samples, n=20)[-1]:5.2f} ms")


if __name__ == "__main__":
    main()
