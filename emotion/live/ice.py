"""Which STUN and TURN servers the browser and the server use to connect their WebRTC video."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping

DEFAULT_STUN = [{"urls": ["stun:stun.l.google.com:19302"]}]


def ice_servers(environ: Mapping[str, str] = os.environ, secrets: Mapping | None = None) -> list[dict]:
    """ICE servers for WebRTC, from the environment or Streamlit secrets, else a public STUN server.

    STUN alone connects most home networks; across strict NATs and on Streamlit Community Cloud a
    TURN server is needed. Settings, first found wins:
      EMOTION_ICE_SERVERS   JSON list of RTCIceServer objects; "[]" means host candidates only
      TURN_URL, TURN_USERNAME, TURN_CREDENTIAL   one TURN server (STUN is added beside it)
      the same keys in .streamlit/secrets.toml
    """
    sources = [environ] + ([secrets] if secrets is not None else [])
    for source in sources:
        raw = source.get("EMOTION_ICE_SERVERS")
        if raw is not None:
            servers = json.loads(raw) if isinstance(raw, str) else list(raw)
            if not isinstance(servers, list) or not all(isinstance(s, Mapping) and "urls" in s for s in servers):
                raise ValueError("EMOTION_ICE_SERVERS must be a JSON list of objects with 'urls'")
            return [dict(s) for s in servers]
        if source.get("TURN_URL"):
            turn = {"urls": [source["TURN_URL"]]}
            if source.get("TURN_USERNAME"):
                turn["username"] = source["TURN_USERNAME"]
                turn["credential"] = source.get("TURN_CREDENTIAL", "")
            return [*DEFAULT_STUN, turn]
    return DEFAULT_STUN
