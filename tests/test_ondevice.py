"""On-device recognition's groundwork (issue #14): the files static/ serves, and the browser's pipeline
(static/ondevice/) against the Python one, in real chromium on the real models."""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from bench.streamlit_client import FiguresReporter
from emotion import PipelineSettings, analyze_frame
from emotion.classifier import EmotionClassifier
from emotion.detection import DETECTOR_DIR, DetectionSettings
from emotion.detection.blazeface import SHORT_RANGE, letterbox, to_rgb
from emotion.detection.windows import WindowedSearch
from emotion.drawing import EMOTION_COLOURS, face_bands
from emotion.live.device import CLASS_REPORT_EVERY_MS, CLASS_SAMPLE_EVERY_MS
from emotion.ondevice import STATIC_DIR, browser_settings, figures_of
from emotion.pipeline import crop_faces
from emotion.preprocess import to_gray
from emotion.tracking import CLASSIFY_EVERY_MS, MOVED_IOU, RENEW_PER_FRAME, FaceTracker, iou
from scripts.fetch_litertjs import LOCAL_IMPORT, SERVED
from tests.support.browser import ARTIFACTS, require_browser, streamlit_server
from tests.support.files import BUNDLED_KERAS, BUNDLED_TFLITE, ROOT, camera_noise, face_tiles, moving_face_frames, read_photo
from tests.support.ondevice import CLASSIFY_CROPS, PHOTO, OnDevicePage, fresh_page, rgba

STATIC = ROOT / "static"
BROWSER_MODEL = STATIC / "models" / "emotion_cnn_b1.tflite"
BROWSER_DETECTOR = STATIC / "models" / "face_detection_short_range.tflite"
# BlazeFace short range on the test photos: portraits, a pair, threes, a group of six, a crowd, no face.
DETECTOR_PHOTOS = (
    "facerec_obama.jpg",
    "facerec_biden.jpg",
    "facerec_two_people.jpg",
    "group_of_three.png",
    "one_turned.png",
    "group_of_six.png",
    "crowd_of_24.png",
    "no_face.png",
)
CREATE = (
    "async ([settings, options]) => (await import('/app/static/ondevice/pipeline.js')).OnDevicePipeline.create(settings, options)"
)


def recorded_hashes(readme: str) -> dict[str, str]:
    """file -> sha256 from a README's table rows that end in a sha256."""
    return dict(re.findall(r"^\| (\S+) \|.*\| ([0-9a-f]{64}) \|$", readme, re.M))


def sha256(path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_the_served_litert_files_are_the_recorded_ones():
    recorded = recorded_hashes((STATIC / "litert" / "README.md").read_text())
    recorded = {name: digest for name, digest in recorded.items() if not name.startswith("@")}  # not the tarballs' rows
    assert set(recorded) == set(SERVED)
    for name, digest in recorded.items():
        assert sha256(STATIC / "litert" / name) == digest, name
    assert LOCAL_IMPORT in (STATIC / "litert" / "index.js").read_text()
    assert "Apache License\n                           Version 2.0" in (STATIC / "litert" / "LICENSE").read_text()


def test_the_browser_models_are_the_recorded_ones():
    recorded = recorded_hashes((STATIC / "README.md").read_text())
    assert set(recorded) == {BROWSER_MODEL.name, BROWSER_DETECTOR.name}
    for name, digest in recorded.items():
        assert sha256(STATIC / "models" / name) == digest, name


def test_the_browser_runs_the_servers_face_detector():
    assert BROWSER_DETECTOR.read_bytes() == (DETECTOR_DIR / BROWSER_DETECTOR.name).read_bytes()


def test_the_browser_emotion_model_gives_the_served_probabilities(fer_faces):
    browser, served = EmotionClassifier(BROWSER_MODEL), EmotionClassifier(BUNDLED_TFLITE)
    assert browser.fixed_batch and not served.fixed_batch
    assert np.allclose(browser.predict(fer_faces), served.predict(fer_faces), atol=1e-6)


def test_a_fixed_batch_export_classifies_any_number_of_faces(tmp_path, fer_faces):
    out = tmp_path / "b2.tflite"
    command = [sys.executable, "-m", "emotion.training.export", "--model", str(BUNDLED_KERAS), "--batch", "2", "--out", str(out)]
    subprocess.run(command, cwd=ROOT, check=True, capture_output=True)
    fixed, served = EmotionClassifier(out), EmotionClassifier(BUNDLED_TFLITE)
    assert fixed.fixed_batch
    five = fer_faces[:5]  # two full batches and one padded
    assert np.allclose(fixed.predict(five), served.predict(five), atol=1e-6)
    assert fixed.predict(five[:0]).shape == (0, 7)


def test_the_browser_settings_come_from_the_python_pipeline():
    settings = json.loads(json.dumps(browser_settings()))  # as the page receives them
    tracker = FaceTracker()
    assert settings["tracker"] == {
        "window": tracker.window,
        "minIou": tracker.min_iou,
        "maxMissed": tracker.max_missed,
        "classifyEveryMs": CLASSIFY_EVERY_MS,  # the live paths' rule: the server's LiveStream reads faces as often
        "movedIou": MOVED_IOU,
        "renewPerFrame": RENEW_PER_FRAME,
    }
    assert settings["detector"]["strides"] == list(SHORT_RANGE.strides)
    assert settings["detector"]["fit"]["centreDown"] == SHORT_RANGE.fit.centre_down
    assert settings["colours"]["Angry"] == "#dc2828" and EMOTION_COLOURS["Angry"] == (40, 40, 220)  # BGR to CSS
    assert all((STATIC_DIR / path).is_file() for path in settings["files"].values())
    assert settings["hashes"] == {path: sha256(STATIC_DIR / path) for path in settings["files"].values()}  # cache.js's keys
    custom = browser_settings(PipelineSettings(detection=DetectionSettings(min_face=40, min_score=0.7), max_faces=3))
    assert (custom["minFace"], custom["maxFaces"], custom["detector"]["minScore"]) == (40, 3, 0.7)


# ---- in chromium, through the real Streamlit server's /app/static/ ----


@pytest.fixture(scope="module")
def server():
    require_browser()
    ARTIFACTS.mkdir(exist_ok=True)
    with streamlit_server(log_path=ARTIFACTS / "ondevice-streamlit.log") as running:
        yield running.url


@pytest.fixture(scope="module")
def ondevice(server, browser):
    page = OnDevicePage(browser, server, browser_settings())
    yield page
    page.close()


@pytest.mark.browser
def test_the_browser_gives_the_python_classifiers_probabilities(ondevice, fer_faces, models):
    image = read_photo("facerec_two_people.jpg")
    photo_crops = crop_faces(to_gray(image), models.detector("blazeface").detect(image, PHOTO))
    crops = np.concatenate([fer_faces, photo_crops]).astype(np.float32)
    ondevice.put("crops", crops.tobytes())
    found = ondevice.evaluate(CLASSIFY_CROPS)
    expected = EmotionClassifier(BUNDLED_TFLITE).predict(crops)
    assert len(found) == len(crops) == len(fer_faces) + 2
    difference = np.abs(np.array(found) - expected).max()
    print(f"largest difference of {len(crops)} faces' probabilities: {difference:.2e}")
    assert difference < 0.01


@pytest.mark.browser
@pytest.mark.parametrize("photo", ["facerec_two_people.jpg", "group_of_three.png"])
def test_the_browser_cuts_and_scales_faces_as_python_does(ondevice, models, photo):
    """Grey levels and 48x48 inputs equal OpenCV's on a real photo, for the detector's boxes and for
    boxes that take every one of cv2.resize's paths (and one that leaves the frame)."""
    image = read_photo(photo)
    height, width = image.shape[:2]
    boxes = [list(map(int, box)) for box in models.detector("blazeface").detect(image, PHOTO)]
    boxes += [
        [0, 0, 30, 20],  # enlarged: INTER_LINEAR
        [width - 70, height - 40, 70, 40],  # one side shrinks: INTER_AREA as OpenCV's bilinear variant
        [10, 10, 96, 96],  # 2x2 blocks
        [5, 7, 144, 144],  # 3x3 blocks
        [40, 30, 100, 61],  # overlap weights
        [width // 2, height // 2, 48, 48],  # as it is
        [width - 20, 0, 60, 60],  # past the frame's edge: cut at it, as numpy slicing cuts
    ]
    grey = to_gray(image)
    ondevice.put("frame", rgba(image))
    ondevice.put("grey", grey.tobytes())
    found = ondevice.evaluate(
        """async ([width, height, boxes]) => {
      const frame = await bytes('frame');
      const grey = M.greyFromRGBA(frame, width, height), expected = await bytes('grey');
      const greyDiffers = grey.reduce((n, v, i) => n + (v !== expected[i]), 0);
      return {
        greyDiffers,
        inputs: boxes.map((box) => Array.from(M.faceToInput(grey, width, height, box))),
        fromRGBA: boxes.map((box) => Array.from(M.faceToInput(frame, width, height, box, 48, 4))),  // only the box turned grey
      };
    }""",
        [width, height, boxes],
    )
    assert found["greyDiffers"] == 0
    expected = crop_faces(grey, np.array(boxes))
    assert np.array_equal(np.array(found["inputs"], np.float32).reshape(expected.shape), expected)
    assert np.array_equal(np.array(found["fromRGBA"], np.float32).reshape(expected.shape), expected)


@pytest.mark.browser
@pytest.mark.parametrize("size", [(640, 480), (500, 333), (100, 60)])  # whole 5x5 blocks, overlap weights, enlarged
def test_the_browser_letterboxes_a_canvas_frame_for_blazeface_as_python_does(ondevice, size):
    image = cv2.resize(read_photo("facerec_two_people.jpg"), size, interpolation=cv2.INTER_AREA)
    square, scale, left, top = letterbox(to_rgb(image), SHORT_RANGE.input_size)
    ondevice.put("frame", rgba(image))
    found = ondevice.evaluate(
        "async ([w, h, side]) => { const b = M.letterbox(await bytes('frame'), w, h, side, 4); "
        "return { input: Array.from(b.input), scale: b.scale, left: b.left, top: b.top }; }",
        [*size, SHORT_RANGE.input_size],
    )
    assert (found["scale"], found["left"], found["top"]) == (scale, left, top)
    expected = square.astype(np.float32) / 127.5 - 1  # as BlazeFaceDetector feeds it
    assert np.array_equal(np.array(found["input"], np.float32).reshape(square.shape), expected)


@pytest.mark.browser
def test_the_browser_finds_the_faces_python_finds(ondevice, models):
    compared = []
    for photo in DETECTOR_PHOTOS:
        image = read_photo(photo)
        height, width = image.shape[:2]
        ondevice.put(photo, rgba(image))
        found = np.array(
            ondevice.evaluate("async ([name, w, h]) => pipeline.detect(await bytes(name), w, h, 30)", [photo, width, height])
        ).reshape(-1, 4)
        expected = models.detector("blazeface").detect(image, PHOTO)
        assert len(found) == len(expected), photo
        if len(found):
            overlaps = iou(found, expected)
            assert overlaps.max(axis=1).min() >= 0.8, photo
        compared.append((photo, len(found), int(np.array_equal(found, expected))))
    print("photo, faces, boxes identical:", compared)


@pytest.mark.browser
@pytest.mark.parametrize("photo", ["facerec_two_people.jpg", "one_turned.png"])
def test_the_browser_pipeline_labels_a_photo_as_python_does(ondevice, models, photo):
    image = read_photo(photo)
    height, width = image.shape[:2]
    ondevice.put(photo, rgba(image))
    found = ondevice.evaluate(
        """async ([name, w, h]) => {
      const frame = new ImageData(new Uint8ClampedArray((await bytes(name)).buffer), w, h);
      return pipeline.analyze(frame, { minFace: 30, track: false });
    }""",
        [photo, width, height],
    )
    expected = analyze_frame(image, models, PipelineSettings(detection=PHOTO, draw=False)).faces
    assert [face["box"] for face in found["faces"]] == [list(face.box) for face in expected]
    assert [face["label"] for face in found["faces"]] == [face.label for face in expected]
    probabilities = np.array([face["probabilities"] for face in found["faces"]])
    difference = np.abs(probabilities - np.array([face.probabilities for face in expected])).max()
    print(f"{photo}: largest difference of the faces' probabilities {difference:.2e}")
    assert difference < 0.01
    assert found["skipped"] == 0 and (found["width"], found["height"]) == (width, height)


def tracking_sequence(frames: int = 40, seed: int = 3) -> list[tuple[np.ndarray, np.ndarray]]:
    """Boxes and probabilities of a webcam-like scene: faces drift, one blinks out for three frames,
    one for eight (and comes back as a new face), a newcomer overlaps another, two sit side by side."""
    rng = np.random.default_rng(seed)
    faces = {"a": [100, 100, 90, 90], "b": [300, 120, 80, 80], "c": [180, 110, 85, 85]}
    sequence = []
    for frame in range(frames):
        boxes = []
        for name, box in faces.items():
            box[0] += int(rng.integers(-6, 7))
            box[1] += int(rng.integers(-4, 5))
            gone = (name == "b" and 10 <= frame < 13) or (name == "c" and (frame < 5 or 20 <= frame < 28))
            if not gone:
                boxes.append(list(box))
        if frame >= 30:
            boxes.append([boxes[0][0] + 30, boxes[0][1] + 20, 90, 90])  # overlaps the first face
        logits = rng.normal(size=(len(boxes), 7))
        probabilities = (np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)).astype(np.float32)
        sequence.append((np.array(boxes, np.int32).reshape(-1, 4), probabilities))
    return sequence


@pytest.mark.browser
def test_the_browser_runs_blazeface_on_the_frames_python_does(ondevice, models):
    """WindowedSearch's rule for a face finder without a window search: every frame where a face changed or
    a face was missed, and every few frames; the same frames, the same decisions, the same boxes, whether
    the frame comes as ImageData or drawn on a canvas (as the camera's video is)."""
    still_face = moving_face_frames(frames=1)[0]
    noisy = camera_noise(still_face, np.random.default_rng(2), 2)
    newcomer = still_face.copy()
    newcomer[140:320, 420:600] = cv2.resize(face_tiles()[1], (180, 180))
    turned = np.ascontiguousarray(newcomer.transpose(1, 0, 2))  # a phone turned: the same faces, 480x640
    nudged = np.roll(turned, 1, axis=1)  # moved a pixel
    covered = np.full_like(turned, 90)  # the faces hidden for a frame: that search misses them
    brighter = [np.clip(turned.astype(np.int16) + levels, 0, 255).astype(np.uint8) for levels in (3, 4)]
    frames = (moving_face_frames(frames=4, step=16) + [still_face, noisy] * 3 + [newcomer] * 5 + [turned] * 2
              + [nudged, turned, turned, covered, turned, turned, *brighter])
    blazeface, search, expected = models.detector("blazeface"), WindowedSearch(), []
    for frame in frames:
        before = search.full_searches
        boxes = search.detect(blazeface, frame, DetectionSettings(detector="blazeface"))
        expected.append([search.full_searches > before, boxes.tolist()])
    for number, frame in enumerate(frames):
        ondevice.put(f"frame {number}", rgba(frame))
    found = ondevice.evaluate(
        """async (sizes) => {
      pipeline.reset();
      const out = [];
      for (const [i, [width, height]] of sizes.entries()) {
        const pixels = new ImageData(new Uint8ClampedArray((await bytes(`frame ${i}`)).buffer), width, height);
        let frame = pixels;
        if (i % 2) {  // every other frame drawn on a canvas: read through the canvas, as a video is
          frame = new OffscreenCanvas(width, height);
          frame.getContext('2d').putImageData(pixels, 0, 0);
        }
        const { searched, faces } = await pipeline.analyze(frame, { now: (i * 1000) / 15 });
        out.push([searched, faces.map((face) => face.box)]);
      }
      return out;
    }""",
        [[frame.shape[1], frame.shape[0]] for frame in frames],
    )
    assert found == expected
    searched = [searched for searched, _ in expected]
    assert searched[:18] == [True] * 5 + [False] * 4 + [True] + [False] * 4 + [True] * 2 + [False, True]
    assert [len(boxes) for _, boxes in expected][10:15] == [1, 1, 1, 1, 2]  # a newcomer: found by the next full search
    assert searched[18:] == [True, False, True, True, False, False, True]  # back, kept, covered, missed: searched, kept, +3, +4


@pytest.mark.browser
def test_the_browser_tracks_faces_as_python_does(ondevice):
    sequence = tracking_sequence()
    tracker = FaceTracker()
    expected = [tracker.update(boxes, probabilities) for boxes, probabilities in sequence]
    found = ondevice.evaluate(
        """(frames) => {
      const tracker = new M.FaceTracker(settings.tracker);
      return frames.map(([boxes, probabilities]) => {
        const { ids, smoothed } = tracker.update(boxes, probabilities);
        return [ids, smoothed.map((p) => Array.from(p))];
      });
    }""",
        [[boxes.tolist(), probabilities.tolist()] for boxes, probabilities in sequence],
    )
    assert [ids for ids, _ in found] == [ids for ids, _ in expected]
    assert max(ids for frame_ids, _ in expected for ids in frame_ids) >= 4  # new faces were made
    for (_, smoothed), (_, want) in zip(found, expected):
        assert np.allclose(np.array(smoothed).reshape(want.shape), want, atol=1e-6)


def crowd_sequence(frames: int = 20) -> list[tuple[np.ndarray, np.ndarray]]:
    """Twelve faces side by side that hardly move, as a group at one webcam."""
    rng = np.random.default_rng(5)
    boxes = np.array([[50 + 90 * (i % 6), 100 + 120 * (i // 6), 80, 80] for i in range(12)])
    return [(boxes + rng.integers(-2, 3, size=boxes.shape), rng.dirichlet(np.ones(7), size=12).astype(np.float32))
            for _ in range(frames)]


@pytest.mark.browser
@pytest.mark.parametrize("scene, frame_ms", [("webcam", 1000 / 15), ("crowd", 1000 / 15), ("crowd", 250)])
def test_the_browser_reads_tracked_faces_at_the_rate_python_does(ondevice, scene, frame_ms):
    """The live rule (a new face at once, a still one every CLASSIFY_EVERY_MS, a moved one at once, a few old
    readings a frame at most), same frames, at a camera's 15 fps and at frames slower than the rule."""
    sequence = tracking_sequence() if scene == "webcam" else crowd_sequence()
    tracker = FaceTracker(classify_every_ms=CLASSIFY_EVERY_MS, moved_iou=MOVED_IOU)
    expected = []
    for frame, (boxes, probabilities) in enumerate(sequence):
        ids, due = tracker.match(boxes, frame * frame_ms)
        expected.append((ids, due, tracker.smooth(ids, due, probabilities[due], frame * frame_ms)))
    found = ondevice.evaluate(
        """([frames, frameMs]) => {
      const tracker = new M.FaceTracker(settings.tracker);
      return frames.map(([boxes, probabilities], frame) => {
        const now = frame * frameMs, { ids, due } = tracker.match(boxes, now);
        const smoothed = tracker.smooth(ids, due, probabilities.filter((_, i) => due[i]), now);
        return [ids, due, smoothed.map((p) => Array.from(p))];
      });
    }""",
        [[[boxes.tolist(), probabilities.tolist()] for boxes, probabilities in sequence], frame_ms],
    )
    assert [[ids, due] for ids, due, _ in found] == [[ids, due] for ids, due, _ in expected]
    faces = sum(len(due) for _, due, _ in expected)
    assert 0 < sum(sum(due) for _, due, _ in expected) < faces / 2  # most faces kept their reading
    if scene == "crowd":
        assert max(sum(due) for _, due, _ in expected[1:]) == RENEW_PER_FRAME
    for (_, _, smoothed), (_, _, want) in zip(found, expected):
        assert np.allclose(np.array(smoothed).reshape(want.shape), want, atol=1e-6)


def test_a_figures_message_gives_each_sample_its_age():
    message = {"faces": [[0.1] * 7], "skipped": 0, "fps": 5.0, "msMedian": 20, "frames": 30, "at": 10_000.0,
               "samples": [{"at": 8_500.0, "faces": []}, {"at": 10_000.0, "faces": [[0.1] * 7]}]}
    figures = figures_of(message)
    assert [(age, len(faces)) for age, faces in figures.samples] == [(1.5, 0), (0.0, 1)]
    assert figures.at == 10_000.0 and len(figures.faces) == 1 and figures.fps == 5.0
    # A page still running a camera.js from before the samples (a browser's cached copy): its faces, one sample.
    del message["samples"]
    assert [(age, len(faces)) for age, faces in figures_of(message).samples] == [(0.0, 1)]


@pytest.mark.parametrize(
    "change",
    [
        {"faces": [[0.5] * 6]},  # six probabilities, not seven
        {"faces": [[float("nan")] * 7]},
        {"faces": "Happy"},
        {"at": "now"},
        {"at": None},
        {"faces": [[0.1] * 7] * 21},  # more faces than the browser's pipeline reads (max_faces, 20)
    ],
)
def test_a_message_that_is_not_figures_is_ignored(change):
    message = {"faces": [[0.1] * 7], "skipped": 0, "fps": 5.0, "msMedian": 20, "frames": 30, "at": 10_000.0, "samples": []}
    assert figures_of(message) is not None
    assert figures_of({**message, **change}) is None


def test_a_sample_that_is_not_one_is_left_out_and_the_others_kept():
    good = {"at": 9_000.0, "faces": [[0.1] * 7]}
    bad = [{"faces": [[0.1] * 7]}, {"at": 9_500.0, "faces": [[2.0] * 7]}, "sample", None, {"at": "later", "faces": []}]
    message = {"faces": [], "skipped": -3, "fps": "fast", "msMedian": None, "frames": 30, "at": 10_000.0, "samples": [*bad, good]}
    figures = figures_of(message)
    assert figures is not None and [(age, len(faces)) for age, faces in figures.samples] == [(1.0, 1)]
    assert figures.skipped == 0 and figures.fps is None


def face_counts(seconds: float = 20, fps: float = 15) -> list[tuple[float, int]]:
    """(ms, faces in view) a frame: a face, none from 5.3 s, two from 9.1 s, then one from 9.5 s (a flicker)."""
    def faces(t: float) -> int:
        return 1 if t < 5.3 else 0 if t < 9.1 else 2 if t < 9.5 else 1
    return [(frame * 1000 / fps, faces(frame / fps)) for frame in range(int(seconds * fps))]


@pytest.mark.browser
def test_the_browser_reports_figures_by_the_rule_the_bench_students_follow(ondevice):
    """static/ondevice/reporter.js against bench.streamlit_client.FiguresReporter, a class room's cadence:
    a sample a second, two a message, and a change in the face count sent at once (not within a second)."""
    frames = face_counts()
    reporter = FiguresReporter(CLASS_SAMPLE_EVERY_MS, CLASS_REPORT_EVERY_MS)
    expected = []
    for frame, (now, count) in enumerate(frames):
        message = reporter.offer(now, [[1 / 7] * 7] * count)
        if message is not None:
            expected.append([frame, [len(sample["faces"]) for sample in message["figures"]["samples"]]])
    found = ondevice.evaluate(
        """([frames, cadence]) => {
      const sent = [];
      let frame = 0;
      const counts = (message) => message.samples.map((sample) => sample.faces.length);
      const reporter = new M.FiguresReporter(cadence, (message) => sent.push([frame, counts(message)]));
      const read = { skipped: 0, fps: 15, msMedian: 10, frames: 30 };
      for (const [now, count] of frames) {
        reporter.offer(now, Array.from({ length: count }, () => ({ probabilities: Array(7).fill(1 / 7) })), read);
        frame += 1;
      }
      return sent;
    }""",
        [frames, {"sampleEveryMs": CLASS_SAMPLE_EVERY_MS, "reportEveryMs": CLASS_REPORT_EVERY_MS}],
    )
    assert found == expected
    seconds = frames[-1][0] / 1000
    assert len(expected) < seconds / 1.5  # fewer messages than one a second
    assert sum(len(samples) for _, samples in expected) >= seconds - 1  # still a sample a second
    switches = [int(5.3 * 15), int(9.1 * 15)]  # frames whose face count is new
    sent_at = [frame for frame, _ in expected]
    for switch in switches:
        assert min(frame for frame in sent_at if frame >= switch) - switch <= 15  # within a second


@pytest.mark.browser
def test_the_browser_draws_a_face_in_the_apps_colours(ondevice):
    pixels = ondevice.evaluate("""() => {
      const context = new OffscreenCanvas(320, 240).getContext('2d');
      const face = { box: [100, 80, 120, 120], label: 'Angry', confidence: 0.83, probabilities: [0.83, 0, 0.1, 0, 0.07, 0, 0] };
      M.drawFaces(context, [face], settings, { showProbabilities: true });
      const at = (x, y) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
      return { edge: at(100, 140), inside: at(160, 140), band: at(101, 78) };
    }""")
    angry = list(reversed(EMOTION_COLOURS["Angry"]))
    assert pixels == {"edge": angry, "inside": [0, 0, 0], "band": angry}  # box, untouched face, label band above


@pytest.mark.browser
def test_the_browser_moves_a_label_off_a_neighbours_as_python_does(ondevice):
    """Two faces side by side: the second face's label would go where the first's lies, so it goes inside its box."""
    pixels = ondevice.evaluate("""() => {
      const context = new OffscreenCanvas(400, 300).getContext('2d');
      const face = (box, label) => ({ box, label, confidence: 0.9, probabilities: [0, 0, 0, 0.9, 0, 0.1, 0] });
      M.drawFaces(context, [face([100, 100, 80, 80], 'Happy'), face([150, 110, 80, 80], 'Surprise')], settings);
      const at = (x, y) => Array.from(context.getImageData(x, y, 1, 1).data.slice(0, 3));
      return { first: at(101, 95), second: at(151, 112), aboveSecond: at(155, 105) };
    }""")
    happy, surprise = (list(reversed(EMOTION_COLOURS[name])) for name in ("Happy", "Surprise"))
    assert pixels["first"] == happy and pixels["second"] == surprise and pixels["aboveSecond"] == [0, 0, 0]
    happy_face = np.array([0, 0, 0, 0.9, 0, 0.1, 0])
    side_by_side = [((100, 100, 80, 80), happy_face), ((150, 110, 80, 80), happy_face)]
    labels = [band.rect for band in face_bands((300, 400, 3), side_by_side)]
    assert labels[0][1] + labels[0][3] == 100 and labels[1][:2] == (150, 110)  # Python: above the first box, inside the second


def within(page, script: str, arg, seconds: float = 20) -> tuple[str, float]:
    """'error: <message>' when `script` rejects, 'no error' when it resolves, 'hang' after `seconds`; and the time taken."""
    started = time.monotonic()
    outcome = page.evaluate(
        f"""async (arg) => {{
      const hang = new Promise((resolve) => setTimeout(() => resolve('hang'), {seconds * 1000}));
      try {{ return await Promise.race([({script})(arg).then(() => 'no error'), hang]); }}
      catch (error) {{ return 'error: ' + error.message; }}
    }}""",
        arg,
    )
    return outcome, time.monotonic() - started


@pytest.mark.browser
def test_a_runtime_that_does_not_load_is_a_clear_error(server, browser):
    settings = browser_settings()
    page = fresh_page(browser, server)
    bad = {**settings, "files": {**settings["files"], "runtime": "litert/wasm/missing.js"}}
    outcome, _ = within(page, CREATE, [bad, {}])
    assert outcome.startswith("error: LiteRT.js's WebAssembly runtime did not load from http") and "missing.js" in outcome
    assert within(page, CREATE, [settings, {}])[0] == "no error"  # the right path still works after a failure
    page.context.close()

    page = fresh_page(browser, server)  # the runtime's script loads, its WebAssembly does not
    page.route("**/*.wasm", lambda route: route.fulfill(status=404, body="not here"))
    outcome, seconds = within(page, CREATE, [settings, {}])
    assert outcome.startswith("error: LiteRT.js's WebAssembly runtime did not load") and "wasm" in outcome
    assert seconds < 15
    page.context.close()


@pytest.mark.browser
def test_a_missing_or_broken_model_is_a_clear_error(server, browser):
    settings = browser_settings()
    page = fresh_page(browser, server)
    missing = {**settings, "files": {**settings["files"], "emotion": "models/missing.tflite"}}
    outcome, _ = within(page, CREATE, [missing, {}])
    assert outcome == f"error: model {server}/app/static/models/missing.tflite could not be fetched: HTTP 404"
    broken = {**settings, "files": {**settings["files"], "detector": "README.md"}}
    outcome, _ = within(page, CREATE, [broken, {}])
    assert outcome.startswith(f"error: model {server}/app/static/README.md is not a model LiteRT.js can run")
    wrong = {**settings, "files": {**settings["files"], "emotion": settings["files"]["detector"]}}
    outcome, _ = within(page, CREATE, [wrong, {}])
    assert outcome.startswith("error: model") and "takes 1x128x128x3" in outcome and "not 1x48x48x1" in outcome
    page.context.close()


NETWORK_FETCHED = ("litert_wasm_compat_internal.js", "litert_wasm_compat_internal.wasm", ".tflite")


@pytest.mark.browser
def test_a_second_visit_downloads_neither_the_runtime_nor_the_models_and_a_changed_file_is_fetched_again(server, browser):
    """static/ondevice/cache.js: the big files come once per content from the network, then from Cache Storage.
    The HTTP cache is off in both pages, so any request for those files is a download."""
    context = browser.new_context()
    fetched: list[str] = []
    context.on("request", lambda request: fetched.append(request.url) if request.url.endswith(NETWORK_FETCHED) else None)

    def visit(settings: dict) -> list[str]:
        fetched.clear()
        page = context.new_page()
        cdp = context.new_cdp_session(page)
        cdp.send("Network.enable")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        page.goto(f"{server}/_stcore/health")
        assert within(page, CREATE, [settings, {}], seconds=60)[0] == "no error"
        page.close()
        return sorted(url.rsplit("/", 1)[1] for url in fetched)

    settings = browser_settings()
    first = visit(settings)
    assert first == sorted(["emotion_cnn_b1.tflite", "face_detection_short_range.tflite",
                            "litert_wasm_compat_internal.js", "litert_wasm_compat_internal.wasm"])
    assert visit(settings) == []  # a reload or a second visit
    emotion = settings["files"]["emotion"]
    changed = {**settings, "hashes": {**settings["hashes"], emotion: "0" * 64}}  # as after a new model's deploy
    assert visit(changed) == ["emotion_cnn_b1.tflite"]  # the one changed file, not a stale copy
    assert visit(settings) == []  # the bytes of the first copy were kept, as they are the expected ones
    context.close()


@pytest.mark.browser
def test_the_runtimes_notices_are_not_console_errors(server, browser):
    """LiteRT.js's runtime prints notices on its standard error; the page logs them as what they are."""
    page = fresh_page(browser, server)
    messages: list[tuple[str, str]] = []
    page.on("console", lambda message: messages.append((message.type, message.text)))
    assert within(page, CREATE, [browser_settings(), {}], seconds=60)[0] == "no error"
    page.wait_for_timeout(200)
    notices = [(kind, text) for kind, text in messages if text.startswith(("INFO:", "WARNING:"))]
    assert notices, "the runtime printed no notice: this test no longer sees what it checks"
    assert [text for kind, text in messages if kind == "error"] == []
    page.context.close()
