"""What a browser downloads to run the on-device pipeline: each file of static/, raw and on the wire.

    python bench/static_transfer.py

Starts `streamlit run app.py`, asks for every file under static/litert, static/models and
static/ondevice as a browser does (Accept-Encoding: gzip), and prints bytes on disk and bytes
received per folder, and the caching headers sent with the last file. static/README.md's table
quotes its figures.
"""

from __future__ import annotations

import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.browser import streamlit_server
from tests.support.files import ROOT

FOLDERS = ("litert", "models", "ondevice")
SKIPPED = {"LICENSE", "README.md"}  # in static/ for people, not fetched by the page


def fetch(url: str) -> tuple[int, dict[str, str]]:
    request = urllib.request.Request(url, headers={"Accept-Encoding": "gzip"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return len(response.read()), dict(response.headers)


def main() -> int:
    static = ROOT / "static"
    rows = []
    with streamlit_server() as server:
        for folder in FOLDERS:
            files = sorted(p for p in (static / folder).rglob("*") if p.is_file() and p.name not in SKIPPED)
            raw = wire = 0
            headers: dict[str, str] = {}
            for path in files:
                received, headers = fetch(f"{server.url}/app/static/{path.relative_to(static).as_posix()}")
                raw += path.stat().st_size
                wire += received
            rows.append((folder, len(files), raw, wire))
            print(f"{folder + '/':<12}{len(files):>3} files {raw:>12,} bytes {wire:>12,} on the wire", flush=True)
    total_raw, total_wire = sum(r[2] for r in rows), sum(r[3] for r in rows)
    print(f"{'all':<12}{sum(r[1] for r in rows):>3} files {total_raw:>12,} bytes {total_wire:>12,} on the wire")
    print(f"({total_raw / 2**20:.1f} MiB, {total_wire / 2**20:.1f} MiB on the wire)")
    caching = {key: value for key, value in headers.items() if key.lower() in {"cache-control", "etag", "last-modified"}}
    print(f"caching headers of the last file: {caching or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
