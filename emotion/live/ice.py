"""Which STUN and TURN servers the browser and the server use to connect their WebRTC video."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

DEFAULT_STUN = [{"urls": ["stun:stun.l.google.com:19302"]}]


def ice_servers(settings: Mapping[str, Any]) -> list[dict]:
    """ICE servers for WebRTC from the deployment's settings (emotion.settings), else a public STUN server.

    STUN alone connects most home networks; across strict NATs and on Streamlit Community Cloud a
    TURN server is needed. EMOTION_ICE_SERVERS (a JSON list of RTCIceServer objects; "[]" means host
    candidates only) wins over TURN_URL, TURN_USERNAME and TURN_CREDENTIAL (one TURN server, STUN beside it).
    """
    raw = settings.get("EMOTION_ICE_SERVERS")
    if raw is not None:
        servers = json.loads(raw) if isinstance(raw, str) else list(raw)
        if not isinstance(servers, list) or not all(isinstance(s, Mapping) and "urls" in s for s in servers):
            raise ValueError("EMOTION_ICE_SERVERS must be a JSON list of objects with 'urls'")
        return [dict(s) for s in servers]
    if settings.get("TURN_URL"):
        turn = {"urls": [settings["TURN_URL"]]}
        if settings.get("TURN_USERNAME"):
            turn["username"] = settings["TURN_USERNAME"]
            turn["credential"] = settings.get("TURN_CREDENTIAL", "")
        return [*DEFAULT_STUN, turn]
    return DEFAULT_STUN
