"""Keep the server's memory flat as streams come and go.

Every frame allocates buffers of about a megabyte (640x480 BGR) on the stream's own thread. glibc
serves them from mmap at first, then raises its mmap threshold and serves them from per-thread
heaps, which keep the freed memory. Fixing the threshold returns each buffer to the system when it
is freed.

The smaller allocations of decoders, encoders and peer connections still leave free pages inside
glibc's heaps, which it keeps, more with every cycle of streams; a daemon thread trims the heaps now
and then.

glibc also gives threads heaps of their own, up to eight per core, and a heap's free memory serves
only its own threads. A server with several streams runs many threads (decoders, encoders in a
shared pool, one processing thread per stream), and aiortc rebuilds a stream's VP8 encoder whenever
its bitrate target moves by a tenth: those buffers land in whichever heap the pool thread uses. Two
heaps keep the free memory in few places. glibc fixes that limit when a second thread first
allocates, long before app code runs, so it comes from the environment: the Procfile starts the
server with MALLOC_ARENA_MAX=2. The measurements behind each setting are in docs/bench-history.md.
"""

from __future__ import annotations

import ctypes
import threading
from collections.abc import Callable

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
FRAME_BUFFER_THRESHOLD = 512 * 1024  # 640x480 BGR frames (900 kB) get their own mapping; grey copies (300 kB) do not


def _c_function(name: str, *argtypes: type) -> Callable[..., int] | None:
    """A function of the process's C library with its argument types set; None where it has none (macOS, musl)."""
    function = getattr(ctypes.CDLL(None), name, None)
    if function is not None:
        function.argtypes = list(argtypes)
    return function


def return_frame_buffers_to_the_system(threshold: int = FRAME_BUFFER_THRESHOLD) -> bool:
    """Set glibc's mmap threshold for the whole process; False where the C library has no mallopt."""
    mallopt = _c_function("mallopt", ctypes.c_int, ctypes.c_int)
    return mallopt is not None and mallopt(M_MMAP_THRESHOLD, threshold) == 1


def release_free_heap_pages() -> bool:
    """Hand glibc's free heap pages back to the system (malloc_trim); False where the C library has none."""
    trim = _c_function("malloc_trim", ctypes.c_size_t)
    if trim is None:
        return False
    trim(0)
    return True


def trim_heap_periodically(interval_s: float = 30.0) -> threading.Event | None:
    """Trim the heaps every `interval_s` seconds on a daemon thread; set the returned event to stop it.

    None where the C library cannot trim. A trim is cheap (bench/README.md times it), so the
    period mostly bounds how long freed pages stay counted against the dyno's memory.
    """
    trim = _c_function("malloc_trim", ctypes.c_size_t)
    if trim is None:
        return None
    stop = threading.Event()

    def trim_until_stopped() -> None:
        while not stop.wait(interval_s):
            trim(0)

    threading.Thread(target=trim_until_stopped, name="heap-trimmer", daemon=True).start()
    return stop
