"""What every session of the server shares: the models and the room store, made once per process."""

from __future__ import annotations

import os
from typing import NoReturn

import streamlit as st

from emotion.classifier import DEFAULT_MODEL, ModelError
from emotion.classroom.inbox import FiguresInbox
from emotion.classroom.leaving import LeavesOwed
from emotion.classroom.memory_store import MemoryStore
from emotion.classroom.policy import RoomPolicy
from emotion.classroom.records import RoomStore
from emotion.classroom.redis_store import RedisStore
from emotion.live.ice import ice_servers
from emotion.live.memory import return_frame_buffers_to_the_system, trim_heap_periodically
from emotion.pipeline import Models, load_models
from emotion.settings import Settings


def secrets() -> dict:
    try:
        return dict(st.secrets)
    except FileNotFoundError:
        return {}


@st.cache_resource
def deployment() -> Settings:
    """The deployment's settings (emotion/settings.py: the environment, else the secrets), read once a process."""
    return Settings(os.environ, secrets())


@st.cache_resource(show_spinner="Loading the emotion model…")
def shared_models() -> Models:
    """One detector and one LiteRT interpreter per server process, shared by every session.

    EMOTION_MODEL may name another .tflite file; the default is the bundled model/emotion_cnn.tflite.
    Runs once per process, so it also sets how the process frees memory (emotion.live.memory).
    """
    models = load_models(deployment().get("EMOTION_MODEL") or DEFAULT_MODEL)
    # After the load: a failed load is not cached and runs again, which would start another trimmer.
    return_frame_buffers_to_the_system()
    trim_heap_periodically()
    return models


def models_or_stop() -> Models:
    try:
        return shared_models()
    except (ModelError, FileNotFoundError) as error:
        stop_with_error(f"The emotion model could not be loaded. {error}")


@st.cache_resource
def shared_store() -> RoomStore:
    """Rooms in Redis when REDIS_URL is set (several replicas), else in this process's memory."""
    url = deployment().get("REDIS_URL")
    if url:
        return RedisStore(url)  # Redis deletes an expired room's keys itself
    store = MemoryStore()
    store.purge_periodically()
    return store


@st.cache_resource
def room_policy() -> RoomPolicy:
    """The deployment's room policy (EMOTION_ROOM_MAX_HOURS, EMOTION_MIN_CLASS_STUDENTS), from the environment or secrets.

    A wrong setting stops the pages that rely on it with plain words, rather than quietly keeping longer or showing more.
    """
    try:
        return RoomPolicy.from_settings(deployment())
    except ValueError as error:
        stop_with_error(f"This server's class-room settings are invalid: {error}.")


def ice_servers_or_stop() -> list[dict]:
    try:
        return ice_servers(deployment())
    except ValueError as error:
        stop_with_error(f"The WebRTC settings are invalid: {error}")


def stop_with_error(message: str) -> NoReturn:
    st.error(message)
    st.stop()


@st.cache_resource
def leaves_owed() -> LeavesOwed:
    """The leaves the room store could not hear when students chose them, told again until it does."""
    return LeavesOwed()


@st.cache_resource
def shared_inbox() -> FiguresInbox:
    """The figures endpoint's door to the room store, with each seat's last message (webapp/endpoints.py)."""
    return FiguresInbox(shared_store())
