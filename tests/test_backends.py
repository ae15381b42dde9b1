"""LiteRT and Keras: the export, the choice between them, and the app without TensorFlow."""
import json
import shutil
import subprocess
import sys

import numpy as np
import pytest

from conftest import ROOT, run_script
from emojify.backends import open_classifier
from emojify.config import LIVE_MODEL_PATH, MODEL_PATH
from emojify.errors import ModelError
from emojify.lite import export_path, export_problem, read_record

PHOTO_FACES = 3  # the photo's faces, left to right


@pytest.fixture(scope="session")
def exported(tiny_model_path, tmp_path_factory):
    """A copy of the tiny model with its export beside it, made by export.py as a user would."""
    path = tmp_path_factory.mktemp("exported") / "tiny.h5"
    shutil.copy(tiny_model_path, path)
    done = run_script("export.py", path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"Exported {path} -> {export_path(path)}") and "answers within" in done.stdout
    return path


@pytest.fixture(scope="session")
def photo(fer_faces, tmp_path_factory):
    import cv2

    from benchmarks.videos import background_frame, face_frame
    path = tmp_path_factory.mktemp("photo") / "three.png"
    cv2.imwrite(str(path), face_frame(fer_faces, background=background_frame()))
    return path


@pytest.mark.parametrize("views", [1, 2, 4])
def test_the_export_gives_the_models_answers(exported, views):
    from emojify.inference import EmotionClassifier, load_model
    faces = np.random.default_rng(1).integers(0, 256, (5, 48, 48), dtype=np.uint8)
    heard = []
    lite = open_classifier(exported, views=views, say=heard.append)
    keras = EmotionClassifier(load_model(exported), views=views)
    assert lite.backend == "LiteRT" and heard == [f"Back-end: LiteRT, tiny.tflite, the export of tiny.h5 (2 threads)"]
    np.testing.assert_allclose(lite(faces), keras(faces), atol=1e-5)
    np.testing.assert_allclose(lite(faces[:2]), keras(faces[:2]), atol=1e-5)  # another batch size, resized
    assert lite(faces[:0]).shape == (0, 7)


def test_the_export_records_the_model_it_came_from(exported):
    import hashlib
    record = read_record(export_path(exported).read_bytes())
    assert record == {"source": "tiny.h5", "sha256": hashlib.sha256(exported.read_bytes()).hexdigest()}
    assert export_problem(exported) is None


@pytest.mark.parametrize("damage, why", [
    ("stale", "tiny.tflite is stale (tiny.h5 changed after it was exported)"),
    ("truncated", "tiny.tflite is a damaged LiteRT model"),
    ("not a model", "tiny.tflite is not a LiteRT model"),
    ("missing", "tiny.tflite not found"),
])
def test_a_bad_export_is_one_line_and_keras_runs(exported, tmp_path, damage, why):
    path = tmp_path / "tiny.h5"
    shutil.copy(exported, path)
    data = export_path(exported).read_bytes()
    if damage == "stale":
        export_path(path).write_bytes(data)
        with open(path, "ab") as f:  # h5 files tolerate bytes after their end: the same model, another file
            f.write(b"\0" * 16)
    elif damage == "truncated":
        export_path(path).write_bytes(data[: len(data) // 2])
    elif damage == "not a model":
        export_path(path).write_text("this is no model\n")
    heard = []
    classifier = open_classifier(path, views=1, say=heard.append)
    assert classifier.backend == "Keras" and heard == [f"Back-end: Keras, tiny.h5 ({why})"]
    with pytest.raises(ModelError) as refused:
        open_classifier(path, backend="litert")
    assert str(refused.value) == f"--backend litert: {why}; export it with `python export.py {path}`."


def test_predict_on_the_litert_path_never_imports_tensorflow(photo):
    """A real predict.py run in this environment, where TensorFlow is installed: it stays unimported."""
    code = ("import runpy, sys\n"
            f"sys.argv = ['predict.py', {str(photo)!r}]\n"
            "try:\n    runpy.run_path('predict.py', run_name='__main__')\nexcept SystemExit as e:\n    code = e.code\n"
            "print('exit', code, 'tensorflow' in sys.modules, 'keras' in sys.modules)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.stdout.splitlines()[-1] == "exit 0 False False", done.stderr
    assert done.stdout.splitlines()[0] == "Back-end: LiteRT, model.tflite, the export of model.h5 (2 threads)"
    assert f"{PHOTO_FACES} faces" in done.stdout and done.stderr == ""


def test_both_back_ends_give_the_same_records(photo, tmp_path):
    out = {}
    for backend in ("litert", "keras"):
        done = run_script("predict.py", photo, "--backend", backend, "--json", tmp_path / f"{backend}.jsonl")
        assert done.returncode == 0, done.stderr
        out[backend] = [json.loads(line) for line in (tmp_path / f"{backend}.jsonl").open()]
    assert len(out["litert"]) == PHOTO_FACES
    for a, b in zip(out["litert"], out["keras"]):
        assert a["box"] == b["box"] and a["emotion"] == b["emotion"]
        assert abs(a["confidence"] - b["confidence"]) < 1e-4


def test_without_tensorflow_the_app_runs_litert(photo, without_tensorflow):
    done = run_script("predict.py", photo, site=without_tensorflow)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines()[0] == "Back-end: LiteRT, model.tflite, the export of model.h5 (2 threads)"
    assert f"{PHOTO_FACES} faces" in done.stdout


def test_without_tensorflow_a_model_with_no_export_is_one_line(tiny_model_path, without_tensorflow, photo):
    done = run_script("predict.py", photo, "--model", tiny_model_path, site=without_tensorflow)
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: tiny.tflite not found, and TensorFlow is not installed to run tiny.h5 itself: export it with "
        f"`python export.py {tiny_model_path}` where TensorFlow is (pip install -r requirements-train.txt), "
        "or install it here."]


@pytest.mark.parametrize("script", ["train.py", "assemble.py", "export.py"])
def test_without_tensorflow_training_says_what_to_install(script, without_tensorflow):
    done = run_script(script, "--help", site=without_tensorflow)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.splitlines() == [
        "error: tensorflow, keras not installed; training, assembling and exporting need them: "
        "`pip install -r requirements-train.txt` (see README, 'Training')."]


def test_without_litert_keras_runs_and_says_why(photo, without_litert):
    done = run_script("predict.py", photo, site=without_litert)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    assert done.stdout.splitlines()[0] == "Back-end: Keras, model.h5 (ai-edge-litert is not installed)"
    assert f"{PHOTO_FACES} faces" in done.stdout


@pytest.mark.parametrize("path", [MODEL_PATH, LIVE_MODEL_PATH])
def test_the_shipped_exports_are_the_shipped_models(path):
    assert export_problem(path) is None, f"run `python export.py {path}` after changing it"


def test_the_window_runs_the_live_model_without_tensorflow(xvfb_display, face_video, without_tensorflow):
    import re
    done = run_script("gui.py", "--source", face_video, "--exit-at-end", env={"DISPLAY": xvfb_display},
                      site=without_tensorflow, timeout=120)
    assert done.returncode == 0, done.stderr
    first, summary = done.stdout.split("\n", 1)
    assert first == "Back-end: LiteRT, live.tflite, the export of live.h5 (1 thread)"
    shown = re.match(r"Shown (\d+) frames .*; a face in (\d+);", summary)
    assert shown and int(shown.group(1)) >= 30 and int(shown.group(2)) >= 30, summary


def test_without_tensorflow_evaluate_scores_a_folder(without_tensorflow, tmp_path):
    from conftest import make_face_folder
    data = make_face_folder(tmp_path / "faces", per_class=2)
    done = run_script("evaluate.py", data, "--views", "1", site=without_tensorflow)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Back-end: LiteRT, model.tflite, the export of model.h5 (2 threads)"
    assert lines[1].startswith("Accuracy: ") and lines[1].endswith(" on 14 faces")
