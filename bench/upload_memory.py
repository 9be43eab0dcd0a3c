"""What one large upload costs in memory: the peak RSS of the server's path and of the command line.

    python bench/upload_memory.py [--width 12000 --height 9000 --mode RGB] [--real-server]

Writes a photo-sized PNG (tests/support/files.py write_large_png, as the memory test does), then:
- server path: a fresh process loads the models as the app does, then reads the PNG and analyses it
  with the Photo page's settings (emotion.images.read_image, emotion.pipeline.analyze_frame); its RSS
  before, its peak (VmHWM) and the difference;
- command line: `python -m emotion.annotate PNG OUT.png`, its peak RSS (VmHWM), and
  the same on a small photo from the shared data, for the fixed cost;
- with --real-server: `streamlit run app.py`, chromium uploading the PNG on the Photo page, the
  server's RSS before and its peak, and the seconds until the table shows.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.support.files import FACES, ROOT, run_probe, write_large_png

SERVER_PATH = """
import re, sys, time
from pathlib import Path
from emotion.detection import DetectionSettings
from emotion.images import read_image
from emotion.pipeline import PipelineSettings, analyze_frame, load_models

def status_mb(key):
    return int(re.search(key + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024

models = load_models()
data = Path(sys.argv[1]).read_bytes()
before = status_mb("VmRSS")
started = time.perf_counter()
image = read_image(data, "upload.png")
# The Photo page's settings (webapp/widgets.py photo_settings; not imported, so that Streamlit's own
# memory stays out of the figure).
settings = PipelineSettings(DetectionSettings(scale_factor=1.1, min_face=30, detect_width=None), max_faces=50, number_faces=True)
analysis = analyze_frame(image, models, settings)
print(before, status_mb("VmHWM"), time.perf_counter() - started, image.shape[1], image.shape[0])
"""


# The command line as `python -m emotion.annotate` runs it, reporting its own peak on the way out:
# VmHWM starts afresh at exec, where ru_maxrss would carry this script's own peak (writing the PNG).
CLI = """
import re, runpy, sys
from pathlib import Path
sys.argv = ["emotion.annotate", *sys.argv[1:]]
try:
    runpy.run_module("emotion.annotate", run_name="__main__", alter_sys=True)
finally:
    peak = re.search(r"VmHWM:\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)
    print("peak_kb", peak, file=sys.stderr)
"""


def status_mb(pid: int, key: str) -> float:
    found = re.search(key + r":\s+(\d+) kB", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) / 1024 if found else 0.0


def cli_peak_mb(image: Path, out: Path) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `python -m emotion.annotate IMAGE OUT`."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CLI, str(image), str(out)], cwd=ROOT, capture_output=True, text=True)
    found = re.search(r"peak_kb (\d+)", result.stderr)
    if result.returncode != 0 or not found:
        raise SystemExit(f"the command line failed: {result.stderr}")
    return int(found.group(1)) / 1024, time.perf_counter() - started


def real_server(png: Path) -> None:
    from playwright.sync_api import sync_playwright

    from tests.support.browser import CHROMIUM, chromium_args, streamlit_server

    with streamlit_server() as server, sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=chromium_args())
        try:
            page = chromium.new_context(viewport={"width": 1400, "height": 1000}).new_page()
            page.goto(f"{server.url}/photo")
            page.locator('input[type="file"]').first.wait_for(state="attached", timeout=60_000)
            page.wait_for_timeout(2000)  # the page's first run: models loaded
            before = status_mb(server.pid, "VmRSS")
            started = time.perf_counter()
            page.locator('input[type="file"]').first.set_input_files(str(png))
            page.get_by_text(re.compile(r"\d+ face\(s\) found")).wait_for(timeout=120_000)
            seconds = time.perf_counter() - started
            print(
                f"real server (streamlit run app.py, chromium uploads on the Photo page): RSS before {before:.0f} MB, "
                f"peak {status_mb(server.pid, 'VmHWM'):.0f} MB, after {status_mb(server.pid, 'VmRSS'):.0f} MB; "
                f"the result shown {seconds:.1f} s after the upload began"
            )
        finally:
            chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--width", type=int, default=12000)
    parser.add_argument("--height", type=int, default=9000)
    parser.add_argument("--mode", default="RGB", choices=["RGB", "RGBA", "L"])
    parser.add_argument("--real-server", action="store_true", help="also upload it to `streamlit run app.py` with chromium")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        png = write_large_png(Path(tmp) / "large.png", args.width, args.height, args.mode)
        decoded = args.width * args.height * len(args.mode) / 2**20
        print(f"{args.width}x{args.height} {args.mode} PNG: {png.stat().st_size / 2**20:.1f} MB file, {decoded:.0f} MB decoded")

        fields = run_probe(SERVER_PATH, str(png)).split()
        before, peak, seconds = (float(v) for v in fields[:3])
        print(
            f"server path (read_image + analyze_frame, models loaded): RSS before {before:.0f} MB, peak {peak:.0f} MB, "
            f"+{peak - before:.0f} MB ({(peak - before) / decoded:.2f}x the decoded image), {seconds:.1f} s, "
            f"analysed at {fields[3]}x{fields[4]}"
        )

        small, small_s = cli_peak_mb(FACES / "facerec_obama.jpg", Path(tmp) / "small_out.png")
        large, large_s = cli_peak_mb(png, Path(tmp) / "large_out.png")
        print(
            f"command line (python -m emotion.annotate PNG OUT.png): peak {large:.0f} MB in {large_s:.1f} s; "
            f"on facerec_obama.jpg {small:.0f} MB in {small_s:.1f} s"
        )
        if args.real_server:
            real_server(png)


if __name__ == "__main__":
    main()
