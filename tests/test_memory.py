"""The server's memory settings (emotion/live/memory.py, the Procfile's heap limit), checked on real processes."""

import os
import re
import sys

import pytest

from tests.support.files import ROOT, run_probe

# Twenty frame-sized buffers, each followed by a small allocation that stays (as a stream's thread
# does), then the buffers are freed: prints the megabytes the process still holds for them.
PROBE = """
import sys
import numpy as np
from emotion.live.memory import return_frame_buffers_to_the_system
if sys.argv[1] == "set":
    assert return_frame_buffers_to_the_system()
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
first = np.ones(640 * 480 * 3, np.uint8)
del first  # glibc now serves buffers of this size from its heap, unless the threshold is set
before = rss_mb()
frames, kept = [], []
for _ in range(20):
    frames.append(np.ones(640 * 480 * 3, np.uint8))
    kept.append(np.ones(4096, np.uint8))
del frames
print(round(rss_mb() - before))
"""


def retained_mb(mode: str) -> int:
    return int(run_probe(PROBE, mode))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt")
def test_freed_frame_buffers_go_back_to_the_system_once_the_threshold_is_set():
    assert retained_mb("default") > 10  # glibc's own way: the freed frames stay in its heap
    assert retained_mb("set") < 2


# Small allocations (below the mmap threshold) interleaved with ones that stay, as decoders and
# peer connections leave them; prints the megabytes held after they are freed, then after `mode`.
TRIM_PROBE = """
import sys, time
import numpy as np
from emotion.live.memory import return_frame_buffers_to_the_system, release_free_heap_pages, trim_heap_periodically
return_frame_buffers_to_the_system()
def rss_mb():
    return int(open("/proc/self/statm").read().split()[1]) * 4096 / 2**20
before = rss_mb()
freed, kept = [], []
for _ in range(2000):
    freed.append(np.ones(100_000, np.uint8))
    kept.append(np.ones(64, np.uint8))
del freed
held = rss_mb() - before
if sys.argv[1] == "trim":
    assert release_free_heap_pages()
elif sys.argv[1] == "periodic":
    assert trim_heap_periodically(interval_s=0.2) is not None
    time.sleep(1)
print(round(held), round(rss_mb() - before))
"""


def held_mb(mode: str) -> tuple[int, int]:
    held, after = run_probe(TRIM_PROBE, mode).split()
    return int(held), int(after)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc_trim")
@pytest.mark.parametrize("mode", ["trim", "periodic"])
def test_free_heap_pages_go_back_to_the_system_when_trimmed(mode):
    held, untrimmed = held_mb("none")
    assert held > 100 and untrimmed > 100  # 2000 freed 100 kB blocks stay in glibc's heap
    held, trimmed = held_mb(mode)
    assert held > 100 and trimmed < 10


# Eight threads, alive together, allocate a block each; prints how many heaps glibc then has (malloc_info).
HEAPS_PROBE = """
import ctypes, threading
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.malloc.argtypes = [ctypes.c_size_t]
blocks, together = [], threading.Barrier(8)
def allocate():
    blocks.append(libc.malloc(64_000))
    together.wait()
threads = [threading.Thread(target=allocate) for _ in range(8)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
libc.open_memstream.restype = ctypes.c_void_p
buffer, size = ctypes.c_char_p(), ctypes.c_size_t()
stream = libc.open_memstream(ctypes.byref(buffer), ctypes.byref(size))
libc.malloc_info(0, ctypes.c_void_p(stream))
libc.fclose(ctypes.c_void_p(stream))
print(buffer.value.decode().count("<heap nr="))
"""


def heap_count(env: dict[str, str]) -> int:
    return int(run_probe(HEAPS_PROBE, env=env))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's heaps")
def test_the_procfile_limits_the_servers_threads_to_two_heaps():
    """glibc fixes its heap limit when a second thread first allocates, before app code runs, so the
    limit has to come from the environment the Procfile starts the server with."""
    procfile = (ROOT / "Procfile").read_text()
    setting = re.search(r"MALLOC_ARENA_MAX=(\d+) streamlit run", procfile)
    assert setting, "the Procfile no longer sets MALLOC_ARENA_MAX for the server"
    plain = {key: value for key, value in os.environ.items() if key != "MALLOC_ARENA_MAX"}
    assert heap_count(plain) > 2  # glibc's own way: new threads get heaps of their own
    assert heap_count({**plain, "MALLOC_ARENA_MAX": setting.group(1)}) <= 2
