"""Keep the server's memory flat as streams come and go.

Every frame allocates buffers of about a megabyte (640x480 BGR) on the stream's own thread. glibc
serves them from mmap at first, then raises its mmap threshold and serves them from per-thread
heaps, which keep the freed memory. Fixing the threshold returns each buffer to the system when it
is freed: with five streams the server held 379 MB instead of 431 (bench/README.md).
"""

from __future__ import annotations

import ctypes

M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number
FRAME_BUFFER_THRESHOLD = 512 * 1024  # 640x480 BGR frames (900 kB) get their own mapping; grey copies (300 kB) do not


def return_frame_buffers_to_the_system(threshold: int = FRAME_BUFFER_THRESHOLD) -> bool:
    """Set glibc's mmap threshold for the whole process; False where the C library has no mallopt (macOS, musl)."""
    mallopt = getattr(ctypes.CDLL(None), "mallopt", None)
    if mallopt is None:
        return False
    mallopt.argtypes = [ctypes.c_int, ctypes.c_int]
    return mallopt(M_MMAP_THRESHOLD, threshold) == 1
