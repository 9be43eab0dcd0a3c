"""Figures posted by students' browsers straight to their room: a class room's on-device path.

Handed to the page, each message cost the server a Streamlit fragment rerun, more than the figures
themselves; a class room's page now posts them to the figures endpoint (webapp/endpoints.py), which hands
them here. The seat's ids are what the page proves itself with: its address holds them, as it does to take
the seat back after a reload. The room still decides what it keeps: a seat that paused or left takes
nothing, checked in the same transaction as the write (RoomStore.publish_samples).
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from emotion.classroom.records import (
    FiguresRefused,
    FiguresTooSoon,
    NotInRoom,
    RoomError,
    RoomNotFound,
    RoomStore,
    Sample,
    SeatPaused,
    StoreUnavailable,
    normalise_code,
)
from emotion.contract import Outcome

MAX_SAMPLES = 4  # a message's samples kept: the device sends two (emotion.live.device), more only after a stall
MAX_SAMPLE_AGE_S = 10.0  # no sample is dated further back than this
# A page sends a message a second at most (static/ondevice/reporter.js); one arriving sooner than this after
# the last from its seat is refused, so that no page can make the room write more often than that.
MIN_GAP_S = 0.25


def dated(samples: Sequence[tuple[float, Sequence[np.ndarray]]], now: float, earliest: float) -> list[Sample]:
    """A page's samples, each as (seconds before `now`, its faces), on the server's clock: the newest MAX_SAMPLES,
    oldest first, none dated before `earliest` (the seat's last message, or MAX_SAMPLE_AGE_S back) or after now.

    The ages are the device's own, so its clock need not agree with the server's, but they are not trusted:
    a page can neither rewrite the past nor send a lecture's worth at once.
    """
    newest = sorted(samples, key=lambda sample: -sample[0])[-MAX_SAMPLES:]
    return [Sample(min(now, max(earliest, now - age)), faces) for age, faces in newest]


@dataclass(frozen=True)
class Receipt:
    """What became of a message (the contract's FiguresReceipt): its outcome, and why in plain words if not kept."""

    outcome: Outcome
    message: str = ""


REFUSED = Receipt("refused", str(FiguresRefused()))  # the answer to anything not in the form a page sends


class FiguresInbox:
    """Takes each seat's posted samples to the store, dated as RoomPublisher dates them, one message a gap.

    Remembers, per seat, only when its last message came and under which sender id, and that for
    MAX_SAMPLE_AGE_S: after that a message's samples are dated no further back than MAX_SAMPLE_AGE_S anyway.
    A seat posts under one sender id meanwhile (its page keeps its own), so that no page can count as many
    students in a class-only room; a seat the room does not know (ended, left, refused) is not remembered.
    """

    def __init__(self, store: RoomStore, clock: Callable[[], float] = time.time, min_gap_s: float = MIN_GAP_S) -> None:
        self.store, self.clock, self.min_gap_s = store, clock, min_gap_s
        self._lock = threading.Lock()
        self._last: OrderedDict[tuple[str, str], tuple[float, str | None]] = OrderedDict()  # oldest first

    def receive(
        self, code: str, seat: str, sender: str | None, samples: Sequence[tuple[float, Sequence[np.ndarray]]]
    ) -> Receipt:
        """One message's samples, each as (seconds before now, its faces), for the seat `seat` of room `code`."""
        if not samples:
            return REFUSED
        now, key = self.clock(), (normalise_code(code), seat)
        with self._lock:
            while self._last and next(iter(self._last.values()))[0] < now - MAX_SAMPLE_AGE_S:
                self._last.popitem(last=False)
            last, last_sender = self._last.get(key, (None, sender))
            if last_sender != sender:
                return REFUSED
            if last is not None and now - last < self.min_gap_s:
                return Receipt("too-soon", str(FiguresTooSoon()))
            self._last[key] = (now, sender)
            self._last.move_to_end(key)
        earliest = now - MAX_SAMPLE_AGE_S if last is None else max(last, now - MAX_SAMPLE_AGE_S)
        receipt = self._publish(key[0], seat, sender, dated(samples, now, earliest))
        if receipt.outcome in ("ended", "left", "refused"):
            with self._lock:
                self._last.pop(key, None)
        return receipt

    def _publish(self, code: str, seat: str, sender: str | None, samples: Sequence[Sample]) -> Receipt:
        try:
            self.store.publish_samples(code, seat, samples, "device", sender)
        except SeatPaused as error:
            return Receipt("paused", str(error))
        except NotInRoom as error:
            return Receipt("left", str(error))
        except RoomNotFound as error:  # expired, or ended by the teacher (RoomEnded)
            return Receipt("ended", str(error))
        except StoreUnavailable as error:
            return Receipt("unreachable", str(error))
        except (RoomError, ValueError):  # ValueError: a class-only room's figures without a sender id
            return REFUSED
        return Receipt("kept")
