"""One settings surface: every setting read in one place, from the environment before the secrets, listed in README."""

from __future__ import annotations

import re
from pathlib import Path

from emotion.settings import SETTINGS, Settings
from tests.support.files import ROOT


def test_the_environment_wins_over_the_secrets_and_unknown_names_are_not_read():
    settings = Settings({"REDIS_URL": "redis://env", "EMOTION_DETECTOR": ""}, {"REDIS_URL": "redis://secret",
                        "EMOTION_DETECTOR": "yunet", "EMOTION_ROOM_MAX_HOURS": 4, "EMOTION_DETECTR": "blazeface"})
    assert dict(settings) == {"REDIS_URL": "redis://env", "EMOTION_DETECTOR": "yunet", "EMOTION_ROOM_MAX_HOURS": 4}


def test_the_readme_table_is_every_setting_with_its_default_and_meaning():
    rows = re.findall(r"^\| `(\w+)` \| (.*?) \| (.*) \|$", (ROOT / "README.md").read_text(), re.M)
    assert [(name, default, meaning) for name, default, meaning in rows] == [
        (s.name, f"`{s.default}`" if s.default else "none", s.meaning) for s in SETTINGS
    ]


def test_no_module_reads_a_setting_from_the_environment_itself():
    """The app's and the command line's modules read the environment only through Settings (emotion/settings.py);
    the training stack's own environment (TensorFlow's logging, Keras's backend, the accelerator's runs) is no
    deployment setting."""
    readers = []
    modules = [*(ROOT / "emotion").rglob("*.py"), *(ROOT / "webapp").rglob("*.py"), ROOT / "app.py"]
    for path in sorted(p for p in modules if "training" not in p.parts and p.name != "settings.py"):
        for line in path.read_text().splitlines():
            if re.search(r"os\.environ|getenv|environ(\.get|\[)", line) and "Settings(os.environ" not in line:
                readers.append(f"{Path(path).relative_to(ROOT)}: {line.strip()}")
    assert readers == []
