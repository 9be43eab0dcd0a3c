"""The command line: `python -m emotion.annotate IN [OUT] [--json]` on real photos and a video made from them."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import cv2
import pytest

from emotion.annotate import main
from tests.support.browser import letterbox
from tests.support.files import BUNDLED_TFLITE, ROOT, TEST_DATA, read_photo


def test_image_json_lists_every_face(capsys, tmp_path):
    out = tmp_path / "labelled.png"
    assert main([str(TEST_DATA / "facerec_two_people.jpg"), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["faces"]) == 2
    face = report["faces"][0]
    assert set(face) == {"box", "label", "confidence", "probabilities"}
    assert len(face["box"]) == 4 and face["label"] in face["probabilities"]
    assert face["confidence"] == max(face["probabilities"].values())
    written = cv2.imread(str(out))
    assert written.shape == read_photo("facerec_two_people.jpg").shape


def test_summary_without_json(capsys):
    assert main([str(TEST_DATA / "facerec_obama.jpg")]) == 0
    assert capsys.readouterr().out.startswith("1 face(s): ")


def test_video_gives_one_entry_per_frame(tmp_path, capsys):
    video = tmp_path / "clip.mp4"
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
    frames = [letterbox(read_photo("facerec_obama.jpg"))] * 5 + [letterbox(read_photo("facerec_two_people.jpg"))] * 5
    for frame in frames:
        writer.write(frame)
    writer.release()
    out = tmp_path / "labelled.mp4"
    assert main([str(video), str(out), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert [frame["frame"] for frame in report["frames"]] == list(range(10))
    assert [len(frame["faces"]) for frame in report["frames"]] == [1] * 5 + [2] * 5
    capture = cv2.VideoCapture(str(out))
    assert int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) == 10


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda p: p / "missing.jpg", "no such file"),
        (lambda p: (p / "fake.jpg").write_bytes(b"not an image") and p / "fake.jpg", "not an image this app can read"),
        (lambda p: (p / "fake.mp4").write_bytes(b"not a video") and p / "fake.mp4", "could not be opened as a video|no readable"),
    ],
)
def test_bad_inputs_give_a_message_and_exit_2(tmp_path, capsys, make, message):
    assert main([str(make(tmp_path))]) == 2
    assert re.search(message, capsys.readouterr().err)


def test_missing_model_is_explained():
    result = subprocess.run(
        [sys.executable, "-m", "emotion.annotate", str(TEST_DATA / "facerec_obama.jpg"), "--model", "nowhere.tflite"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 2 and "python -m emotion.training.train" in result.stderr


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "emotion.annotate", *args], cwd=ROOT, capture_output=True, text=True)


def short_video(path):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 10, (640, 480))
    for _ in range(3):
        writer.write(letterbox(read_photo("facerec_obama.jpg")))
    writer.release()
    return path


@pytest.mark.parametrize(
    ("source", "output", "message"),
    [
        ("photo", "out.gifx", r"error: cannot write \S*out\.gifx: there is no image writer for \.gifx files; name it \.jpg"),
        ("photo", "no-such-folder/out.png", r"error: cannot write \S*out\.png: the folder \S*no-such-folder does not exist"),
        ("video", "no-such-folder/out.mp4", r"error: cannot write \S*out\.mp4: the folder \S*no-such-folder does not exist"),
        ("video", "out.jpg", r"error: cannot write \S*out\.jpg: the input is a video, so the output is a video too.*\.mp4"),
        ("video", "out.xyz", r"error: cannot write \S*out\.xyz: .*no video writer for \.xyz files; name it \.mp4, \.avi"),
        ("video", "out.webm", r"error: cannot write \S*out\.webm: .*no video writer for \.webm files"),
        ("photo", "out.mp4", r"error: cannot write \S*out\.mp4: there is no image writer for \.mp4 files"),
    ],
    ids=["unknown-suffix", "missing-folder", "video-missing-folder", "video-as-jpg", "video-xyz", "video-webm", "photo-mp4"],
)
def test_an_output_that_cannot_be_written_is_explained(tmp_path, source, output, message):
    """Finding 11 (3): out.gifx gave OpenCV's traceback; a missing folder was blamed on the name.
    Issue #25: a video written to out.jpg exited 0; an unknown video suffix printed OpenCV's assertion first."""
    given = TEST_DATA / "facerec_obama.jpg" if source == "photo" else short_video(tmp_path / "clip.mp4")
    result = run_cli(str(given), str(tmp_path / output))
    assert result.returncode == 2, result.stderr
    assert re.search(message, result.stderr), result.stderr
    assert result.stderr.count("\n") == 1, result.stderr  # the one error line: no OpenCV log, no traceback
    assert not (tmp_path / output).exists()


@pytest.mark.parametrize("suffix", [".avi", ".mkv"])
def test_a_video_is_written_in_each_named_container(tmp_path, suffix):
    out = tmp_path / f"labelled{suffix}"
    result = run_cli(str(short_video(tmp_path / "clip.mp4")), str(out))
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert int(cv2.VideoCapture(str(out)).get(cv2.CAP_PROP_FRAME_COUNT)) == 3


@pytest.mark.parametrize(
    ("option", "message"),
    [
        (["--max-faces", "-1"], "argument --max-faces: must be at least 1, not -1"),
        (["--max-faces", "0"], "argument --max-faces: must be at least 1, not 0"),
        (["--min-face", "0"], "argument --min-face: must be at least 1, not 0"),
        (["--min-neighbors", "-2"], "argument --min-neighbors: must be at least 0, not -2"),
        (["--max-faces", "two"], "argument --max-faces: 'two' is not a whole number"),
        (["--scale-factor", "1"], r"argument --scale-factor: must be above 1 \(each step of the image pyramid .*\), not 1"),
    ],
)
def test_impossible_settings_are_refused_by_the_parser(capsys, option, message):
    """Issue #25: --max-faces -1 ran and printed "no face found"."""
    with pytest.raises(SystemExit) as exit_:
        main([str(TEST_DATA / "facerec_obama.jpg"), *option])
    assert exit_.value.code == 2
    assert re.search(message, capsys.readouterr().err)


def test_a_folder_given_as_input_is_called_a_folder(tmp_path, capsys):
    """Issue #25: a folder was reported as "no such file"."""
    assert main([str(tmp_path)]) == 2
    assert f"error: {tmp_path} is a folder; give one image or video file" in capsys.readouterr().err


def test_the_module_runs_from_any_folder(tmp_path):
    """Issue #25: the models are found beside the package, not in the working folder."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    photo = TEST_DATA / "facerec_obama.jpg"
    command = [sys.executable, "-m", "emotion.annotate", str(photo)]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 face(s): ")


def test_the_console_script_runs_from_any_folder_after_an_editable_install(tmp_path):
    """README: `pip install -e .` gives `emotion-annotate`, which works wherever it is run. Installed into
    a throwaway environment that sees this one's packages; offline where setuptools is already here."""
    import importlib.util
    import tomllib

    script = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["emotion-annotate"]
    assert script == "emotion.annotate:script"
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    offline = ["--no-build-isolation", "--no-index"] if importlib.util.find_spec("setuptools") else []
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--no-deps", *offline, "-e", str(ROOT)]
    installed = subprocess.run(pip, capture_output=True, text=True)
    assert installed.returncode == 0, installed.stderr
    result = subprocess.run(
        [str(venv / "bin" / "emotion-annotate"), str(TEST_DATA / "facerec_obama.jpg"), "out.png"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 face(s): ") and (tmp_path / "out.png").is_file()


def test_the_command_line_prints_its_answer_without_litert_notices():
    """Finding 11 (4): every run printed LiteRT's "INFO: Created TensorFlow Lite XNNPACK delegate for CPU." """
    result = run_cli(str(TEST_DATA / "facerec_obama.jpg"), "--detector", "blazeface")  # both LiteRT models
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("1 face(s): ")
    assert "XNNPACK" not in result.stderr and not re.search(r"^INFO", result.stderr, re.MULTILINE), result.stderr


def test_model_errors_still_reach_the_user(tmp_path):
    broken = tmp_path / "broken.tflite"
    broken.write_bytes(BUNDLED_TFLITE.read_bytes()[:5000])
    result = run_cli(str(TEST_DATA / "facerec_obama.jpg"), "--model", str(broken))
    assert result.returncode == 2
    assert re.search(r"^error: model file \S+ is not a valid LiteRT model \(.+\)", result.stderr, re.MULTILINE), result.stderr


def test_only_litert_notices_are_held_back_from_standard_error(capfd):
    """What LiteRT's C++ code writes to standard error while an interpreter starts comes through,
    save its XNNPACK notice: real errors are never hidden."""
    from emotion.litert import litert_notices_held_back

    with litert_notices_held_back():
        os.write(2, b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n")
        os.write(2, b"ERROR: Didn't find op for builtin opcode 'X'\n")
    assert capfd.readouterr().err == "ERROR: Didn't find op for builtin opcode 'X'\n"
