"""Soak: N streams through the real server for a while, then dropped abruptly; checks what is left.

    python bench/soak.py --streams 5 --minutes 10        # the full run (also tests/test_soak.py, marked slow)
    python bench/soak.py --streams 2 --minutes 0.5       # the short run of the default test suite

The harness is tests/support/soak.py. Exits non-zero, saying why, when a bound is broken.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.soak import soak


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=5)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--rss-growth-mb", type=float, default=60, help="allowed sustained RSS growth, MB")
    parser.add_argument("--release-seconds", type=float, default=45, help="time allowed to release dropped streams")
    parser.add_argument("--server-log", type=Path, help="keep the server's output (and thread dumps) in this file")
    args = parser.parse_args()
    problems = soak(args.streams, args.minutes, args.rss_growth_mb, args.release_seconds, args.server_log)
    for problem in problems:
        print(f"FAILED: {problem}")
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
