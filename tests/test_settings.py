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
    """The app's and the command line's settings go through emotion/settings.py (the training stack's own
    environment, e.g. for the accelerator's runs, is not a deployment setting)."""
    readers = []
    for path in sorted([*(ROOT / "emotion").rglob("*.py"), *(ROOT / "webapp").rglob("*.py"), ROOT / "app.py"]):
        source = path.read_text()
        if any(f'"{s.name}"' in source for s in SETTINGS) and re.search(r"environ(\.get|\[)|getenv", source):
            readers.append(str(Path(path).relative_to(ROOT)))
    assert readers == []
