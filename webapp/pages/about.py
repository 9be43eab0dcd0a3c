"""About: what the app does, its privacy note and the model's measured figures (from model/metrics.json)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import streamlit as st

from emotion.detection import DETECTORS
from emotion.training.artifacts import METRICS_FILE
from webapp.resources import room_policy
from webapp.widgets import LAWFUL_USE, PRIVACY_NOTE, server_default_detector

MODEL_DIR = Path(__file__).resolve().parents[2] / "model"


def others_than(default: str) -> str:
    """The face finders a user may pick instead of the server's default, named as the sidebar names them."""
    names = [label for name, label in DETECTORS.items() if name != default]
    return ", ".join(names[:-1]) + " or " + names[-1]


def about_page() -> None:
    st.title("About")
    default = server_default_detector()
    st.markdown(
        f"On the server, faces are found by the face finder {DETECTORS[default]} (the server's default), or by "
        f"{others_than(default)}, as the Live and Photo pages' sidebar picks. In the browser (*On this device*, "
        f"and a class room's default path), {DETECTORS['blazeface']} finds them. "
        "Each face is cropped to 48x48 grey levels and classified into seven "
        "emotions by three VGG-style CNNs trained on FER-2013 and averaged, served through LiteRT "
        "(LiteRT.js in the browser). "
        "It is a classroom aid to read the room, **never** a basis for grading or discipline: "
        "a face's expression is not a person's feeling, and the model errs (see below)."
    )
    st.subheader("Lawful use")
    st.markdown(LAWFUL_USE)
    st.subheader("Privacy")
    st.write(PRIVACY_NOTE)
    policy = room_policy()
    st.markdown(
        "**In a class room.** While a student's camera runs on *Join a class*, the page sends the room only "
        "emotion figures (seven numbers per face, up to a few times a second), never an image. The teacher chooses the "
        "room's kind when creating it, and each student is told which before agreeing:\n\n"
        f"- *Class only* (the default): {policy.retention(per_student=False)}\n"
        f"- *Per student*: {policy.retention(per_student=True)}\n\n"
        "Until then the teacher sees the figures on *Class mood* and can download them as a report (CSV or HTML); "
        "a downloaded report is the teacher's to keep or delete."
    )
    metrics_path = MODEL_DIR / METRICS_FILE
    if not metrics_path.exists():
        st.warning("model/metrics.json is missing: run `python -m emotion.training.report` to produce the model's figures.")
        return
    metrics = json.loads(metrics_path.read_text())["tflite"]
    st.subheader(f"The model on FER-2013 PublicTest ({metrics['n']} faces)")
    cols = st.columns(4)
    headline = [
        ("Accuracy", "accuracy"),
        ("Balanced accuracy", "balanced_accuracy"),
        ("Macro F1", "macro_f1"),
        ("Weighted F1", "weighted_f1"),
    ]
    for col, (label, key) in zip(cols, headline):
        col.metric(label, f"{metrics[key]:.1%}")
    three_places = {k: st.column_config.NumberColumn(format="%.3f") for k in ("precision", "recall", "f1")}
    st.dataframe(pd.DataFrame(metrics["per_class"]).T, column_config=three_places)
    if (MODEL_DIR / "confusion_matrix.png").exists():
        st.image(str(MODEL_DIR / "confusion_matrix.png"), caption="Confusion matrix (rows: true emotion)")
    st.caption("Details: model/README.md, the model card.")


