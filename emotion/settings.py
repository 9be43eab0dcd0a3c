"""Every setting a deployment may give, in one place: its name, its default and what it does.

A setting comes from the environment or from Streamlit's secrets (.streamlit/secrets.toml); a setting's
value in the environment wins over its value in the secrets, one setting at a time. The server reads them
once a process (webapp.resources.deployment), the command line from its environment; each part of the app
takes the `Settings` it is handed. README.md's table of settings is SETTINGS, row for row
(tests/test_settings.py).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Setting:
    name: str
    default: str  # as the README shows it; "" for none
    meaning: str


SETTINGS = (
    Setting("EMOTION_MODEL", "model/emotion_cnn.tflite", "the emotion model the server serves (a .tflite file)"),
    Setting("EMOTION_DETECTOR", "haar", "the server's and the command line's face finder: haar, blazeface, "
            "blazeface-full or yunet"),
    Setting("REDIS_URL", "", "a Redis server for the class rooms, shared by every replica; without it rooms live in one "
            "server's memory"),
    Setting("TURN_URL", "", "one TURN server (e.g. `turns:turn.example.org:443`), used beside public STUN"),
    Setting("TURN_USERNAME", "", "the TURN server's user name"),
    Setting("TURN_CREDENTIAL", "", "the TURN server's password"),
    Setting("EMOTION_ICE_SERVERS", "", 'or the full list of ICE servers, as JSON: `[{"urls": ["turn:..."], "username": '
            '"...", "credential": "..."}]`; `[]` means host candidates only (one machine)'),
    Setting("EMOTION_ROOM_MAX_HOURS", "12", "the longest room life a teacher may choose (1-12 hours)"),
    Setting("EMOTION_MIN_CLASS_STUDENTS", "5", "in a class-only room, the class's emotions show only for moments when at "
            "least this many students show a face (3 or more; a teacher cannot lower it)"),
)
NAMES = frozenset(setting.name for setting in SETTINGS)


class Settings(Mapping[str, Any]):
    """A deployment's settings: for each name in SETTINGS that is set, the environment's value, else the secrets'.
    A name not in SETTINGS is not read: a misspelt or unknown one cannot change anything unnoticed."""

    def __init__(self, environ: Mapping[str, Any], secrets: Mapping[str, Any] | None = None) -> None:
        values = {}
        for name in sorted(NAMES):
            for source in (environ, secrets or {}):
                value = source.get(name)
                if value not in (None, ""):
                    values[name] = value
                    break
        self._values = values

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._values)

    def __len__(self) -> int:
        return len(self._values)
