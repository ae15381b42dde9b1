"""evaluate.py against a real Keras model whose answers are known: it predicts class k for images whose
mean brightness is k/6 of white."""
import json

import cv2
import numpy as np
import pytest

from conftest import make_face_folder, run_script
from emojify.emotions import EMOTIONS


@pytest.fixture(scope="module")
def brightness_model(tmp_path_factory):
    from emojify.inference import import_tensorflow
    import_tensorflow()
    import keras
    from keras import layers
    model = keras.Sequential([keras.Input((48, 48, 1)), layers.Rescaling(1 / 255), layers.GlobalAveragePooling2D(),
                              layers.Dense(7, activation="softmax")])
    k = np.arange(7) / 6
    # logit_k = A (m k/6 - (k/6)^2 / 2) peaks at the k/6 nearest the mean brightness m
    model.layers[-1].set_weights([200 * k[None, :], -200 * k ** 2 / 2])
    path = tmp_path_factory.mktemp("model") / "brightness.h5"
    model.save(path)
    return path


def write_gray(path, level, size=48, color=False):
    image = np.full((size, size, 3) if color else (size, size), round(255 * level / 6), np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(path), image)


# (true emotion, brightness level that the model reads as class `level`)
CASES = [("angry", 0), ("angry", 0), ("angry", 5), ("happy", 3), ("happy", 3), ("happy", 4), ("sad", 5),
         ("sad", 5), ("surprise", 6)]


def test_known_predictions_give_the_known_report(tmp_path, brightness_model):
    for i, (emotion, level) in enumerate(CASES):
        write_gray(tmp_path / "data" / emotion / f"{i}.png", level, size=48 + 20 * i, color=i % 2 == 0)
    (tmp_path / "data" / "sad" / "corrupt.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    out = tmp_path / "report" / "r.json"
    result = run_script("evaluate.py", tmp_path / "data", "--model", brightness_model, "--json", out)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["n"] == 9 and report["skipped"] == 1
    assert report["accuracy"] == round(7 / 9, 4)
    assert report["labels"] == list(EMOTIONS)
    expected = np.zeros((7, 7), int)
    for emotion, level in CASES:
        expected[EMOTIONS.index(emotion), level] += 1
    assert report["confusion"] == expected.tolist()
    assert set(report["per_class"]) == {"angry", "happy", "sad", "surprise"}  # a subset of emotions is fine
    assert report["per_class"]["angry"] == {"precision": 1.0, "recall": round(2 / 3, 4), "f1": 0.8, "support": 3}
    assert report["per_class"]["sad"]["precision"] == round(2 / 3, 4)
    assert report["per_class"]["surprise"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 1}
    assert "Accuracy: 0.7778 on 9 faces" in result.stdout and "Skipped 1 unreadable file(s)." in result.stderr
    assert cv2.imread(str(out.with_suffix(".png"))) is not None


def test_fer2013_csv_with_usage(tmp_path, brightness_model):
    rows = ["emotion,pixels,Usage"]
    for emotion, level, usage in [(3, 3, "PublicTest"), (3, 4, "PublicTest"), (0, 0, "Training"),
                                  (5, 5, "PrivateTest")]:
        rows.append(f"{emotion},{' '.join([str(round(255 * level / 6))] * 48 * 48)},{usage}")
    rows.append("9,1 2 3,PublicTest")  # a broken row is skipped, not fatal
    csv_path = tmp_path / "fer2013.csv"
    csv_path.write_text("\n".join(rows) + "\n")
    out = tmp_path / "r.json"
    result = run_script("evaluate.py", csv_path, "--usage", "PublicTest", "--model", brightness_model,
                        "--json", out, "--views", "1")
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["n"] == 2 and report["accuracy"] == 0.5 and report["skipped"] == 1
    assert report["views"] == 1 and "1 view per face" in result.stdout
    all_rows = run_script("evaluate.py", csv_path, "--model", brightness_model)
    assert "on 5 faces" not in all_rows.stdout and "on 4 faces" in all_rows.stdout
    assert "4 views per face" in all_rows.stdout


def test_detect_mode_counts_photos_without_a_face(tmp_path, tiny_model_path, fer_faces):
    from benchmarks.videos import background_frame, face_frame
    cv2.imwrite(str((tmp_path / "happy").mkdir() or tmp_path / "happy" / "a.png"),
                face_frame(fer_faces[:1], background=background_frame()))
    cv2.imwrite(str(tmp_path / "happy" / "empty.png"), background_frame())
    out = tmp_path / "r.json"
    result = run_script("evaluate.py", tmp_path, "--detect", "--model", tiny_model_path, "--json", out)
    assert result.returncode == 0, result.stderr
    report = json.loads(out.read_text())
    assert report["n"] == 1 and [p.rsplit("/", 1)[1] for p in report["no_face"]] == ["empty.png"]
    assert "1 images without a detected face left out" in result.stdout


@pytest.mark.parametrize("setup, args, message", [
    (lambda d: None, [], "not found"),
    (lambda d: (d / "joy").mkdir(parents=True), [], "unknown emotion folder(s) joy; known emotions: angry"),
    (lambda d: (d / "happy").mkdir(parents=True), [], "holds no image files"),
    (lambda d: None, ["--usage", "PublicTest"], "--usage applies to fer2013.csv only"),
])
def test_bad_input(tmp_path, tiny_model_path, setup, args, message):
    data = tmp_path / "data"
    setup(data)
    result = run_script("evaluate.py", data, "--model", tiny_model_path, *args)
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and message in lines[0] and lines[0].startswith("error: ")


def test_missing_model(tmp_path):
    make_face_folder(tmp_path / "data", per_class=1, emotions=["happy"])
    result = run_script("evaluate.py", tmp_path / "data", "--model", tmp_path / "none.h5")
    assert result.returncode != 0 and "python train.py" in result.stderr
