"""The frame pipeline on real photographs: detection counts, classification, drawing, tracking."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from emotion.detection import DetectionSettings
from emotion.detection.haar import HaarDetector
from emotion.labels import EMOTIONS
from emotion.pipeline import PipelineSettings, analyze_frame
from emotion.tracking import RENEW_PER_FRAME, FaceTracker, iou
from tests.support.files import read_photo

# tests/data/README.md's Haar counts: full-resolution grey image, scaleFactor 1.1, minNeighbors 5, minSize 30.
HAAR_COUNTS = {
    "facerec_obama.jpg": 1,
    "facerec_biden.jpg": 1,
    "facerec_two_people.jpg": 2,
    "group_of_three.png": 3,
    "group_of_six.png": 6,
    "crowd_of_24.png": 24,
    "one_turned.png": 2,  # misses the turned face
    "no_face.png": 0,
}
FULL_RES = PipelineSettings(detection=DetectionSettings(1.1, 5, 30, detect_width=None), max_faces=50)


@pytest.mark.parametrize(("name", "count"), sorted(HAAR_COUNTS.items()))
def test_face_counts_match_the_reference_detector(models, name, count):
    analysis = analyze_frame(read_photo(name), models, FULL_RES)
    assert len(analysis.faces) == count
    assert analysis.skipped_faces == 0


def test_each_face_gets_a_box_inside_the_frame_and_a_distribution(models):
    image = read_photo("group_of_six.png")
    analysis = analyze_frame(image, models, FULL_RES)
    height, width = image.shape[:2]
    for face in analysis.faces:
        x, y, w, h = face.box
        assert x >= 0 and y >= 0 and x + w <= width and y + h <= height and w >= 30
        assert face.probabilities.shape == (7,)
        assert face.probabilities.sum() == pytest.approx(1.0, abs=1e-4)
        assert face.label == EMOTIONS[int(np.argmax(face.probabilities))]
        assert face.confidence == pytest.approx(float(face.probabilities.max()))
    as_json = analysis.to_json()["faces"][0]
    assert set(as_json) == {"box", "label", "confidence", "probabilities"}
    assert list(as_json["probabilities"]) == list(EMOTIONS)


def test_drawing_marks_the_faces_and_leaves_the_input_untouched(models):
    image = read_photo("facerec_obama.jpg")
    before = image.copy()
    analysis = analyze_frame(image, models, FULL_RES)
    assert np.array_equal(image, before)
    x, y, w, h = analysis.faces[0].box
    changed = np.any(analysis.image != image, axis=2)
    assert changed[y : y + h, x].mean() > 0.9  # the box's left edge is drawn
    assert changed[y + h // 3 : y + 2 * h // 3, x + w // 3 : x + 2 * w // 3].mean() < 0.01  # the face itself is not covered


def test_numbered_faces_carry_their_number_beside_the_box(models):
    """Finding 10 (2): the Photo page numbers each face on the image as in its table."""
    image = read_photo("one_turned.png")
    plain = analyze_frame(image, models, FULL_RES)
    numbered = analyze_frame(image, models, PipelineSettings(FULL_RES.detection, max_faces=50, number_faces=True))
    assert [face.box for face in numbered.faces] == [face.box for face in plain.faces] and len(plain.faces) == 2
    bands = np.any(numbered.image != plain.image, axis=2)
    beside = [bands[y : y + h // 2, max(0, x - w // 2) : x + 2] for x, y, w, h in (face.box for face in numbered.faces)]
    assert all(band.sum() > 150 for band in beside), "no number band left of a box's top corner"
    assert bands.sum() == sum(band.sum() for band in beside), "something besides the number bands changed"


def test_a_number_goes_right_of_a_box_at_the_left_edge_and_under_the_label_in_a_box_that_fills_the_frame():
    from emotion.drawing import _band_size, draw_face

    def number_pixels(box: tuple[int, int, int, int]) -> tuple[np.ndarray, np.ndarray]:
        image = np.zeros((240, 320, 3), np.uint8)
        draw_face(image, box, np.eye(7)[3])
        plain = image.copy()
        draw_face(image, box, np.eye(7)[3], number=7)
        return np.nonzero(np.any(image != plain, axis=2))

    rows, columns = number_pixels((2, 100, 120, 120))
    assert len(rows) > 100 and columns.min() >= 2 + 120 - 1 and rows.min() >= 100  # right of the box, at its top
    rows, columns = number_pixels((0, 0, 320, 240))  # the label is inside the box, at its top
    label_height = _band_size("Happy 100%", 1.6)[1]
    assert len(rows) > 100 and rows.min() >= label_height and columns.max() < 80  # under the label, at the left


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> int:
    return max(0, min(a[0] + a[2], b[0] + b[2]) - max(a[0], b[0])) * max(0, min(a[1] + a[3], b[1] + b[3]) - max(a[1], b[1]))


def test_in_a_crowd_no_number_hides_a_label_or_another_number(models):
    """Finding: in group photos a face's number lay under a neighbour's label, drawn after it."""
    from emotion.drawing import draw_faces, face_bands

    crowd = read_photo("crowd_of_24.png")
    faces = [(face.box, face.probabilities) for face in analyze_frame(crowd, models, FULL_RES).faces]
    assert len(faces) > 20
    for show_probabilities in (False, True):
        bands = face_bands(crowd.shape, faces, show_probabilities=show_probabilities, numbers=range(1, len(faces) + 1))
        numbers = [band for band in bands if band.kind == "number"]
        assert [band.text for band in numbers] == [str(n) for n in range(1, len(faces) + 1)]
        assert all(bands.index(band) >= len(bands) - len(numbers) for band in numbers), "numbers are drawn last"
        # With every score shown, a crowd leaves some numbers no free place: then they may cover scores only.
        kinds = ("label", "number") if show_probabilities else ("label", "number", "score")
        hidden = [(n.text, b.text) for n in numbers for b in bands if b is not n and b.kind in kinds and overlap(n.rect, b.rect)]
        assert not hidden, f"numbers over other bands: {hidden}"
        numbered, plain = crowd.copy(), crowd.copy()
        draw_faces(numbered, faces, show_probabilities=show_probabilities, numbers=range(1, len(faces) + 1))
        draw_faces(plain, faces, show_probabilities=show_probabilities)
        for band in (band for band in bands if band.kind in kinds and band.kind != "number"):
            x, y, w, h = band.rect
            assert np.array_equal(numbered[y : y + h, x : x + w], plain[y : y + h, x : x + w]), f"a number painted on {band.text}"


def test_labels_of_neighbouring_faces_do_not_cover_each_other(models):
    """Finding: two faces side by side had their labels drawn over each other ("Happy 90%")."""
    from emotion.drawing import _band_at, _band_size, box_scale, face_bands

    image = read_photo("crowd_of_24.png")  # pairs of faces side by side
    faces = [(face.box, face.probabilities) for face in analyze_frame(image, models, FULL_RES).faces]
    naive = [
        _band_at(image.shape, _band_size(f"{EMOTIONS[p.argmax()]} {p.max():.0%}", box_scale(w)), x, y, above=True)
        for (x, y, w, _), p in faces
    ]
    assert any(overlap(a, b) for i, a in enumerate(naive) for b in naive[i + 1 :]), "every label above its box would fit anyway"
    for show_probabilities in (False, True):
        labels = [band for band in face_bands(image.shape, faces, show_probabilities=show_probabilities) if band.kind == "label"]
        assert len(labels) == len(faces) > 3
        covered = [(a.text, b.text) for i, a in enumerate(labels) for b in labels[i + 1 :] if overlap(a.rect, b.rect)]
        assert not covered, f"labels over each other: {covered}"


def test_a_label_is_not_put_under_a_box_at_the_frames_bottom_where_its_own_scores_would_cover_it():
    from emotion.drawing import face_bands

    happy = np.eye(7)[3]
    bands = face_bands((185, 400, 3), [((100, 0, 80, 40), happy), ((150, 20, 80, 150), happy)], show_probabilities=True)
    labels = [band for band in bands if band.kind == "label"]
    second = bands.index(labels[1])
    own_scores = [band for band in bands[second + 1 :] if band.kind == "score"]
    assert len(own_scores) == 7 and not any(overlap(labels[1].rect, score.rect) for score in own_scores)


def test_a_number_moves_off_a_neighbours_label_or_box_to_the_other_side_of_its_box():
    from emotion.drawing import _band_size, box_scale, face_bands

    happy = np.eye(7)[3]
    band = _band_size("Happy 100%", box_scale(100))[1]
    a = (200, 100, 100, 100)
    for neighbour in ((150, 100 + band + 5, 100, 100), (120, 60, 78, 150)):  # its label, then its box, left of A's top
        bands = face_bands((400, 500, 3), [(a, happy), (neighbour, happy)], numbers=[1, 2])
        first = next(band for band in bands if band.text == "1")
        assert first.rect[:2] == (a[0] + a[2], a[1]), f"A's number is not right of its top corner beside {neighbour}"
    with pytest.raises(ValueError):
        face_bands((400, 500, 3), [(a, happy)], numbers=[1, 2])


def test_no_face_gives_no_result_and_an_unchanged_frame(models):
    crowd = read_photo("crowd_of_24.png")
    tiny_crowd = cv2.resize(crowd, (crowd.shape[1] // 6, crowd.shape[0] // 6), interpolation=cv2.INTER_AREA)
    analysis = analyze_frame(tiny_crowd, models, FULL_RES)  # faces of 11 to 17 pixels: below the minimum size
    assert analysis.faces == [] and analysis.image is tiny_crowd
    blank = np.full((480, 640, 3), 90, np.uint8)
    assert analyze_frame(blank, models).faces == []


def test_faces_beyond_the_cap_are_counted_not_labelled(models):
    capped = PipelineSettings(detection=FULL_RES.detection, max_faces=10)
    analysis = analyze_frame(read_photo("crowd_of_24.png"), models, capped)
    assert len(analysis.faces) == 10 and analysis.skipped_faces == 14
    areas = [w * h for _, _, w, h in (face.box for face in analysis.faces)]
    assert areas == sorted(areas, reverse=True)  # the largest faces are the ones kept


@pytest.mark.parametrize("convert", [cv2.COLOR_BGR2GRAY, cv2.COLOR_BGR2BGRA])
def test_grey_and_bgra_frames_work(models, convert):
    frame = cv2.cvtColor(read_photo("facerec_two_people.jpg"), convert)
    analysis = analyze_frame(frame, models, FULL_RES)
    assert len(analysis.faces) == 2
    assert analysis.image.shape[2] == 3


def test_downscaled_detection_maps_boxes_back_to_the_full_frame(models):
    image = read_photo("facerec_two_people.jpg")
    full = analyze_frame(image, models, FULL_RES)
    fast = analyze_frame(image, models, PipelineSettings(detection=DetectionSettings(1.1, 5, 60, detect_width=320)))
    assert len(fast.faces) == 2
    overlaps = iou(np.array([f.box for f in fast.faces]), np.array([f.box for f in full.faces]))
    assert overlaps.max(axis=1).min() > 0.6


def test_detector_refuses_a_missing_cascade(tmp_path):
    with pytest.raises(FileNotFoundError, match="Haar cascade"):
        HaarDetector(tmp_path / "missing.xml")


def test_tracker_keeps_ids_and_smooths_over_its_window():
    tracker = FaceTracker(window=3)
    box = np.array([[100, 100, 80, 80]])
    one_hot = np.eye(7, dtype=np.float32)
    ids, smooth = tracker.update(box, one_hot[[3]])
    assert ids == [0] and smooth[0, 3] == 1.0
    ids, smooth = tracker.update(box + 4, one_hot[[4]])  # moved a little: same face
    assert ids == [0] and smooth[0, 3] == pytest.approx(0.5) and smooth[0, 4] == pytest.approx(0.5)
    tracker.update(box + 6, one_hot[[4]])
    ids, smooth = tracker.update(box + 8, one_hot[[4]])
    assert smooth[0, 4] == pytest.approx(1.0)  # the window has slid past the Happy frame
    ids, _ = tracker.update(np.array([[400, 100, 80, 80], [108, 108, 80, 80]]), one_hot[[0, 4]])
    assert ids == [1, 0]  # a new face gets a new id; the old one keeps its own


def test_tracker_forgets_faces_gone_for_longer_than_allowed():
    tracker = FaceTracker(max_missed=2)
    box = np.array([[10, 10, 50, 50]])
    tracker.update(box, np.full((1, 7), 1 / 7, np.float32))
    for _ in range(3):
        tracker.update(np.empty((0, 4), np.int32), np.empty((0, 7), np.float32))
    ids, _ = tracker.update(box, np.full((1, 7), 1 / 7, np.float32))
    assert ids == [1]


def test_a_live_tracker_classifies_a_new_face_at_once_a_still_face_at_a_bounded_rate_and_a_moved_face_at_once():
    tracker = FaceTracker(classify_every_ms=200, moved_iou=0.6)
    one_hot = np.eye(7, dtype=np.float32)
    still = np.array([[100, 100, 80, 80]])
    frames = []
    for frame in range(10):  # 15 frames a second: one every 66.7 ms
        now = frame * 1000 / 15
        ids, due = tracker.match(still + (frame % 2), now)
        smoothed = tracker.smooth(ids, due, one_hot[[frame % 7]][: sum(due)], now)
        frames.append((due, smoothed))
    assert [due for due, _ in frames] == [[True], [False], [False], [True], [False], [False], [True], [False], [False], [True]]
    assert frames[1][1][0, 0] == pytest.approx(1.0)  # the last reading stands for the face in between
    assert frames[3][1][0, 3] == pytest.approx(0.25)  # four frames averaged: three of the first reading, one of the new
    ids, due = tracker.match(np.array([[100, 100, 80, 80], [300, 100, 80, 80]]), 700)
    assert ids == [0, 1] and due == [False, True]  # a newcomer at once, the still face not yet
    tracker.smooth(ids, due, one_hot[[5]], 700)
    ids, due = tracker.match(np.array([[130, 100, 80, 80], [300, 100, 80, 80]]), 750)  # the first moved: IoU 0.45
    assert ids == [0, 1] and due == [True, False]
    fresh = FaceTracker(classify_every_ms=200)
    ids, _ = fresh.match(still, 0)
    with pytest.raises(ValueError, match="first frame"):
        fresh.smooth(ids, [False], np.empty((0, 7), np.float32))


def test_a_live_tracker_in_the_pipeline_reads_fewer_faces_and_gives_the_same_labels_on_a_still_scene(models):
    """The same labels and probabilities as reading every face in every frame, for a third of the readings."""
    image = read_photo("facerec_two_people.jpg")
    settings = PipelineSettings(detection=DetectionSettings(min_face=30), draw=False)
    every, bounded = FaceTracker(), FaceTracker(classify_every_ms=200)
    read = []
    for frame in range(12):
        now = frame * 1000 / 15
        expected = analyze_frame(image, models, settings, every, now_ms=now)
        found = analyze_frame(image, models, settings, bounded, now_ms=now)
        assert [face.label for face in found.faces] == [face.label for face in expected.faces]
        assert np.allclose([f.probabilities for f in found.faces], [f.probabilities for f in expected.faces], atol=1e-6)
        read.append(found.classified_faces)
    assert expected.classified_faces == len(expected.faces) == 2
    # Both faces at once when new; then their readings spread, one face a frame at most, each renewed every
    # third or fourth frame (200 ms at 15 fps, the older first).
    assert read == [2, 0, 0, 1, 1, 0, 1, 1, 0, 1, 0, 1]


def test_iou():
    a = np.array([[0, 0, 10, 10]])
    b = np.array([[0, 0, 10, 10], [5, 0, 10, 10], [20, 20, 5, 5]])
    assert iou(a, b)[0].tolist() == pytest.approx([1.0, 50 / 150, 0.0])


def haar(models) -> HaarDetector:
    return models.detectors["haar"]


def test_each_thread_gets_its_own_cascade_and_the_same_answer(models):
    """detectMultiScale is not thread-safe on one cascade: threads must not share it."""
    from concurrent.futures import ThreadPoolExecutor

    gray = cv2.cvtColor(read_photo("group_of_six.png"), cv2.COLOR_BGR2GRAY)
    settings = DetectionSettings(1.1, 5, 30, detect_width=None)
    expected = models.detector().detect(gray, settings)

    def detect(_):
        return id(haar(models).thread_cascade()), models.detector().detect(gray, settings)

    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(detect, range(16)))
    assert len({cascade for cascade, _ in results}) > 1
    assert id(haar(models).thread_cascade()) not in {cascade for cascade, _ in results}
    # The same six boxes; faces of equal size may come in another order (the cascade's own order for ties
    # varies while threads share OpenCV's pool), so the boxes are compared as a set.
    assert len(expected) == 6 and all(sorted(boxes.tolist()) == sorted(expected.tolist()) for _, boxes in results)


def test_a_tracker_that_would_never_renew_a_reading_is_refused():
    with pytest.raises(ValueError, match="at least 1"):
        FaceTracker(classify_every_ms=200, renew_per_frame=0)


@pytest.mark.parametrize("frame_ms", [1000 / 15, 250])  # a camera's pace, and frames slower than the rule
def test_many_faces_readings_spread_over_the_frames_a_few_a_frame_each_face_in_turn(frame_ms):
    tracker = FaceTracker(classify_every_ms=200)
    boxes = np.array([[x, 100, 40, 40] for x in range(0, 600, 50)])  # twelve still faces
    probabilities = np.full((12, 7), 1 / 7, np.float32)
    read, last_read = [], {}
    for frame in range(30):
        now = frame * frame_ms
        ids, due = tracker.match(boxes, now)
        tracker.smooth(ids, due, probabilities[: sum(due)], now)
        read.append(sum(due))
        last_read |= {track_id: frame for track_id, is_due in zip(ids, due) if is_due}
        assert frame - min(last_read.values()) <= 12 // RENEW_PER_FRAME + 2  # in turn (+2: a reading is 200 ms old first)
    assert read[0] == 12  # new faces, at once
    assert max(read[1:]) == RENEW_PER_FRAME  # then a few a frame, however long the frames take
    ids, due = tracker.match(np.vstack([boxes, [[100, 300, 60, 60]]]), 30 * frame_ms)
    assert sum(due) == 1 + RENEW_PER_FRAME and due[-1]  # a newcomer besides
