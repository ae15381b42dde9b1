"""The frame stages: detector, tracker, crop, smoother and the pipeline that chains them, on real faces."""
import cv2
import numpy as np
import pytest

from benchmarks.videos import background_frame, face_frame
from emojify.emotions import EMOTIONS, NUM_CLASSES
from emojify.detect import FaceDetector, FaceTracker, crop_faces, sharpness
from emojify.faces import Face, FramePipeline, Smoother, iou
from emojify.inference import EmotionClassifier, load_model
from emojify.overlay import draw_faces


@pytest.fixture(scope="module")
def classifier(tiny_model_path):
    return EmotionClassifier(load_model(tiny_model_path))


def gray(frame):
    return cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)


@pytest.mark.parametrize("n", [1, 3])
def test_detector_finds_every_face_in_a_640x480_frame(fer_faces, n):
    frame = face_frame(fer_faces[:n], face_px=(200, 180, 160), background=background_frame())
    boxes = FaceDetector()(gray(frame))
    assert len(boxes) == n
    # boxes come back in full-frame pixels, largest first, one per column of the layout
    areas = boxes[:, 2] * boxes[:, 3]
    assert list(areas) == sorted(areas, reverse=True)
    assert sorted(int((x + w / 2) // (640 / n)) for x, y, w, h in boxes) == list(range(n))
    assert all(140 <= w <= 300 for _, _, w, _ in boxes)


def test_faces_of_one_size_come_left_to_right_whatever_the_threads(fer_faces):
    """The main face is the largest; among equals the leftmost, so a run's records never depend on the order
    in which OpenCV's threads found them."""
    frame = face_frame([fer_faces[0]] * 3, face_px=(160,))
    detector = FaceDetector(detect_width=None)
    runs = [detector(cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)) for _ in range(5)]
    assert len(runs[0]) == 3
    assert all(np.array_equal(run, runs[0]) for run in runs)
    areas = runs[0][:, 2] * runs[0][:, 3]
    ties = [i for i in range(2) if areas[i] == areas[i + 1]]
    assert all(runs[0][i, 0] < runs[0][i + 1, 0] for i in ties) and list(areas) == sorted(areas, reverse=True)


def test_downscaled_detection_matches_the_full_frame(fer_faces):
    fast = FaceDetector()
    full = cv2.CascadeClassifier(str(fast.cascade_path))
    for t in np.linspace(0, 3, 8):
        g = gray(face_frame(fer_faces, t=t, background=background_frame()))
        assert len(fast(g)) == len(full.detectMultiScale(g, scaleFactor=1.1, minNeighbors=5)) == 3


def test_no_face_gives_no_result(classifier):
    result = FramePipeline(classifier)(background_frame())
    assert result.faces == [] and result.main is None


def test_crop_resizes_each_box_to_48x48():
    g = np.arange(480 * 640, dtype=np.uint32).reshape(480, 640).astype(np.uint8)
    crops = crop_faces(g, np.array([[10, 20, 100, 100], [600, 440, 80, 80]]))
    assert crops.shape == (2, 48, 48) and crops.dtype == np.uint8


def test_pipeline_classifies_every_face(classifier, fer_faces):
    frame = face_frame(fer_faces, background=background_frame())
    result = FramePipeline(classifier)(frame)
    assert len(result.faces) == 3
    for face in result.faces:
        assert face.emotion in EMOTIONS and 0 < face.confidence <= 1
    assert set(result.timings) == {"detect", "classify"}
    before = frame.copy()
    draw_faces(frame, result.faces)
    assert (frame != before).any(axis=2).sum() > 1000  # boxes and labels were drawn


def test_smoother_follows_a_face_and_forgets_a_new_one():
    smoother = Smoother(alpha=0.5)
    a = np.eye(NUM_CLASSES)[0]
    b = np.eye(NUM_CLASSES)[3]
    smoother([Face((100, 100, 200, 200), a)])
    steady = smoother([Face((105, 100, 200, 200), b)])[0]
    np.testing.assert_allclose(steady.probs, 0.5 * a + 0.5 * b)
    elsewhere = smoother([Face((400, 100, 100, 100), b)])[0]
    np.testing.assert_allclose(elsewhere.probs, b)


def test_tracker_keeps_every_face_the_detector_finds(three_face_video):
    from emojify.capture import open_source
    source = open_source(str(three_face_video))
    detector, tracker = FaceDetector(), FaceTracker(every=5)
    while True:
        ok, frame = source.read()
        if not ok:
            break
        g = gray(frame)
        found, tracked = detector(g), tracker(g)
        assert len(tracked) == len(found) == 3
        for box in found:  # each detected face has a tracked box on it
            assert max(_overlap(box, t) for t in tracked) > 0.6


def _overlap(a, b):
    return iou(tuple(a), tuple(b))


def test_a_cut_to_a_face_elsewhere_is_boxed_in_the_frame_of_the_cut(fer_faces):
    """The tracker lets the old face go and searches the frame at once, not at its next full detection."""
    from benchmarks.videos import background_frame, face_frame
    back = gray(background_frame())
    both = gray(face_frame(fer_faces[:2], face_px=(200,), background=background_frame()))
    left, right = both.copy(), both.copy()
    left[:, 320:], right[:, :320] = back[:, 320:], back[:, :320]  # one face on the left, then another on the right
    tracker = FaceTracker(every=24)
    assert len(tracker(left)) == 1 and len(tracker(left)) == 1  # found, then followed
    found = FaceDetector()(right)
    assert len(found) == 1
    boxes = tracker(right)
    assert len(boxes) == 1 and _overlap(boxes[0], found[0]) > 0.9


def test_a_still_face_is_classified_every_kth_frame_and_a_new_one_at_once(classifier, fer_faces):
    calls = []

    def counting(faces):
        calls.append(len(faces))
        return classifier(faces)

    pipeline = FramePipeline(counting, classify_every=3)
    one = face_frame(fer_faces[:1], background=background_frame())
    results = [pipeline(one) for _ in range(6)]
    assert calls == [1, 1]  # frames 1 and 4
    np.testing.assert_allclose(results[1].faces[0].probs, results[0].faces[0].probs)
    pipeline(face_frame(fer_faces[:2], background=background_frame()))  # a second face walks in
    assert calls == [1, 1, 2]


def test_fer_box_frames_the_face_as_fer_2013_does():
    from emojify.detect import FER_LEFT, FER_TOP, FER_WIDTH, fer_box
    x, y, w, side = fer_box((100, 80, 96, 96))
    assert w == side == round(96 / FER_WIDTH) and side > 96  # a little more of the head around the box
    assert x == round(100 - FER_LEFT * side) and y == round(80 - FER_TOP * side)
    assert fer_box((100, 80, 96, 96), left=0.25, top=0.0, width=0.5) == (52, 80, 192, 192)  # a measured fit


def test_sharpness_falls_with_blur_and_contrast_and_is_zero_on_a_flat_face():
    rng = np.random.default_rng(5)
    face = cv2.resize(rng.integers(0, 256, (12, 12)).astype(np.uint8), (48, 48), interpolation=cv2.INTER_CUBIC)
    blurred = cv2.GaussianBlur(face, (0, 0), 1.5)
    flat = (face.astype(np.float32) * 0.4 + 80).astype(np.uint8)
    s = sharpness(np.stack([face, blurred, flat, np.full((48, 48), 128, np.uint8)]))
    assert s[0] > s[1] > 0 and s[0] > s[2] > 0 and s[3] == 0


def test_soft_faces_are_framed_with_more_margin_and_sharp_ones_as_fer_2013(fer_faces):
    from emojify.config import SHARP_LEVEL
    from emojify.detect import SOFT_WIDTH, fer_box, frame_faces, soft_box
    sharp = cv2.resize(fer_faces[0], (240, 240), interpolation=cv2.INTER_CUBIC)
    soft = (cv2.GaussianBlur(sharp, (0, 0), 8) * 0.5 + 60).astype(np.uint8)  # out of focus, dim: a soft face
    frame = np.full((480, 640), 120, np.uint8)
    frame[100:340, 40:280], frame[100:340, 360:600] = sharp, soft
    boxes = [(50, 110, 220, 220), (370, 110, 220, 220)]
    as_fer = crop_faces(frame, [fer_box(b) for b in boxes])
    assert sharpness(as_fer[:1]) >= SHARP_LEVEL > sharpness(as_fer[1:])
    faces = frame_faces(frame, boxes)
    assert faces.shape == (2, 48, 48) and faces.dtype == np.uint8
    assert np.array_equal(faces[0], as_fer[0])  # sharp: FER-2013's framing
    assert np.array_equal(faces[1], crop_faces(frame, [soft_box(boxes[1])])[0])  # soft: cut again, wider
    x, y, side, _ = soft_box(boxes[1])
    assert side == round(220 / SOFT_WIDTH) > fer_box(boxes[1])[2] and x + side / 2 == pytest.approx(370 + 110, abs=1)
    assert np.array_equal(frame_faces(frame, boxes, soft=False), as_fer)  # every face as FER-2013's
    assert frame_faces(frame, []).shape == (0, 48, 48)


def test_photos_frame_soft_faces_with_more_margin_and_video_frames_as_fer_2013(fer_faces, classifier):
    from emojify.detect import fer_box, soft_box
    from emojify.faces import build_photo_pipeline
    seen = []

    def recording(crops):  # the real classifier, its input kept
        seen.append(crops.copy())
        return classifier(crops)
    face = cv2.resize(fer_faces[0], (200, 200), interpolation=cv2.INTER_CUBIC)
    frame = np.full((480, 640), 110, np.uint8)
    frame[140:340, 220:420] = (cv2.GaussianBlur(face, (0, 0), 5) * 0.5 + 60).astype(np.uint8)  # a soft face
    photo, video = build_photo_pipeline(recording), build_photo_pipeline(recording, soft_framing=False)
    box = tuple(photo.detector(frame)[0])
    photo(frame), video(frame)
    assert np.array_equal(seen[0][0], crop_faces(frame, [soft_box(box)])[0])
    assert np.array_equal(seen[1][0], crop_faces(frame, [fer_box(box)])[0])


def test_a_crop_past_the_frame_edge_keeps_the_face_shape():
    g = np.zeros((100, 100), np.uint8)
    g[:, 50:] = 200  # right half bright
    inside = crop_faces(g, [(0, 0, 100, 100)])[0]
    past = crop_faces(g, [(-50, 0, 150, 150)])[0]  # a third of the box lies left of the frame, some below
    assert inside.shape == past.shape == (48, 48)
    # the edge's pixels fill the missing part: the bright half stays a third of the crop, not stretched
    bright = (past[20] > 100).mean()
    assert 0.25 < bright < 0.42, bright
    assert (crop_faces(g, [(200, 200, 20, 20)])[0] == 0).all()  # wholly outside: a blank face, no error
