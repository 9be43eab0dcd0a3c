"""Several training runs at once on one accelerator machine, within a wall-clock budget.

    # here: FER-2013 in a file small enough to travel (the machine takes at most 64 MiB)
    python -m emotion.training.accelerator pack --data ../shared/data/fer2013.zip --out .devdata/fer2013-train-val.npz.xz
    # there, with KERAS_BACKEND=jax: each --net is a name and that run's own `train` arguments
    python -m emotion.training.accelerator train --data .devdata/fer2013-train-val.npz.xz --out runs/gpu \\
        --budget 480 --net seed11="--seed 11" --net crop21="--crop 40 --seed 21" --archive $OUT

An accelerator is lent for minutes and one small net leaves most of it idle, so the runs share it.
All start together for a timing run, which measures each run's epoch by the clock once every run has
compiled and trains: the first version of this command timed epochs while other runs still compiled,
and on an H200 those came out 40% short, so its runs were stopped before their schedules ended. Then
all start again, each for as many epochs as the rest of the budget holds, since a cosine schedule
must know its length. Each run is `emotion.training.train` in its own process and state folder. A
run still going at the deadline is stopped: its best epoch so far is kept as its net, with a record
saying so (`stopped_run_config`). `--archive` writes each run's folder as one .tar, since the device
tool returns only a few files.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import statistics
import subprocess
import sys
import tarfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from emotion.training.artifacts import CONFIG_FILE, LOG_FILE, MODEL_FILE, read_log_column
from emotion.training.data import SPLITS, DatasetError, pack

RESERVED = {"--data", "--out", "--epochs", "--patience", "--state-dir"}  # set by this command for every run
UNSUPPORTED = {"--flip-average", "--average-last"}  # a run stopped at the deadline could not apply them
TIMING_RUN_EPOCHS = 10**6  # timing runs are stopped once timed, never finish on their own
MARGIN_SECONDS = 20.0  # slack for epochs a little slower than timed and a run's own final save and score
RESCUE_SECONDS = 30.0  # after the runs are stopped: keep their best epochs and archive them


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
    given = {a.split("=")[0] for a in split}
    if RESERVED & given:
        raise argparse.ArgumentTypeError(f"{name}: {', '.join(sorted(RESERVED & given))} is set by this command, not per net")
    if UNSUPPORTED & given:
        raise argparse.ArgumentTypeError(f"{name}: {', '.join(sorted(UNSUPPORTED & given))} is not supported here")
    return Run(name, split)


def earlier_epochs(run: Run) -> int:
    """Rows of the --init model's log, which a fine-tuning run's log starts with (0 for a fresh run)."""
    if "--init" not in run.arguments:
        return 0
    init = Path(run.arguments[run.arguments.index("--init") + 1])
    return len(logged(init.parent, "epoch"))


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


def epoch_seconds(folder: Path, skip: int = 0) -> list[float]:
    """Each epoch's seconds in a run's log, leaving out the first `skip` rows (an --init model's own)."""
    return [float(s) for s in logged(folder, "epoch_seconds")[skip:]]


def logged(folder: Path, column: str) -> list[str]:
    return read_log_column(folder / LOG_FILE, column)


def time_epochs(runs: list[Run], timing: Path, steady_epochs: int, deadline: float) -> dict[str, tuple[float, float]]:
    """(seconds an epoch, seconds to the first epoch's end) of each run, all on the device at once.

    An epoch is timed by the clock between log rows (so the per-epoch saves count), over
    `steady_epochs` epochs begun after every live run had finished its first, compiling epoch. A run
    that fails, before or after, is left out with the end of its output printed.
    """
    started = time.monotonic()
    skip = {run.name: earlier_epochs(run) for run in runs}
    seen: dict[str, list[float]] = {run.name: [] for run in runs}  # when each new log row appeared
    barrier: dict[str, int] | None = None  # rows each run had when the last one finished compiling
    while time.monotonic() < deadline:
        now = time.monotonic() - started
        for run in runs:
            rows = len(epoch_seconds(timing / run.name, skip[run.name]))
            seen[run.name] += [now] * (rows - len(seen[run.name]))
        alive = {run.name for run in runs if run.process and run.process.poll() is None}
        if not alive:
            break
        if barrier is None and all(seen[name] for name in alive):
            barrier = {name: len(seen[name]) for name in alive}
        if barrier is not None and all(len(seen[n]) > barrier[n] + steady_epochs for n in alive & set(barrier)):
            break
        time.sleep(0.2)
    for run in runs:
        stop(run)
    timings = {}
    for run in runs:
        first = (barrier or {}).get(run.name)
        times = seen[run.name]
        if first is not None and len(times) > first + steady_epochs:
            window = times[first : first + steady_epochs + 1]  # from the end of the epoch in progress at the barrier
            timings[run.name] = ((window[-1] - window[0]) / steady_epochs, times[0])
        else:
            log = (timing / run.name / "process.log").read_text()[-3000:]
            print(f"{run.name}: the timing run failed or timed no epoch, left out:\n{log}", flush=True)
    return timings


def epochs_that_fit(epoch: float, first_epoch_end: float, seconds_left: float, max_epochs: int) -> int:
    """Epochs that end in time to keep and archive them; the first also pays the start and the compilation."""
    usable = seconds_left - RESCUE_SECONDS - MARGIN_SECONDS - first_epoch_end
    return max(min(math.floor(usable / epoch) + 1, max_epochs), 0)


def stopped_run_config(folder: Path, argv: list[str], skip: int = 0) -> dict:
    """The record of a run stopped at the deadline, from its arguments, data and log, as training_config.json.

    `skip` is the --init model's own rows at the top of the log. The machine is this process's, which
    runs where the run did.
    """
    from emotion.training.data import load_split
    from emotion.training.distillation import load as load_teacher
    from emotion.training.train import (
        class_weights,
        machine_record,
        parse_args,
        recorded_arguments,
        recorded_class_weights,
        teacher_record,
    )

    args = parse_args(argv)
    seconds = epoch_seconds(folder, skip)
    split = load_split(args.data, "train")
    counts = split.class_counts()
    config = {
        "command": args.command,
        "arguments": recorded_arguments(args),
        "epochs_run": len(seconds) + skip,
        "stopped_at_deadline": {"epochs_planned": args.epochs, "kept": "the best epoch by PublicTest accuracy"},
        "median_epoch_seconds": statistics.median(seconds) if seconds else None,
        "best_val_accuracy": max((float(v) for v in logged(folder, "val_accuracy")[skip:]), default=None),
        "train_class_counts": counts.tolist(),
        "class_weights": recorded_class_weights(class_weights(counts)),
        **machine_record(),
    }
    if args.teacher:
        config["teacher"] = teacher_record(load_teacher(args.teacher, split))
    if args.init:
        init = Path(args.init).parent / CONFIG_FILE
        earlier = json.loads(init.read_text()) if init.exists() else None
        config["started_from"] = {"model": args.init, "config": earlier, "epochs": skip}
    return config


def keep_best_epoch(folder: Path, argv: list[str], skip: int = 0) -> None:
    """A stopped run's folder as a finished one's: its best checkpoint's net as the model, and its record.

    A run stopped after saving its model but before its record gets the record only.
    """
    checkpoints = list(folder.glob(".*_best_raw.keras"))
    if checkpoints:
        import keras

        import emotion.training.augmentation  # noqa: F401 - registers the layer the checkpoint holds

        trainer = keras.models.load_model(checkpoints[0], compile=False)
        net = next(layer for layer in trainer.layers if isinstance(layer, keras.Model))
        net.save(folder / MODEL_FILE)
        checkpoints[0].unlink()  # with its optimizer state it is three times the net, too large to return
    elif not (folder / MODEL_FILE).exists() or (folder / CONFIG_FILE).exists():
        return
    config = stopped_run_config(folder, argv, skip)
    (folder / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")


def archive(out: Path, runs: list[Run], folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for run in runs:
        with tarfile.open(folder / f"{run.name}.tar", "w") as tar:
            tar.add(out / run.name, arcname=run.name)


def summary(out: Path, run: Run) -> dict:
    """What a run reached: its best PublicTest accuracy and epochs, and whether the deadline stopped it."""
    config_path = out / run.name / CONFIG_FILE
    config = json.loads(config_path.read_text()) if config_path.exists() else {}
    accuracy = config.get("best_val_accuracy")
    return {
        "net": run.name,
        "arguments": shlex.join(run.arguments),
        "epochs": len(epoch_seconds(out / run.name, earlier_epochs(run))),
        "val_accuracy": round(accuracy, 4) if accuracy is not None else None,
        "stopped_at_deadline": "stopped_at_deadline" in config,
    }


def plan(runs: list[Run], timing: Path, args: argparse.Namespace, deadline: float) -> dict[str, int]:
    """Epochs for each run that the timing run timed; the others are left out."""
    timings = time_epochs(runs, timing, args.timing_epochs, deadline)
    seconds_left = deadline - time.monotonic()
    epochs = {}
    for run in runs:
        if run.name in timings:
            epoch, first_epoch_end = timings[run.name]
            epochs[run.name] = epochs_that_fit(epoch, first_epoch_end, seconds_left, args.max_epochs)
            print(f"{run.name}: {epoch:.1f} s an epoch with every run at once, {first_epoch_end:.0f} s to the first "
                  f"epoch's end: {epochs[run.name]} epochs", flush=True)  # fmt: skip
    if not timings:
        raise SystemExit("every timing run failed; their output is above")
    return {name: count for name, count in epochs.items() if count}


def train_all(args: argparse.Namespace) -> list[dict]:
    deadline = time.monotonic() + args.budget
    work = Path(args.work)
    for leftover in ("timing", "state"):  # an earlier call's killed runs would otherwise be resumed
        shutil.rmtree(work / leftover, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    data = unpacked(Path(args.data), work)
    every_run: list[Run] = args.net
    out = Path(args.out)
    try:
        start_all(every_run, data, work / "timing", work, [TIMING_RUN_EPOCHS] * len(every_run))
        epochs = plan(every_run, work / "timing", args, deadline)
        runs = [run for run in every_run if run.name in epochs]
        if not runs:
            raise SystemExit("no run has a full epoch left in the budget after the timing run")
        start_all(runs, data, out, work, [epochs[run.name] for run in runs])
        for run in wait_all(runs, deadline - RESCUE_SECONDS):
            try:
                keep_best_epoch(out / run.name, run.argv, earlier_epochs(run))
            except (OSError, ValueError, KeyError) as error:  # a checkpoint cut short by the kill, say
                print(f"{run.name}: its best epoch could not be kept: {error}", flush=True)
        results = [summary(out, run) for run in runs]
        for result in results:
            print(json.dumps(result), flush=True)
        return results
    finally:
        for run in every_run:
            if run.process:
                stop(run)
        if args.archive:
            archive(out, [run for run in every_run if (out / run.name).is_dir()], Path(args.archive))


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
