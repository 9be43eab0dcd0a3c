"""Average independently trained nets inside one Keras model: `python -m emotion.training.ensemble`.

    python -m emotion.training.ensemble --members model/emotion_cnn.keras runs/member-2/emotion_cnn.keras --out model

Nets trained from different seeds (or framings) err differently, so the mean of their probabilities is
right more often than any one of them. Being one Keras model, the ensemble exports to one .tflite file
and the app serves it unchanged. A member given as an ensemble counts as its members, so adding a net
to the bundled ensemble is one command; the ensemble's training_config.json keeps every member's own
recipe and training log (read from the training_config.json and training_log.csv beside each member file).
"""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import keras
from keras import layers

from emotion.training.artifacts import CONFIG_FILE, LOG_FILE, MODEL_FILE, TFLITE_FILE
from emotion.training.model import INPUT_SHAPE

MEMBER_PREFIX = "member_"


def members_of(model: keras.Model) -> list[keras.Model]:
    """The nets an ensemble averages, in order; a single net is its own only member."""
    nested = [layer for layer in model.layers if isinstance(layer, keras.Model) and layer.name.startswith(MEMBER_PREFIX)]
    return nested or [model]


def build_ensemble(members: list[keras.Model]) -> keras.Model:
    """One model whose output is the mean of the members' probabilities (a single net stays as it is)."""
    if not members:
        raise ValueError("an ensemble needs at least one member")
    if len(members) == 1:
        return members[0]
    inputs = keras.Input(INPUT_SHAPE, name="face")
    renamed = [keras.Model(m.inputs[0], m.outputs[0], name=f"{MEMBER_PREFIX}{i}") for i, m in enumerate(members, start=1)]
    outputs = layers.Average(name="emotion")([member(inputs) for member in renamed])
    return keras.Model(inputs, outputs, name=f"ensemble_of_{len(members)}")


class MemberError(ValueError):
    """A member file cannot join an ensemble: unreadable, or without the record of how it was trained."""


def member_records(path: Path, model: keras.Model) -> list[dict]:
    """What is known of each net in `path`: its source, and the config and log of the run that trained it.

    The model card describes every net from these, so a net without its training_config.json is refused.
    """
    config_path, log_path = path.parent / CONFIG_FILE, path.parent / LOG_FILE
    if not config_path.exists():
        raise MemberError(f"{path}: no {CONFIG_FILE} beside it, so nothing says how it was trained")
    config = json.loads(config_path.read_text())
    count = len(members_of(model))
    if "members" in config:
        if len(config["members"]) != count:
            raise MemberError(f"{config_path} describes {len(config['members'])} nets, but {path} holds {count}")
        return list(config["members"])
    if count != 1:
        raise MemberError(f"{config_path} describes one training run, but {path} holds {count} nets")
    return [{"source": str(path), "config": config, "log": log_path.read_text() if log_path.exists() else ""}]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m emotion.training.ensemble", description=__doc__.splitlines()[0])
    parser.add_argument("--members", nargs="+", type=Path, required=True, help=".keras files: nets or ensembles")
    parser.add_argument("--out", type=Path, default=Path("model"), help="folder for the ensemble, its export and config")
    args = parser.parse_args(argv)
    import emotion.training.model  # noqa: F401 - registers the custom layers a saved model may use
    from emotion.training.export import export_where_possible

    members: list[keras.Model] = []
    records: list[dict] = []
    for path in args.members:
        try:
            model = keras.models.load_model(path, compile=False)
            records += member_records(path, model)
        except MemberError as error:
            print(f"error: {error}", file=sys.stderr)
            return 2
        except (OSError, ValueError) as error:
            print(f"error: cannot read {path}: {error}", file=sys.stderr)
            return 2
        members += members_of(model)
    ensemble = build_ensemble(members)
    config = {
        "command": shlex.join(["python", "-m", "emotion.training.ensemble", *(sys.argv[1:] if argv is None else argv)]),
        "members": [{**record, "name": f"{MEMBER_PREFIX}{i}"} for i, record in enumerate(records, start=1)],
    }
    args.out.mkdir(parents=True, exist_ok=True)
    ensemble.save(args.out / MODEL_FILE)
    export_where_possible(ensemble, args.out / TFLITE_FILE, args.out / MODEL_FILE)
    (args.out / CONFIG_FILE).write_text(json.dumps(config, indent=2) + "\n")
    (args.out / LOG_FILE).unlink(missing_ok=True)  # each member's log is in the config now
    print(f"wrote {args.out / MODEL_FILE} and {args.out / TFLITE_FILE}: the mean of {len(members)} nets")
    return 0


if __name__ == "__main__":
    sys.exit(main())
