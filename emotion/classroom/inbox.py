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

from emotion.classroom.publisher import MAX_SAMPLE_AGE_S, dated
from emotion.classroom.records import (
    FiguresRefused,
    FiguresTooSoon,
    NotInRoom,
    RoomError,
    RoomNotFound,
    RoomStore,
    SeatPaused,
    StoreUnavailable,
)
from emotion.contract import Outcome

# A page sends a message a second at most (static/ondevice/reporter.js); one arriving sooner than this after
# the last from its seat is refused, so that no page can make the room write more often than that.
MIN_GAP_S = 0.25
REFUSED = str(FiguresRefused())


@dataclass(frozen=True)
class Receipt:
    """What became of a message (the contract's FiguresReceipt): its outcome, and why in plain words if not kept."""

    outcome: Outcome
    message: str = ""


class FiguresInbox:
    """Takes each seat's posted samples to the store, dated as RoomPublisher dates them, one message a gap.

    Remembers, per seat, only when its last message came, and that for MAX_SAMPLE_AGE_S: after that a
    message's samples are dated no further back than MAX_SAMPLE_AGE_S anyway.
    """

    def __init__(self, store: RoomStore, clock: Callable[[], float] = time.time, min_gap_s: float = MIN_GAP_S) -> None:
        self.store, self.clock, self.min_gap_s = store, clock, min_gap_s
        self._lock = threading.Lock()
        self._last: OrderedDict[tuple[str, str, str | None], float] = OrderedDict()  # oldest first

    def receive(
        self, code: str, seat: str, sender: str | None, samples: Sequence[tuple[float, Sequence[np.ndarray]]]
    ) -> Receipt:
        """One message's samples, each as (seconds before now, its faces), for the seat `seat` of room `code`."""
        if not samples:
            return Receipt("refused", REFUSED)
        now, key = self.clock(), (code, seat, sender)
        with self._lock:
            while self._last and next(iter(self._last.values())) < now - MAX_SAMPLE_AGE_S:
                self._last.popitem(last=False)
            last = self._last.get(key)
            if last is not None and now - last < self.min_gap_s:
                return Receipt("too-soon", str(FiguresTooSoon()))
            self._last[key] = now
            self._last.move_to_end(key)
        earliest = now - MAX_SAMPLE_AGE_S if last is None else max(last, now - MAX_SAMPLE_AGE_S)
        try:
            self.store.publish_samples(code, seat, dated(samples, now, earliest), "device", sender)
        except SeatPaused as error:
            return Receipt("paused", str(error))
        except NotInRoom as error:
            return Receipt("left", str(error))
        except RoomNotFound as error:  # expired, or ended by the teacher (RoomEnded)
            return Receipt("ended", str(error))
        except StoreUnavailable as error:
            return Receipt("unreachable", str(error))
        except (RoomError, ValueError):  # ValueError: a class-only room's figures without a sender id
            return Receipt("refused", REFUSED)
        return Receipt("kept")
