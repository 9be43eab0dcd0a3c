"""Faces found by each face finder on the 15 shared photos, against the counts of visible faces.

    python bench/detector_quality.py            # the table
    python bench/detector_quality.py --record   # also keep it in model/detectors/measured.json (the app's help text)

Each detector runs as the app runs it on a photo (the Photo page's settings: no downscaled copy but
each detector's own), at each minimum face size given (the Photo page's default is
emotion.presets.PHOTO_MIN_FACE). Per detector and size: photos counted exactly right, the total
absolute error, false faces on the photo of dogs (no human face), and the seconds the search took
for all the photos (what a smaller minimum face costs). Then how each neural
detector's boxes sit against the cascade's on the faces both find (median width and height ratio,
centre offset as a share of the height): the emotion CNN was trained on crops framed like the
cascade's, so emotion.detection's BoxFit maps each detector's boxes onto that framing. The ratios
printed are after the fit, so 1.0 and 0.0 mean the fit holds.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import numpy as np

from bench.frames import photo, record
from emotion import presets
from emotion.detection import DETECTORS, load_detectors
from emotion.presets import PHOTO_MIN_FACE
from tests.support.files import FACES

NO_FACE_PHOTO = "dlib_dogs.jpg"
PHOTO_SETTINGS = presets.photo().detection  # the Photo page's search


def true_counts() -> dict[str, int]:
    """The 'visible' column of the shared photos' README."""
    rows = re.findall(r"^\| (\S+\.jpg) \| \S+ \| (\d+) \|", (FACES / "README.md").read_text(), flags=re.MULTILINE)
    return {name: int(count) for name, count in rows}


def geometry_against(reference: np.ndarray, boxes: np.ndarray) -> list[tuple[float, float, float]]:
    """(width ratio, height ratio, centre offset down / reference height) for each reference box whose
    centre lies inside exactly one of `boxes` (the same face)."""
    rows = []
    for x, y, w, h in reference:
        cx, cy = x + w / 2, y + h / 2
        same = [b for b in boxes if abs(b[0] + b[2] / 2 - cx) < w / 2 and abs(b[1] + b[3] / 2 - cy) < h / 2]
        if len(same) == 1:
            _, by, bw, bh = same[0]
            rows.append((bw / w, bh / h, (by + bh / 2 - cy) / h))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--min-face", type=int, nargs="+", default=sorted({PHOTO_MIN_FACE, 30, 40}), help="minimum face sides to compare, px"
    )
    parser.add_argument("--record", action="store_true", help="keep the table for the app's help text")
    args = parser.parse_args()
    truth = true_counts()
    detectors = load_detectors()
    photos = {name: photo(name) for name in truth}
    for name in DETECTORS:  # each detector's first call sets it up: keep that out of the timings
        detectors[name].detect(photos[NO_FACE_PHOTO], replace(PHOTO_SETTINGS, detector=name))
    print(f"{len(truth)} photos, {sum(truth.values())} visible faces\n")
    columns = f"{'detector':<16}{'min face':>9}{'exactly right':>15}{'abs error':>11}{'false (dogs)':>14}{'seconds':>9}"
    print(f"{columns}   faces found per photo")
    quality: dict[str, dict] = {}
    found: dict[int, dict[str, dict]] = {}  # min face -> detector -> photo -> boxes
    for min_face in args.min_face:
        for name in DETECTORS:
            settings = replace(PHOTO_SETTINGS, detector=name, min_face=min_face)
            start = time.perf_counter()
            found.setdefault(min_face, {})[name] = {p: detectors[name].detect(image, settings) for p, image in photos.items()}
            seconds = time.perf_counter() - start
            counts = {p: len(boxes) for p, boxes in found[min_face][name].items()}
            exact = sum(counts[p] == n for p, n in truth.items())
            error = sum(abs(counts[p] - n) for p, n in truth.items())
            false_faces = counts[NO_FACE_PHOTO]
            row = {"photos": len(truth), "exactly_right": exact, "absolute_error": error, "false_on_dogs": false_faces}
            quality.setdefault(name, {})[f"min_face_{min_face}"] = row
            print(f"{name:<16}{min_face:>9}{exact:>15}{error:>11}{false_faces:>14}{seconds:>9.2f}   {list(counts.values())}")
    fit_at = PHOTO_MIN_FACE if PHOTO_MIN_FACE in found else args.min_face[-1]
    print(f"\nboxes against the cascade's (minimum face {fit_at} px; median over faces both find):")
    print(f"{'detector':<16}{'width':>8}{'height':>8}{'down':>8}")
    for name in DETECTORS:
        if name == "haar":
            continue
        rows = [row for p in truth for row in geometry_against(found[fit_at]["haar"][p], found[fit_at][name][p])]
        width, height, down = np.median(np.asarray(rows), axis=0)
        print(f"{name:<16}{width:>8.3f}{height:>8.3f}{down:>8.3f}   ({len(rows)} faces)")
    if args.record:
        record("photo_faces", quality)


if __name__ == "__main__":
    main()
