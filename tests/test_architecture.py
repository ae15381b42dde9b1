"""The module layering of docs/ARCHITECTURE.md, and the error contract every script keeps."""
import ast
import shutil
import sys

import pytest

from conftest import ROOT, run_script

SCRIPTS = {"gui", "train", "assemble", "predict", "evaluate", "webapp"}
# Which project modules each library module may import (docs/ARCHITECTURE.md).
ALLOWED = {
    "config": set(),
    "preflight": set(),
    "errors": set(),
    "emotions": set(),
    "atomic": set(),
    "augment": set(),
    "plots": {"atomic", "overlay"},
    "quiet": set(),
    "capture": {"errors", "quiet"},
    "dataset": {"config", "emotions", "errors"},
    "model": {"config", "emotions"},
    "inference": {"config", "emotions", "errors", "quiet"},
    "faces": {"config", "emotions", "errors", "quiet"},
    "overlay": {"emotions", "errors"},
    "live": {"calibration", "capture", "errors", "faces", "inference", "overlay"},
    "calibration": {"emotions"},
    "timeline": {"atomic", "emotions", "overlay", "plots"},
    "recorder": {"atomic", "capture", "errors", "faces", "overlay", "timeline"},
    "widgets": {"emotions", "overlay"},
    "training": {"augment", "emotions", "inference"},
    "cli": {"config", "errors", "inference"},
}


def project_imports(path):
    modules = {p.stem for p in ROOT.glob("*.py")}
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found & modules


def test_every_library_module_has_a_place_in_the_layers():
    library = {p.stem for p in ROOT.glob("*.py")} - SCRIPTS
    assert library == set(ALLOWED), "add new modules to docs/ARCHITECTURE.md and ALLOWED"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_library_modules_import_only_the_layers_below(module):
    assert project_imports(ROOT / f"{module}.py") <= ALLOWED[module]


def test_no_module_imports_a_script():
    users = [p for p in ROOT.rglob("*.py") if "tests" not in p.parts and ".git" not in p.parts]
    offenders = {str(p.relative_to(ROOT)): project_imports(p) & SCRIPTS for p in users}
    assert {k: v for k, v in offenders.items() if v} == {}


@pytest.mark.parametrize("script, args", [
    ("evaluate.py", ["__data__"]),
    ("predict.py", ["__data__/happy/0.png"]),
    ("gui.py", ["--source", "synth:64x64"]),
])
def test_a_missing_model_is_one_error_line_and_exit_2(tmp_path, script, args):
    from conftest import make_face_folder
    data = make_face_folder(tmp_path / "data", per_class=1)
    args = [a.replace("__data__", str(data)) for a in args]
    result = run_script(script, *args, "--model", tmp_path / "absent.h5", env={"DISPLAY": ":0"})
    assert result.returncode == 2, result.stderr
    assert result.stderr.splitlines() == [f"error: model file {tmp_path / 'absent.h5'} not found: train one with "
                                          "`python train.py` (see README, 'Training') or pass --model PATH."]


@pytest.mark.parametrize("script, args", [
    ("evaluate.py", ["__tmp__/nowhere"]),
    ("train.py", ["--data", "__tmp__/nowhere", "--run-dir", "__tmp__/run"]),
])
def test_a_missing_dataset_is_one_error_line_and_exit_2(tmp_path, script, args):
    result = run_script(script, *[a.replace("__tmp__", str(tmp_path)) for a in args])
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: data folder {tmp_path / 'nowhere'}")


def test_a_missing_face_detector_is_one_error_line(tmp_path, tiny_model_path):
    """A copy of the app without haarcascade_frontalface_default.xml, run as a user would."""
    app = tmp_path / "app"
    app.mkdir()
    for path in ROOT.glob("*.py"):
        shutil.copy(path, app)
    shutil.copytree(ROOT / "emojis", app / "emojis")
    import subprocess
    result = subprocess.run([sys.executable, str(app / "gui.py"), "--source", "synth:64x64", "--model",
                             str(tiny_model_path)], capture_output=True, text=True, timeout=120, cwd=app)
    assert result.returncode == 2
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"error: cannot load the face detector {app}")


@pytest.mark.parametrize("script", ["gui.py", "predict.py", "evaluate.py", "train.py"])
def test_help_shows_the_defaults(script):
    result = run_script(script, "--help")
    assert result.returncode == 0 and "(default: " in result.stdout
    assert "--model MODEL" not in result.stdout or "(default: model.h5)" in result.stdout


@pytest.mark.parametrize("script, also", [("train.py", ""), ("predict.py", ""), ("evaluate.py", ""),
                                          ("assemble.py", ""), ("gui.py", ", tkinter-tooltip")])
def test_missing_packages_are_one_error_line_and_exit_2(script, also):
    """Python without its site-packages (-S) is a machine where the requirements were never installed."""
    import subprocess
    result = subprocess.run([sys.executable, "-S", str(ROOT / script), "--help"], capture_output=True, text=True,
                            timeout=60, cwd=str(ROOT))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: numpy, opencv-python, pillow, tensorflow, keras{also} not installed; install the app's packages "
        "with `pip install -r requirements.txt` (see README, 'Quick start')."]


def test_only_what_is_missing_is_named():
    import preflight
    assert preflight.missing({"json": "json", "emojify_no_such_package": "no-such-package"}) == ["no-such-package"]
    assert preflight.missing(preflight.PACKAGES) == []
