"""What one student's figures cost the server in the Redis store: `RedisStore.publish`, a sample at a time (the
on-device path sends two a message, through `publish_samples`, the same transaction).

    python bench/store_publish.py [--students 50] [--calls 3000] [--against REV]

A real redis-server (tests.support.redis_server), a class-only room with --students seated students, each
with a sender id as the Join page gives them; --calls publishes of one face's figures, the students in
turn, the clock moving on as in a lecture. Prints per publish the wall time (median, p95) and this
process's CPU time (mean), so the Python side of a round trip shows. --against REV times the store as it
was at a git revision too, in the same run and on the same server (alternating rounds), for a ratio.
"""

from __future__ import annotations

import argparse
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from types import ModuleType

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.classroom_load import p95
from bench.streamlit_client import PLAUSIBLE_FACE
from emotion.classroom import redis_store
from emotion.classroom.records import new_sender
from tests.support.redis_server import RedisProcess

ROOT = Path(__file__).resolve().parent.parent
FACE = np.array(PLAUSIBLE_FACE, np.float32)


def store_at(revision: str) -> ModuleType:
    """emotion/classroom/redis_store.py as it was at `revision`, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{revision}:emotion/classroom/redis_store.py"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    path = Path(tempfile.mkdtemp()) / "redis_store_then.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("redis_store_then", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def time_publishes(store, code: str, seats: list[tuple[str, str]], calls: int, clock: list[float]) -> tuple[list[float], float]:
    """Wall seconds of each publish, and this process's CPU seconds for all of them."""
    walls = []
    cpu0 = time.process_time()
    for i in range(calls):
        student_id, sender = seats[i % len(seats)]
        clock[0] += 1.0 / len(seats)  # each student once a second
        started = time.perf_counter()
        store.publish(code, student_id, [FACE], clock[0], "device", sender)
        walls.append(time.perf_counter() - started)
    return walls, time.process_time() - cpu0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--students", type=int, default=50)
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--against", help="a git revision whose store to time as well")
    args = parser.parse_args(argv)
    modules = {"now": redis_store} | ({args.against: store_at(args.against)} if args.against else {})
    with tempfile.TemporaryDirectory() as folder:
        redis = RedisProcess(Path(folder)).start()
        try:
            results: dict[str, tuple[list[float], float]] = {name: ([], 0.0) for name in modules}
            clock = [time.time()]
            rooms = {}
            for name, module in modules.items():
                store = module.RedisStore(redis.url)
                room = store.create_room("Bench", 3 * 3600, clock[0])
                seats = [(store.join(room.code, f"s{i}", clock[0]).student_id, new_sender()) for i in range(args.students)]
                rooms[name] = (store, room.code, seats)
            for _round in range(5):  # alternating, so that the machine's moods fall on both alike
                for name, (store, code, seats) in rooms.items():
                    walls, cpu = time_publishes(store, code, seats, args.calls // 5, clock)
                    results[name] = (results[name][0] + walls, results[name][1] + cpu)
        finally:
            redis.stop()
    print(f"RedisStore.publish, a class-only room of {args.students}, {args.calls} calls each, one face a call")
    for name, (walls, cpu) in results.items():
        ms = [w * 1000 for w in walls]
        cpu_ms = cpu / len(walls) * 1000
        print(f"{name:>12}: wall median {statistics.median(ms):.3f} ms, p95 {p95(ms):.3f} ms; CPU {cpu_ms:.3f} ms a call")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
