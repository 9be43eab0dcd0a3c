"""Keep the server's memory flat as streams come and go.

Every frame allocates buffers of about a megabyte (640x480 BGR) on the stream's own thread. glibc
serves them from mmap at first, then raises its mmap threshold and serves them from per-thread
heaps, which keep the freed memory. Fixing the threshold returns each buffer to the system when it
is freed: with five streams the server held 379 MB instead of 431 (bench/README.md).

The smaller allocations of decoders, encoders and peer connections still leave free pages inside
glibc's heaps, which it keeps: after each cycle of five streams the server held 40-65 MB more than
after a trim, and more with every cycle. A daemon thread trims the heaps now and then.
"""

from __future__ import annotations

import ctypes
import threading

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
FRAME_BUFFER_THRESHOLD = 512 * 1024  # 640x480 BGR frames (900 kB) get their own mapping; grey copies (300 kB) do not


def return_frame_buffers_to_the_system(threshold: int = FRAME_BUFFER_THRESHOLD) -> bool:
    """Set glibc's mmap threshold for the whole process; False where the C library has no mallopt (macOS, musl)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1


def release_free_heap_pages() -> bool:
    """Hand glibc's free heap pages back to the system (malloc_trim); False where the C library has none."""
    trim = getattr(ctypes.CDLL(None), "malloc_trim", None)
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    trim(0)
    return True


def trim_heap_periodically(interval_s: float = 30.0) -> threading.Event | None:
    """Trim the heaps every `interval_s` seconds on a daemon thread; set the returned event to stop it.

    None where the C library cannot trim. A trim of the server's heaps took 1-13 ms with five
    streams running (bench/README.md), so the period mostly bounds how long freed pages stay counted
    against the dyno's memory.
    """
    if not release_free_heap_pages():
        return None
    stop = threading.Event()

    def trim_until_stopped() -> None:
        while not stop.wait(interval_s):
            release_free_heap_pages()

    threading.Thread(target=trim_until_stopped, name="heap-trimmer", daemon=True).start()
    return stop
