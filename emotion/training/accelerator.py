"""Several training runs at once on one accelerator machine, within a wall-clock budget.

    # here: FER-2013 in a file small enough to travel (the machine takes at most 64 MiB)
    python -m emotion.training.accelerator pack --data ../shared/data/fer2013.zip --out .devdata/fer2013-train-val.npz.xz
    # there, with KERAS_BACKEND=jax: each --net is a name and that run's own `train` arguments
    python -m emotion.training.accelerator train --data .devdata/fer2013-train-val.npz.xz --out runs/gpu \\
        --budget 480 --net seed11="--seed 11" --net crop21="--crop 40 --seed 21" --archive $OUT

An accelerator is lent for minutes and one small net leaves most of it idle, so the runs share it.
All start together for a timing run, which measures each run's epoch once every run has compiled
and trains (epochs timed while others still compile came out 40% short on an H200). Then all start
again, each for as many epochs as the rest of the budget holds, since a cosine schedule must know
its length. Each run is `emotion.training.train` in its own process and state folder. A run still
going at the deadline is stopped: its best epoch so far is kept as its net, with a record saying
so (`stopped_run_config`). `--archive` writes each run's folder as one .tar, since the device tool
returns only a few files.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import shlex
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from emotion.training.artifacts import CONFIG_FILE, LOG_FILE, MODEL_FILE
from emotion.training.data import SPLITS, DatasetError, pack

RESERVED = {"--data", "--out", "--epochs", "--patience", "--state-dir"}  # set by this command for every run
TIMING_RUN_EPOCHS = 10**6  # timing runs are stopped once timed, never finish on their own
MARGIN_SECONDS = 20.0  # kept free at the end: the archive, and runs finishing a little late


@dataclass
class Run:
    name: str
    arguments: list[str]  # its own `train` arguments
    process: subprocess.Popen | None = None
    argv: list[str] = field(default_factory=list)  # every `train` argument of its latest start


def parse_net(text: str) -> Run:
    """NAME=ARGS, e.g. `crop21=--crop 40 --seed 21`."""
    name, _, arguments = text.partition("=")
    if not name.isidentifier():
        raise argparse.ArgumentTypeError(f"{text!r}: give NAME=ARGUMENTS, NAME in letters, digits and _")
    split = shlex.split(arguments)
    clash = RESERVED & {a.split("=")[0] for a in split}
    if clash:
        raise argparse.ArgumentTypeError(f"{name}: {', '.join(sorted(clash))} is set by this command, not per net")
    return Run(name, split)


def unpacked(data: Path, work: Path) -> Path:
    """The training data as a file every run reads fast: an .xz archive is decompressed once, not per run."""
    if not data.name.endswith(".xz"):
        return data
    import lzma

    target = work / data.name.removesuffix(".xz")
    target.write_bytes(lzma.decompress(data.read_bytes()))
    return target


def child_environment() -> dict[str, str]:
    """Runs share the device: JAX takes memory as needed instead of 75% each, and compiles once for all."""
    env = dict(os.environ)
    env.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    env.setdefault("JAX_COMPILATION_CACHE_DIR", str(Path.home() / ".cache" / "emotion-jax"))
    env.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    env.setdefault("PYTHONUNBUFFERED", "1")
    return env


def start_all(runs: list[Run], data: Path, out: Path, work: Path, epochs: list[int]) -> None:
    env = child_environment()
    for run, run_epochs in zip(runs, epochs):
        (out / run.name).mkdir(parents=True, exist_ok=True)
        state = work / "state" / out.name / run.name
        run.argv = [
            "--data", str(data), "--out", str(out / run.name), "--epochs", str(run_epochs),
            "--patience", str(run_epochs), "--state-dir", str(state), *run.arguments,
        ]  # fmt: skip
        log = (out / run.name / "process.log").open("w")
        command = [sys.executable, "-m", "emotion.training.train", *run.argv]
        run.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()


def stop(run: Run) -> None:
    assert run.process is not None
    if run.process.poll() is None:
        run.process.kill()
        run.process.wait()


def wait_all(runs: list[Run], deadline: float) -> list[Run]:
    """Wait for every run; stop those still going at `deadline` and return them."""
    stopped = []
    for run in runs:
        assert run.process is not None
        try:
            run.process.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            stop(run)
            stopped.append(run)
            print(f"{run.name}: stopped at the deadline", flush=True)
    return stopped


def epoch_seconds(folder: Path) -> list[float]:
    return [float(s) for s in logged(folder, "epoch_seconds")]


def logged(folder: Path, column: str) -> list[str]:
    log = folder / LOG_FILE
    if not log.exists():
        return []
    with log.open() as handle:
        return [row[column] for row in csv.DictReader(handle) if row.get(column)]


def time_epochs(runs: list[Run], timing: Path, steady_epochs: int, deadline: float) -> dict[str, tuple[float, float]]:
    """(seconds an epoch, seconds before the first epoch ends) of each run, all on the device at once.

    Only epochs begun after every run finished its first (compiling) epoch count. A run whose timing
    failed is left out, with the end of its output printed.
    """
    started = time.monotonic()
    first_epoch_end: dict[str, float] = {}
    barrier: dict[str, int] | None = None
    while time.monotonic() < deadline:
        for run in runs:
            if run.name not in first_epoch_end and epoch_seconds(timing / run.name):
                first_epoch_end[run.name] = time.monotonic() - started
        alive = [run for run in runs if run.process and run.process.poll() is None]
        if barrier is None and all(r.name in first_epoch_end for r in alive):
            barrier = {run.name: len(epoch_seconds(timing / run.name)) for run in alive}
        if barrier is not None and all(len(epoch_seconds(timing / n)) > b + steady_epochs for n, b in barrier.items()):
            break
        if not alive:
            break
        time.sleep(0.5)
    for run in runs:
        stop(run)
    timings = {}
    for run in runs:
        steady = epoch_seconds(timing / run.name)[(barrier or {}).get(run.name, 10**9) + 1 :]
        if run.name in first_epoch_end and steady:
            timings[run.name] = (statistics.median(steady), first_epoch_end[run.name])
        else:
            log = (timing / run.name / "process.log").read_text()[-3000:]
            print(f"{run.name}: the timing run failed or had no steady epoch, left out:\n{log}", flush=True)
    return timings


def epochs_that_fit(epoch: float, first_epoch_end: float, seconds_left: float, max_epochs: int) -> int:
    """Epochs that end before the deadline; the first also pays the start and the compilation."""
    return max(min(math.floor((seconds_left - MARGIN_SECONDS - first_epoch_end) / epoch) + 1, max_epochs), 0)


def stopped_run_config(folder: Path, argv: list[str], device: dict) -> dict:
    """The record of a run stopped at the deadline, from its arguments and log, in training_config.json's form.

    `device` holds what the run's process would have recorded of its machine (backend, versions, device).
    """
    from emotion.training.train import parse_args

    args = parse_args(argv)
    seconds = epoch_seconds(folder)
    return {
        "command": args.command,
        "arguments": {k: v for k, v in vars(args).items() if k not in ("state_dir", "command")},
        "epochs_run": len(seconds),
        "stopped_at_deadline": {"epochs_planned": args.epochs, "kept": "the best epoch by PublicTest accuracy"},
        "median_epoch_seconds": statistics.median(seconds) if seconds else None,
        "best_val_accuracy": max((float(v) for v in logged(folder, "val_accuracy")), default=None),
        **device,
    }


def keep_best_epoch(folder: Path, argv: list[str]) -> None:
    """A stopped run's folder as a finished one's: its best checkpoint's net as the model, and its record."""
    import keras

    from emotion.training.train import compute_device

    checkpoints = list(folder.glob(".*_best_raw.keras"))
    if not checkpoints:
        return
    import emotion.training.augmentation  # noqa: F401 - registers the layer the checkpoint holds

    trainer = keras.models.load_model(checkpoints[0], compile=False)
    net = next(layer for layer in trainer.layers if isinstance(layer, keras.Model))
    net.save(folder / MODEL_FILE)
    checkpoints[0].unlink()  # with its optimizer state it is three times the net, too large to return
    backend = keras.backend.backend()
    device = {
        "backend": backend,
        "backend_version": __import__(backend).__version__,
        "keras": keras.__version__,
        "cpu_cores": os.cpu_count(),
        "device": compute_device(),
    }
    (folder / CONFIG_FILE).write_text(json.dumps(stopped_run_config(folder, argv, device), indent=2) + "\n")


def archive(out: Path, runs: list[Run], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        with tarfile.open(folder / f"{run.name}.tar", "w") as tar:
            tar.add(out / run.name, arcname=run.name)


def summary(out: Path, run: Run) -> dict:
    """What a run reached: its best PublicTest accuracy and epochs, and whether the deadline stopped it."""
    config = json.loads((out / run.name / CONFIG_FILE).read_text()) if (out / run.name / CONFIG_FILE).exists() else {}
    return {
        "net": run.name,
        "arguments": shlex.join(run.arguments),
        "epochs": len(epoch_seconds(out / run.name)),
        "val_accuracy": round(config["best_val_accuracy"], 4) if config.get("best_val_accuracy") else None,
        "stopped_at_deadline": "stopped_at_deadline" in config,
    }


def train_all(args: argparse.Namespace) -> list[dict]:
    deadline = time.monotonic() + args.budget
    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    data = unpacked(Path(args.data), work)
    runs: list[Run] = args.net

    timing = work / "timing"
    start_all(runs, data, timing, work, [TIMING_RUN_EPOCHS] * len(runs))
    timings = time_epochs(runs, timing, args.timing_epochs, deadline)
    seconds_left = deadline - time.monotonic()
    epochs = {}
    for run in runs:
        if run.name in timings:
            epoch, first_epoch_end = timings[run.name]
            epochs[run.name] = epochs_that_fit(epoch, first_epoch_end, seconds_left, args.max_epochs)
            print(f"{run.name}: {epoch:.1f} s an epoch with every run at once, {first_epoch_end:.0f} s to the first "
                  f"epoch's end: {epochs[run.name]} epochs", flush=True)  # fmt: skip
    runs = [run for run in runs if epochs.get(run.name)]
    if not runs:
        raise SystemExit("no run has a full epoch left in the budget after the timing run")

    out = Path(args.out)
    start_all(runs, data, out, work, [epochs[run.name] for run in runs])
    for run in wait_all(runs, deadline - MARGIN_SECONDS / 2):
        keep_best_epoch(out / run.name, run.argv)
    results = [summary(out, run) for run in runs]
    for result in results:
        print(json.dumps(result), flush=True)
    if args.archive:
        archive(out, runs, Path(args.archive))
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.training.accelerator", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    packer = commands.add_parser("pack", help="FER-2013 as xz-compressed arrays, small enough to travel")
    packer.add_argument("--data", required=True, help="fer2013.zip, its extracted folder, or fer2013.csv")
    packer.add_argument("--out", required=True, type=Path, help="the packed file (.npz, or .npz.xz compressed)")
    packer.add_argument("--splits", nargs="+", choices=SPLITS, default=["train", "val"])
    trainer = commands.add_parser("train", help="train every --net at once within --budget seconds")
    trainer.add_argument("--data", required=True, help="a packed file, or any format `train` reads")
    trainer.add_argument("--out", required=True, help="one folder per net inside it")
    trainer.add_argument("--net", type=parse_net, action="append", required=True, metavar="NAME=ARGS")
    trainer.add_argument("--budget", type=float, required=True, help="wall-clock seconds for everything")
    trainer.add_argument("--max-epochs", type=int, default=200)
    trainer.add_argument("--timing-epochs", type=int, default=2, help="epochs timed once every run has compiled")
    trainer.add_argument("--work", default=str(Path.home() / ".cache" / "emotion-accelerator"))
    trainer.add_argument("--archive", help="a folder for one .tar of each net's folder")
    args = parser.parse_args(argv)
    if args.command == "pack":
        try:
            packed = pack(args.data, args.out, args.splits)
        except DatasetError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        print(f"wrote {packed} ({packed.stat().st_size / 2**20:.1f} MiB)")
        return 0
    if len({run.name for run in args.net}) != len(args.net):
        parser.error("each --net needs its own name")
    train_all(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
