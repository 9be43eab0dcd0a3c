"""What a browser downloads to run the on-device pipeline: each file of static/, raw and on the wire;
then what a real browser downloads on a first and a second visit.

    python bench/static_transfer.py

Starts `streamlit run app.py`, asks for every file under static/litert, static/models and
static/ondevice as a browser does (Accept-Encoding: gzip), and prints bytes on disk and bytes
received per folder, and the caching headers sent with the last file. Then headless chromium opens
the Live page's "On this device" until a face is labelled, twice in one browser profile (a student's
reload or next lecture), and prints the bytes of static/ each visit took from the network (DevTools'
encodedDataLength): once with the browser's HTTP cache, once with it off, where only the page's own
cache (static/ondevice/cache.js) can spare a download. static/README.md's tables quote its figures.
"""

from __future__ import annotations

import sys
import tempfile
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.browser import chromium_with_camera, metric_value, streamlit_server
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
        print("\nthe Live page's 'On this device' until a face is labelled, two visits in one chromium profile:", flush=True)
        with tempfile.TemporaryDirectory() as folder, chromium_with_camera(Path(folder)) as chromium:
            for http_cache in (True, False):
                context = chromium.new_context(permissions=["camera"])
                visits = [static_bytes_of_a_visit(context, server.url, http_cache) for _ in range(2)]
                context.close()
                label = "HTTP cache on " if http_cache else "HTTP cache off"
                print(f"{label}: first visit {visits[0]:>12,} bytes of static/, second visit {visits[1]:>10,}", flush=True)
    return 0


def static_bytes_of_a_visit(context, url: str, http_cache: bool) -> int:
    """Bytes of /app/static/ the page took from the network (headers and body, as received) until a face was labelled."""
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": not http_cache})
    static_requests: set[str] = set()
    received: list[float] = []

    def sent(event: dict) -> None:
        if "/app/static/" in event["request"]["url"]:
            static_requests.add(event["requestId"])

    def finished(event: dict) -> None:
        if event["requestId"] in static_requests:
            received.append(event["encodedDataLength"])

    cdp.on("Network.requestWillBeSent", sent)
    cdp.on("Network.loadingFinished", finished)
    page.goto(url)
    page.get_by_text("On this device").click()
    for _ in range(480):
        if (metric_value(page, "Faces in view") or 0) >= 1:
            break
        page.wait_for_timeout(250)
    else:
        raise SystemExit("no face was labelled within 2 minutes")
    page.close()
    return int(sum(received))


if __name__ == "__main__":
    sys.exit(main())
