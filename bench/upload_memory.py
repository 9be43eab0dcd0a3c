"""What one large upload costs in memory: the peak RSS of the server's path and of the command line.

    python bench/upload_memory.py [--kind png|jpeg|whole|refused] [--width 12000 --height 9000 --mode RGB] [--real-server]

Writes the upload, then measures it. The kinds (emotion/images.py says how each is read):
- png (the default): a photo-sized PNG (tests/support/files.py write_large_png, as the memory test
  does), read a strip at a time;
- jpeg: the same picture as a JPEG (quality 90), decoded at a reduced scale;
- whole: the largest upload decoded whole: an RGBA TIFF whose decode is exactly DECODE_BUDGET, mostly
  noise, so that its file is also near the upload limit (--width, --height and --mode do not apply);
- largest-file: an RGB PNG of noise whose file is just under the upload limit (read a strip at a time);
- refused: a 16-bit PNG over DECODE_BUDGET, which is refused before decoding.
Then:
- server path: a fresh process loads the models as the app does, then reads the upload and analyses it
  with the Photo page's settings (emotion.images.read_image, emotion.pipeline.analyze_frame); its RSS
  before, its peak (VmHWM) and the difference;
- command line: `python -m emotion.annotate UPLOAD OUT.png`, its peak RSS (VmHWM), and the same on
  a small committed photo (tests/data/facerec_obama.jpg), for the fixed cost;
- with --real-server: a fresh (cold) `streamlit run app.py`, chromium uploading the file on the Photo
  page, the server's RSS before and its peak, and the seconds until the result (or the refusal) shows.
"""

from __future__ import annotations

import argparse
import math
import re
import subprocess
import sys
import tempfile
import time
import tomllib
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np
from PIL import Image

from emotion.images import DECODE_BUDGET, MAX_BYTES
from tests.support.files import ROOT, TEST_DATA, run_probe, write_large_png

KINDS = ("png", "jpeg", "whole", "largest-file", "refused")

SERVER_PATH = """
import re, sys, time
from pathlib import Path
from emotion import presets
from emotion.images import ImageError, read_image
from emotion.pipeline import analyze_frame, load_models

def status_mb(key):
    return int(re.search(key + r":\\s+(\\d+) kB", Path("/proc/self/status").read_text()).group(1)) / 1024

models = load_models()
data = Path(sys.argv[1]).read_bytes()
before = status_mb("VmRSS")
started = time.perf_counter()
try:
    image = read_image(data, "This photo")
except ImageError as error:
    print(before, status_mb("VmHWM"), time.perf_counter() - started, "refused:", error)
    sys.exit()
# The Photo page's settings (emotion.presets: the core, so that Streamlit's own memory stays out of the figure).
settings = presets.photo()
analysis = analyze_frame(image, models, settings)
print(before, status_mb("VmHWM"), time.perf_counter() - started, f"analysed at {image.shape[1]}x{image.shape[0]}")
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


def cli_peak_mb(image: Path, out: Path, refused: bool = False) -> tuple[float, float]:
    """Peak RSS (MB) and seconds of `python -m emotion.annotate IMAGE OUT` (which exits 2 where `refused`)."""
    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", CLI, str(image), str(out)], cwd=ROOT, capture_output=True, text=True)
    found = re.search(r"peak_kb (\d+)", result.stderr)
    if result.returncode != (2 if refused else 0) or not found:
        raise SystemExit(f"the command line did not do what it should (exit {result.returncode}): {result.stderr}")
    return int(found.group(1)) / 1024, time.perf_counter() - started


def upload_limit() -> int:
    """The most bytes an upload may have: Streamlit's server.maxUploadSize (decimal megabytes, as its
    uploader counts them) or read_image's own MAX_BYTES, whichever is less."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    return min(MAX_BYTES, int(config["server"]["maxUploadSize"]) * 1_000_000)


def write_upload(kind: str, folder: Path, width: int, height: int, mode: str) -> tuple[Path, str]:
    """The upload of `kind` (KINDS) and a line describing it."""
    if kind in ("png", "jpeg"):
        path = write_large_png(folder / "large.png", width, height, mode)
        decoded = width * height * len(mode) / 2**20
        what = f"{width}x{height} {mode} PNG"
        if kind == "jpeg":
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our own picture
                with Image.open(path) as image:
                    image.convert("RGB").save(folder / "large.jpg", quality=90)
            path, what = folder / "large.jpg", f"{width}x{height} RGB JPEG (quality 90)"
        return path, f"{what}: {path.stat().st_size / 2**20:.1f} MB file, {decoded:.0f} MB decoded (bands x pixels)"
    if kind == "whole":
        side = math.isqrt(DECODE_BUDGET // 4)  # RGBA: 4 bytes a pixel in Pillow
        pixels = np.full((side, side, 4), 255, np.uint8)
        noisy = side * 84 // 100  # the rest flat: the deflated file stays just under the upload limit
        pixels[:noisy, :, :3] = np.random.default_rng(0).integers(0, 256, (noisy, side, 3), dtype=np.uint8)
        path = folder / "whole.tiff"
        Image.fromarray(pixels, "RGBA").save(path, compression="tiff_deflate")
        if path.stat().st_size > upload_limit():
            raise SystemExit(f"{path} is over the upload limit; make less of it noise")
        size = path.stat().st_size / 2**20
        return path, f"{side}x{side} RGBA TIFF (deflate): {size:.1f} MB file, {DECODE_BUDGET / 2**20:.0f} MB decoded whole"
    if kind == "largest-file":
        side = math.isqrt(upload_limit() // 3) - 100  # noise hardly compresses: about 3 bytes a pixel
        noise = np.random.default_rng(0).integers(0, 256, (side, side, 3), dtype=np.uint8)
        path = folder / "noise.png"
        Image.fromarray(noise).save(path, compress_level=1)
        if path.stat().st_size > upload_limit():
            raise SystemExit(f"{path} is over the upload limit; make it smaller")
        return path, f"{side}x{side} RGB PNG of noise: {path.stat().st_size / 2**20:.1f} MB file, read in strips"
    side = math.isqrt(DECODE_BUDGET // 2) + 100  # 16-bit grey: 2 bytes a pixel
    ramp = (np.arange(side, dtype=np.uint32)[None, :] * 65535 // side).astype(np.uint16).repeat(side, axis=0)
    path = folder / "deep.png"
    Image.fromarray(ramp).save(path)
    return path, f"{side}x{side} 16-bit grey PNG: {path.stat().st_size / 2**20:.1f} MB file, over DECODE_BUDGET (refused)"


def real_server(upload: Path) -> None:
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
            page.locator('input[type="file"]').first.set_input_files(str(upload))
            answer = page.get_by_text(re.compile(r"\d+ face\(s\) found|The photo could not be read"))
            answer.first.wait_for(timeout=120_000)
            seconds = time.perf_counter() - started
            shown = "the result" if "found" in answer.first.inner_text() else "the refusal"
            print(
                f"real server (streamlit run app.py, chromium uploads on the Photo page): RSS before {before:.0f} MB, "
                f"peak {status_mb(server.pid, 'VmHWM'):.0f} MB, after {status_mb(server.pid, 'VmRSS'):.0f} MB; "
                f"{shown} shown {seconds:.1f} s after the upload began"
            )
        finally:
            chromium.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kind", default="png", choices=KINDS, help="what is uploaded (see above)")
    parser.add_argument("--width", type=int, default=12000)
    parser.add_argument("--height", type=int, default=9000)
    parser.add_argument("--mode", default="RGB", choices=["RGB", "RGBA", "L"])
    parser.add_argument("--real-server", action="store_true", help="also upload it to `streamlit run app.py` with chromium")
    args = parser.parse_args()
    refused = args.kind == "refused"
    with tempfile.TemporaryDirectory() as tmp:
        upload, described = write_upload(args.kind, Path(tmp), args.width, args.height, args.mode)
        print(described)

        before, peak, seconds, outcome = run_probe(SERVER_PATH, str(upload)).split(maxsplit=3)
        rise = float(peak) - float(before)
        print(
            f"server path (read_image + analyze_frame, models loaded): RSS before {float(before):.0f} MB, "
            f"peak {float(peak):.0f} MB, +{rise:.0f} MB, {float(seconds):.1f} s, {outcome.strip()}"
        )

        small, small_s = cli_peak_mb(TEST_DATA / "facerec_obama.jpg", Path(tmp) / "small_out.png")
        large, large_s = cli_peak_mb(upload, Path(tmp) / "large_out.png", refused)
        print(
            f"command line (python -m emotion.annotate {upload.name} OUT.png): peak {large:.0f} MB in {large_s:.1f} s"
            f"{' (refused, exit 2)' if refused else ''}; on facerec_obama.jpg {small:.0f} MB in {small_s:.1f} s"
        )
        if args.real_server:
            real_server(upload)


if __name__ == "__main__":
    main()
