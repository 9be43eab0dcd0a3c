"""The app's one HTTP endpoint beside its pages: a class room's on-device figures, posted by the page itself.

Each figures message handed to the page would rerun it on the server (Streamlit's component state), which
cost more than the figures; posted here, a message costs a parse and a store transaction
(emotion.classroom.inbox). app.py serves it beside the pages (st.App's routes).

Only JSON is taken (a form posted from another site cannot send it without the browser asking this server,
which says nothing to allow it), at most MAX_BODY_BYTES, with ids in the form the app makes them, and
checked as the page's figures are (emotion.ondevice.figures_of). Every answer is a FiguresReceipt
(emotion/contract.py).
"""

from __future__ import annotations

import json
import re
from typing import cast

import streamlit as st
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from emotion.classroom.inbox import REFUSED, Receipt
from emotion.contract import FiguresMessage, FiguresReceipt
from emotion.ondevice import figures_of
from emotion.presets import on_device
from webapp.resources import shared_inbox

FIGURES_PATH = "api/figures"  # relative to the app's address, as the page's SendTo.url
MAX_BODY_BYTES = 32 * 1024  # a message of the most faces a page reads, with its samples, several times over
ROOM_CODE = re.compile(r"[A-Za-z0-9 ]{1,16}")  # a code as typed (emotion.classroom.records.normalise_code)
TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")  # a seat or sender id (secrets.token_urlsafe)
STATUS = {"kept": 200, "refused": 400, "paused": 409, "left": 409, "ended": 410, "too-soon": 429, "unreachable": 503}


def answer(receipt: Receipt) -> JSONResponse:
    body: FiguresReceipt = {"outcome": receipt.outcome, "message": receipt.message}
    return JSONResponse(body, status_code=STATUS[receipt.outcome], headers={"Cache-Control": "no-store"})


async def body_within(request: Request, limit: int) -> bytes | None:
    """The request's body, or None once it runs past `limit` bytes (read no further)."""
    if int(request.headers.get("content-length") or 0) > limit:
        return None
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > limit:
            return None
    return bytes(body)


def receive(raw: bytes) -> Receipt:
    """A FiguresPost's body, checked, to the room (in a worker thread: the JSON and the store call are work)."""
    try:
        post = json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSON errors are ValueErrors
        return REFUSED
    if not isinstance(post, dict):
        return REFUSED
    room, seat, sender, message = post.get("room"), post.get("seat"), post.get("figures"), post.get("message")
    if not (isinstance(room, str) and ROOM_CODE.fullmatch(room) and isinstance(seat, str) and TOKEN.fullmatch(seat)):
        return REFUSED
    if not (sender is None or (isinstance(sender, str) and TOKEN.fullmatch(sender))):
        return REFUSED
    figures = figures_of(cast(FiguresMessage, message), on_device().max_faces) if isinstance(message, dict) else None
    if figures is None:
        return REFUSED
    return shared_inbox().receive(room, seat, sender, figures.samples)


async def receive_figures(request: Request) -> JSONResponse:
    """POST api/figures: a FiguresPost; answers a FiguresReceipt."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() != "application/json":
        return answer(REFUSED)
    raw = await body_within(request, MAX_BODY_BYTES)
    if raw is None:
        return answer(REFUSED)
    return answer(await run_in_threadpool(receive, raw))


def routes() -> list[Route]:
    """The endpoint at the app's address (FIGURES_PATH beside the pages), as the page resolves it: under
    server.baseUrlPath where one is set, which st.App's routes are not put under by themselves."""
    base = str(st.get_option("server.baseUrlPath") or "").strip("/")
    return [Route("/" + "/".join(part for part in (base, FIGURES_PATH) if part), receive_figures, methods=["POST"])]
