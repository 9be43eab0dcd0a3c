"""The package's layers and the one way their imports point (README, "The code").

    emotion (core)  <-  emotion.live  <-  webapp, app.py
                    <-  emotion.classroom  <-  webapp
                    <-  emotion.training (only its artifact names reach webapp)
    tests.support   <-  tests, bench
    bench: on top of all of them, scripts included (it times the pages' own work too)
    scripts (maintenance: the standard library only)

Every import statement of every module is read, those inside functions included.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.support.files import ROOT, run_probe

HEAVY = {"streamlit", "streamlit_webrtc", "tensorflow", "keras", "redis", "aiortc", "av", "altair", "matplotlib"}
ALL_LAYERS = {"emotion", "emotion.live", "emotion.classroom", "emotion.training", "webapp"}

# layer: (the project's layers it may import, the third-party packages it must not import)
RULES: dict[str, tuple[set[str], set[str]]] = {
    "emotion": ({"emotion"}, HEAVY),
    "emotion.live": ({"emotion", "emotion.live"}, {"tensorflow", "keras", "redis", "altair", "matplotlib"}),
    "emotion.classroom": ({"emotion", "emotion.classroom"}, HEAVY - {"redis"}),
    "emotion.training": ({"emotion", "emotion.training"}, {"streamlit", "streamlit_webrtc", "redis", "aiortc", "av"}),
    "webapp": ({"emotion", "emotion.live", "emotion.classroom", "emotion.training.artifacts", "webapp"}, {"tensorflow", "keras"}),
    "tests.support": ({"emotion", "tests.support"}, set()),
    "bench": (
        {"emotion", "emotion.live", "emotion.classroom", "emotion.training", "webapp", "tests.support", "bench", "scripts"},
        set(),
    ),
    "scripts": ({"scripts"}, HEAVY | {"numpy", "cv2", "ai_edge_litert"}),
}
PROJECT = ("emotion", "webapp", "tests", "bench", "scripts")


def layer_of(module: str) -> str:
    """The layer of a project module: the longest rule name that is a prefix of it ('tests' for the tests)."""
    for name in sorted(RULES, key=len, reverse=True):
        if module == name or module.startswith(name + "."):
            return name
    return module.split(".")[0]


def module_name(path: Path) -> tuple[str, str]:
    """The module's dotted name and the package its relative imports start from."""
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), ".".join(parts[:-1])
    return ".".join(parts), ".".join(parts[:-1])


def imports(source: str, package: str) -> set[str]:
    """Every module (or name in a module) the source imports, relative imports resolved against `package`."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found |= {f"{base}.{alias.name}" for alias in node.names}  # `from emotion import live` imports a layer
    return found


def wrong_way(module: str, source: str, package: str | None = None) -> list[str]:
    """The imports of `module` that break its layer's rule, as 'module -> import'."""
    permitted, forbidden = RULES[layer_of(module)]
    single_modules = {p for p in permitted if p not in RULES}  # e.g. emotion.training.artifacts for the web app
    broken = []
    for target in sorted(imports(source, module.rsplit(".", 1)[0] if package is None else package)):
        top = target.split(".")[0]
        if top in PROJECT:
            ok = layer_of(target) in permitted or any(target == p or target.startswith(p + ".") for p in single_modules)
        else:
            ok = top not in forbidden
        if not ok:
            broken.append(f"{module} -> {target}")
    return broken


def project_modules() -> list[Path]:
    folders = [ROOT / "emotion", ROOT / "webapp", ROOT / "tests" / "support", ROOT / "bench", ROOT / "scripts"]
    return sorted(path for folder in folders for path in folder.rglob("*.py"))


def test_every_import_points_down_the_layers():
    broken = []
    for path in project_modules():
        module, package = module_name(path)
        broken += wrong_way(module, path.read_text(), package)
    assert broken == []


def test_the_app_script_imports_as_the_web_app_does():
    assert wrong_way("webapp.app", (ROOT / "app.py").read_text()) == []


@pytest.mark.parametrize(
    ("module", "source", "broken"),
    [
        ("emotion.pipeline", "import streamlit as st", "streamlit"),
        ("emotion.pipeline", "from emotion.live.stream import LiveStream", "emotion.live.stream.LiveStream"),
        ("emotion.detection", "def f():\n    from emotion.training import train", "emotion.training.train"),
        ("emotion.classroom.analytics", "from emotion.live import component", "emotion.live.component"),
        ("emotion.classroom.records", "from ..live import stream", "emotion.live.stream"),
        ("emotion.live.stream", "from webapp.resources import shared_models", "webapp.resources.shared_models"),
        ("emotion.training.report", "from emotion.classroom.records import Room", "emotion.classroom.records.Room"),
        ("emotion.training.train", "from emotion import live", "emotion.live"),
        ("webapp.pages.about", "from emotion.training.train import train", "emotion.training.train.train"),
        ("webapp.pages.about", "import keras", "keras"),
        ("tests.support.browser", "from tests.conftest import need", "tests.conftest.need"),
        ("tests.support.soak", "from bench.soak import main", "bench.soak.main"),
        ("scripts.fetch_litertjs", "from emotion.labels import EMOTIONS", "emotion.labels.EMOTIONS"),
        ("scripts.fetch_litertjs", "import numpy", "numpy"),
    ],
)
def test_a_wrong_way_import_is_caught(module, source, broken):
    assert wrong_way(module, source) == [f"{module} -> {broken}"]


@pytest.mark.parametrize(
    ("module", "source"),
    [
        ("emotion.live.stream", "from emotion.pipeline import Face"),
        ("emotion.training.train", "from emotion import Face"),
        ("webapp.pages.about", "from emotion.training.artifacts import METRICS_FILE"),
        ("bench.soak", "from tests.support.soak import soak"),
    ],
)
def test_a_right_way_import_passes(module, source):
    assert wrong_way(module, source) == []


def test_importing_the_core_loads_no_streamlit_tensorflow_keras_or_redis():
    loaded = run_probe(
        "import sys; from emotion import analyze_frame, load_models; "
        "print(sorted({'streamlit', 'tensorflow', 'keras', 'redis'} & {m.split('.')[0] for m in sys.modules}))"
    )
    assert loaded.strip() == "[]"
