"""The Python API (emojify.Recognizer) on real pictures and a real video, with the shipped model."""
import json

import numpy as np
import pytest

from conftest import run_script
from emojify.errors import AppError, InputError
from emojify.emotions import EMOJI_CHARS, EMOTIONS


@pytest.fixture(scope="module")
def recognizer():
    from emojify import Recognizer
    return Recognizer(views=4)  # as predict.py classifies


@pytest.fixture(scope="module")
def photo(fer_faces, tmp_path_factory):
    import cv2

    from benchmarks.videos import background_frame, face_frame
    path = tmp_path_factory.mktemp("api") / "three.png"
    cv2.imwrite(str(path), face_frame(fer_faces, background=background_frame()))
    return path


def test_analyze_gives_typed_faces_that_match_predict_py(recognizer, photo, tmp_path):
    import cv2
    faces = recognizer.analyze(photo)
    assert len(faces) == 3 and recognizer.backend == "LiteRT"
    for face in faces:
        assert face.emotion in EMOTIONS and face.emoji == EMOJI_CHARS[face.emotion]
        assert list(face.probabilities) == list(EMOTIONS) and abs(sum(face.probabilities.values()) - 1) < 1e-6
        assert face.confidence == max(face.probabilities.values())
    assert recognizer.analyze(cv2.imread(str(photo))) == faces  # an array reads as its file does
    done = run_script("predict.py", photo, "--json", tmp_path / "faces.jsonl")
    records = [json.loads(line) for line in (tmp_path / "faces.jsonl").open()]
    assert [tuple(r["box"]) for r in records] == [f.box for f in faces]
    assert [r["emotion"] for r in records] == [f.emotion for f in faces], done.stdout


def test_own_boxes_and_crops(recognizer, photo, fer_faces):
    faces = recognizer.analyze(photo)
    mine = recognizer.analyze(photo, boxes=[f.box for f in faces])
    assert [f.box for f in mine] == [f.box for f in faces] and [f.emotion for f in mine] == [f.emotion for f in faces]
    crops = recognizer.classify(fer_faces)
    assert len(crops) == 3 and crops[0].box == (0, 0, 48, 48)
    assert recognizer.analyze(np.zeros((240, 320, 3), np.uint8)) == [] and recognizer.classify([]) == []


def test_analyze_video_yields_frames_one_at_a_time(recognizer, face_video):
    frames = recognizer.analyze_video(face_video, every=10)
    first = next(frames)
    assert first.index == 0 and first.time == 0.0 and len(first.faces) == 1
    rest = list(frames)
    assert [f.index for f in rest] == [10, 20, 30, 40, 50] and abs(rest[0].time - 10 / 30) < 1e-6


@pytest.mark.parametrize("call, message", [
    (lambda r, tmp: r.analyze(tmp / "missing.jpg"), "missing.jpg: empty, corrupt or not an image"),
    (lambda r, tmp: r.analyze(np.zeros((4,))), "an image must be an HxW or HxWx3 (BGR) array"),
    (lambda r, tmp: r.analyze(np.zeros((48, 48)), boxes=[(60, 0, 10, 10)]), "face box (60, 0, 10, 10) is empty or outside"),
    (lambda r, tmp: r.analyze(np.zeros((48, 48)), boxes=["face"]), "a face box is (x, y, w, h)"),
    (lambda r, tmp: list(r.analyze_video(tmp / "none.mp4")), "none.mp4: not a readable video"),
])
def test_bad_input_raises_the_packages_errors_in_one_line(recognizer, tmp_path, call, message):
    with pytest.raises(InputError) as raised:
        call(recognizer, tmp_path)
    assert str(raised.value).startswith(message) or message in str(raised.value)
    assert "\n" not in str(raised.value) and isinstance(raised.value, AppError)


def test_a_missing_model_is_the_scripts_message(tmp_path):
    from emojify import Recognizer
    from emojify.errors import ModelError
    with pytest.raises(ModelError, match="not found: train one with `python train.py`"):
        Recognizer(model=tmp_path / "none.h5")
