import cv2
import numpy as np
import pytest

from benchmarks.videos import background_frame, face_frame
from emotions import EMOTIONS
from pipeline import (EmotionClassifier, Face, FaceDetector, FramePipeline, ModelError, Smoother, crop_faces,
                      draw_faces, folded_inference, load_model)


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


def test_one_batched_call_equals_faces_one_by_one(classifier, fer_faces):
    faces = np.stack(fer_faces)
    together = classifier(faces)
    alone = np.concatenate([classifier(f[None]) for f in faces])
    np.testing.assert_allclose(together, alone, atol=1e-5)
    np.testing.assert_allclose(together.sum(axis=1), 1.0, atol=1e-5)


def test_views_average_the_face_its_mirror_and_half_pixel_shifts(classifier, fer_faces):
    faces = np.stack(fer_faces)
    x = faces[..., None].astype(np.float32)
    padded = np.pad(x, ((0, 0), (1, 0), (1, 0), (0, 0)), mode="edge")
    shifted = (padded[:, :-1, :-1] + padded[:, 1:, :-1] + padded[:, :-1, 1:] + padded[:, 1:, 1:]) / 4
    model = classifier.model
    face, mirror = np.asarray(model(x)), np.asarray(model(x[:, :, ::-1]))
    shifted, shifted_mirror = np.asarray(model(shifted)), np.asarray(model(shifted[:, :, ::-1]))
    assert classifier.views == 4
    np.testing.assert_allclose(classifier(faces), (face + mirror + shifted + shifted_mirror) / 4, atol=1e-5)
    np.testing.assert_allclose(EmotionClassifier(model, views=2)(faces), (face + mirror) / 2, atol=1e-5)
    with pytest.raises(ValueError, match="received 3"):
        EmotionClassifier(model, views=3)


def test_folded_batch_norm_matches_the_keras_model():
    import keras

    from model import build_model
    keras.utils.set_random_seed(3)
    model = build_model(widths=(8, 16, 16), convs_per_block=(1, 2, 1))
    rng = np.random.default_rng(3)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):  # trained-looking statistics, not 0 and 1
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.5, 2, n), rng.normal(0, 0.5, n), rng.normal(0, 0.5, n),
                               rng.uniform(0.1, 3, n)])
    faces = rng.integers(0, 256, (5, 48, 48), dtype=np.uint8)
    x = faces[..., None].astype(np.float32)
    folded = folded_inference(model)
    assert folded is not None
    np.testing.assert_allclose(np.asarray(folded(x)), np.asarray(model(x, training=False)), atol=1e-5)
    np.testing.assert_allclose(EmotionClassifier(model, views=1)(faces), np.asarray(model(x)), atol=1e-5)


def test_classifier_calls_other_models_as_they_are():
    import keras
    from keras import layers
    model = keras.Sequential([keras.Input((48, 48, 1)), layers.Conv2D(4, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(len(EMOTIONS), activation="softmax")])
    assert folded_inference(model) is None
    faces = np.random.default_rng(0).integers(0, 256, (2, 48, 48), dtype=np.uint8)
    expected = np.asarray(model(faces[..., None].astype(np.float32)))
    np.testing.assert_allclose(EmotionClassifier(model, views=1)(faces), expected, atol=1e-6)


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
    a = np.eye(7)[0]
    b = np.eye(7)[3]
    smoother([Face((100, 100, 200, 200), a)])
    steady = smoother([Face((105, 100, 200, 200), b)])[0]
    np.testing.assert_allclose(steady.probs, 0.5 * a + 0.5 * b)
    elsewhere = smoother([Face((400, 100, 100, 100), b)])[0]
    np.testing.assert_allclose(elsewhere.probs, b)


def test_model_file_errors_are_one_actionable_line(tmp_path, tiny_model_path):
    with pytest.raises(ModelError, match="python train.py"):
        load_model(tmp_path / "absent.h5")
    broken = tmp_path / "broken.h5"
    broken.write_bytes(b"not an hdf5 file")
    with pytest.raises(ModelError, match="cannot read model file"):
        load_model(broken)
    from model import build_model
    wrong = tmp_path / "five.h5"
    build_model(widths=(4,), convs_per_block=1, num_classes=5).save(wrong)
    with pytest.raises(ModelError, match="predicts 5 classes but emotions.py has 7"):
        load_model(wrong)


def test_tracker_keeps_every_face_the_detector_finds(three_face_video):
    from capture import open_source
    from pipeline import FaceTracker
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
    from pipeline import _iou
    return _iou(tuple(a), tuple(b))
