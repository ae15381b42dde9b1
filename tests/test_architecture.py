"""The layout of docs/ARCHITECTURE.md (who may import whom, no loops, small modules), and the error contract
every script keeps."""
import ast
import re
import shutil
import sys

import pytest

from conftest import ROOT, run_script

# The root holds the scripts users type and the two modules the card keeps there; the library is emojify/.
SCRIPTS = {"gui", "train", "assemble", "export", "predict", "evaluate", "webapp"}
ROOT_MODULES = {"model", "emotions"}  # the package's emojify.model and emojify.emotions, by the card's names
WINDOW_COMMAND = ROOT / "emojify" / "commands" / "window.py"  # gui.py's main
# Which project modules each library module may import (docs/ARCHITECTURE.md).
ALLOWED = {
    "emotions": {"emojify.emotions"},
    "model": {"emojify.model"},
    "emojify.emotions": {"emojify.config"},
    "emojify.model": {"emojify.config", "emojify.emotions"},
    "emojify": {"emojify.api", "emojify.config"},
    "emojify.api": {"emojify.backends", "emojify.capture", "emojify.config", "emojify.dataset", "emojify.detect",
                    "emojify.errors", "emojify.faces", "emojify.emotions"},
    "emojify.__main__": {"emojify"},
    "emojify.config": set(),
    "emojify.preflight": {"emojify.config"},
    "emojify.errors": set(),
    "emojify.atomic": set(),
    "emojify.quiet": set(),
    "emojify.hints": set(),
    "emojify.records": {"emojify.emotions"},
    "emojify.outputs": {"emojify.atomic", "emojify.config", "emojify.errors", "emojify.records", "emojify.emotions"},
    "emojify.capture": {"emojify.errors", "emojify.quiet"},
    "emojify.dataset": {"emojify.config", "emojify.detect", "emojify.errors", "emojify.emotions"},
    "emojify.detect": {"emojify.config", "emojify.errors", "emojify.quiet"},
    "emojify.faces": {"emojify.detect", "emojify.emotions"},
    "emojify.inference": {"emojify.config", "emojify.errors", "emojify.quiet", "emojify.emotions"},
    "emojify.lite": {"emojify.config", "emojify.errors", "emojify.quiet", "emojify.emotions"},
    "emojify.export": {"emojify.atomic", "emojify.inference", "emojify.lite", "emojify.quiet"},
    "emojify.backends": {"emojify.config", "emojify.errors", "emojify.inference", "emojify.lite",
                         "emojify.preflight"},
    "emojify.overlay": {"emojify.errors", "emojify.emotions"},
    "emojify.plots": {"emojify.atomic", "emojify.emotions"},
    "emojify.calibration": {"emojify.emotions"},
    "emojify.cli": {"emojify.config", "emojify.errors", "emojify.preflight"},
    "emojify.processor": {"emojify.calibration", "emojify.detect", "emojify.faces", "emojify.hints",
                          "emojify.overlay"},
    "emojify.live": {"emojify.capture", "emojify.errors"},
    "emojify.timeline": {"emojify.atomic", "emojify.overlay", "emojify.plots", "emojify.emotions"},
    "emojify.recorder": {"emojify.atomic", "emojify.capture", "emojify.errors", "emojify.overlay", "emojify.records",
                         "emojify.timeline"},
    "emojify.training": set(),
    "emojify.training.augment": set(),
    "emojify.training.schedule": {"emojify.inference", "emojify.training", "emojify.training.augment", "emojify.emotions"},
    "emojify.training.run": {"emojify", "emojify.atomic", "emojify.cli", "emojify.errors", "emojify.export",
                             "emojify.inference", "emojify.model"},
    "emojify.analysis": {"emojify.atomic", "emojify.capture", "emojify.cli", "emojify.dataset", "emojify.detect",
                         "emojify.errors", "emojify.faces", "emojify.overlay", "emojify.quiet", "emojify.records"},
    "emojify.scale": {"emojify.analysis", "emojify.backends", "emojify.config", "emojify.errors"},
    # The commands: what the root scripts and the console scripts run (each imports preflight first).
    "emojify.commands": set(),
    "emojify.commands.predict": {"emojify", "emojify.analysis", "emojify.backends", "emojify.cli", "emojify.config",
                                 "emojify.errors", "emojify.outputs", "emojify.preflight", "emojify.scale"},
    "emojify.commands.evaluate": {"emojify", "emojify.atomic", "emojify.backends", "emojify.cli", "emojify.config",
                                  "emojify.dataset", "emojify.emotions", "emojify.errors", "emojify.inference",
                                  "emojify.plots", "emojify.preflight"},
    "emojify.commands.train": {"emojify", "emojify.atomic", "emojify.cli", "emojify.config", "emojify.dataset",
                               "emojify.emotions", "emojify.errors", "emojify.inference", "emojify.model",
                               "emojify.plots", "emojify.preflight", "emojify.training.run",
                               "emojify.training.schedule"},
    "emojify.commands.window": {"emojify", "emojify.backends", "emojify.capture", "emojify.cli", "emojify.config",
                                "emojify.detect", "emojify.errors", "emojify.live", "emojify.preflight",
                                "emojify.processor", "emojify.timeline", "emojify.window.app"},
    "emojify.commands.web": {"emojify.backends", "emojify.capture", "emojify.cli", "emojify.config",
                             "emojify.dataset", "emojify.emotions", "emojify.errors", "emojify.faces", "emojify.live",
                             "emojify.overlay", "emojify.processor", "emojify.records"},
    "emojify.commands.serve": {"emojify", "emojify.cli", "emojify.preflight"},
    "emojify.window": set(),
    "emojify.window.widgets": {"emojify.emotions"},
    "emojify.window.controls": set(),
    "emojify.window.statusbar": set(),
    "emojify.window.picture": {"emojify.live"},
    "emojify.window.view": {"emojify.live"},
    "emojify.window.calibrating": {"emojify.live"},
    "emojify.window.avatars": {"emojify.overlay"},
    "emojify.window.panel": {"emojify.overlay", "emojify.window.widgets", "emojify.emotions"},
    "emojify.window.recording": {"emojify.atomic", "emojify.errors", "emojify.live", "emojify.recorder"},
    "emojify.window.app": {"emojify.capture", "emojify.config", "emojify.live", "emojify.plots", "emojify.recorder",
                           "emojify.timeline", "emojify.window.avatars", "emojify.window.calibrating",
                           "emojify.window.controls", "emojify.window.panel", "emojify.window.picture",
                           "emojify.window.recording", "emojify.window.statusbar", "emojify.window.view",
                           "emojify.window.widgets"},
}


def module_name(path):
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def library():
    """{dotted name: path} of every library module: emojify/ and the root modules."""
    paths = [*ROOT.glob("emojify/**/*.py"), *(ROOT / f"{m}.py" for m in ROOT_MODULES)]
    return {module_name(p): p for p in paths}


def sources():
    """Every .py file of the project outside tests/."""
    return [p for p in ROOT.rglob("*.py") if not {"tests", ".git", ".venv"} & set(p.relative_to(ROOT).parts)]


def project_imports(path, known):
    """The project modules (of known) that path imports, anywhere in it (module level or inside functions)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found |= {node.module, *(f"{node.module}.{a.name}" for a in node.names)}
    return found & known


def test_the_root_holds_only_the_scripts_and_the_two_modules():
    assert {p.stem for p in ROOT.glob("*.py")} == SCRIPTS | ROOT_MODULES


def test_every_library_module_has_a_place_in_the_layers():
    assert set(library()) == set(ALLOWED), "add new modules to docs/ARCHITECTURE.md and ALLOWED"


@pytest.mark.parametrize("module", sorted(ALLOWED))
def test_library_modules_import_only_what_the_table_allows(module):
    modules = library()
    assert project_imports(modules[module], set(modules)) <= ALLOWED[module]


def test_the_imports_form_no_loop():
    graph = ALLOWED
    state = {}

    def visit(node, path):
        if state.get(node) == "done":
            return
        assert state.get(node) != "open", f"import loop: {' -> '.join(path + [node])}"
        state[node] = "open"
        for nxt in graph[node]:
            visit(nxt, path + [node])
        state[node] = "done"

    for module in graph:
        visit(module, [])


def test_no_module_imports_a_script():
    offenders = {str(p.relative_to(ROOT)): project_imports(p, SCRIPTS) for p in sources()}
    assert {k: v for k, v in offenders.items() if v} == {}


def test_modules_classes_and_functions_stay_small():
    big = []
    for path in sources():
        text = path.read_text()
        limit = 200 if path == WINDOW_COMMAND else 350
        if text.count("\n") > limit:
            big.append(f"{path.name}: {text.count(chr(10))} lines")
        for node in ast.walk(ast.parse(text)):
            length = getattr(node, "end_lineno", 0) - getattr(node, "lineno", 0) + 1
            if isinstance(node, ast.ClassDef) and length > 200 or \
                    isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and length > 60:
                big.append(f"{path.name}: {node.name} {length} lines")
    assert big == []


def test_only_the_window_uses_tk_and_only_through_the_session():
    for path in sources():
        tk = project_imports(path, {"tkinter", "tktooltip"}) or re.search(r"^\s*(from|import) (tkinter|tktooltip)",
                                                                        path.read_text(), re.M)
        in_window = path == WINDOW_COMMAND or (ROOT / "emojify" / "window") in path.parents
        assert in_window or not tk, f"{path} imports tkinter"
        if (ROOT / "emojify" / "window") in path.parents:
            assert "processor." not in path.read_text(), f"{path} reaches into the processor"


def test_nothing_outside_the_tests_edits_sys_path():
    assert [p for p in sources() if "sys.path" in p.read_text()] == []


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
    shutil.copytree(ROOT / "emojify", app / "emojify", ignore=shutil.ignore_patterns("__pycache__"))
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
    assert "--model MODEL" not in result.stdout or "(default: model.h5)" in result.stdout or \
        "(default: emojify/models/live.h5)" in result.stdout


@pytest.mark.parametrize("script, also", [("train.py", ""), ("predict.py", ""), ("evaluate.py", ""),
                                          ("assemble.py", ""), ("export.py", ""), ("gui.py", ", tkinter-tooltip")])
def test_missing_packages_are_one_error_line_and_exit_2(script, also):
    """Python without its site-packages (-S) is a machine where the requirements were never installed."""
    import subprocess
    result = subprocess.run([sys.executable, "-S", str(ROOT / script), "--help"], capture_output=True, text=True,
                            timeout=60, cwd=str(ROOT))
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.splitlines() == [
        f"error: numpy, opencv-python, pillow{also} not installed; install the app's packages "
        "with `pip install -r requirements.txt` (see README, 'Quick start')."]


def test_only_what_is_missing_is_named():
    from emojify import preflight
    assert preflight.missing({"json": "json", "emojify_no_such_package": "no-such-package"}) == ["no-such-package"]
    assert preflight.missing(preflight.PACKAGES) == []


def test_the_version_is_one_and_python_m_emojify_says_it():
    import subprocess

    import emojify
    from emojify.config import VERSION
    result = subprocess.run([sys.executable, "-m", "emojify", "--version"], capture_output=True, text=True,
                            timeout=60, cwd=str(ROOT))
    assert result.returncode == 0 and result.stdout.strip() == f"emojify {VERSION}" == f"emojify {emojify.__version__}"
    assert f"## {VERSION}" in (ROOT / "CHANGELOG.md").read_text()
