"""pyproject.toml: `pip install ".[scale]"` into a fresh virtual environment gives the five commands, the
README's API example and the Ray engine, run from a folder far from this clone."""
import json
import os
import re
import subprocess
import sys
import tomllib

import pytest

from conftest import ROOT, run_script


def requirement_lines(name):
    lines = (ROOT / name).read_text().splitlines()
    return [line.split("  #")[0].strip() for line in lines if line.strip() and not line.startswith(("#", "-r"))]


def test_the_package_asks_for_what_the_requirements_files_do():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    assert project["dependencies"] == requirement_lines("requirements.txt")
    extras = project["optional-dependencies"]
    for extra in ("train", "web", "scale"):
        assert extras[extra] == requirement_lines(f"requirements-{extra}.txt"), extra
    assert set(project["scripts"]) == {"emojify", "emojify-predict", "emojify-evaluate", "emojify-train",
                                       "emojify-web"}


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """A fresh venv with `pip install ".[scale]"` from this clone: (its bin folder, a folder elsewhere)."""
    if os.environ.get("EMOJIFY_SKIP_INSTALL"):
        pytest.skip("EMOJIFY_SKIP_INSTALL is set")
    venv = tmp_path_factory.mktemp("fresh") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    done = subprocess.run([str(venv / "bin" / "pip"), "install", "-q", f"{ROOT}[scale]"], capture_output=True,
                          text=True, timeout=1200)
    assert done.returncode == 0, done.stderr[-3000:]
    return venv / "bin", tmp_path_factory.mktemp("elsewhere")


def run(installed, command, *args, timeout=300):
    bin_dir, cwd = installed
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    return subprocess.run([str(bin_dir / command), *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=cwd, env=env)


def test_the_five_commands_run_from_any_folder(installed):
    for command in ("emojify", "emojify-predict", "emojify-evaluate"):
        done = run(installed, command, "--help")
        assert done.returncode == 0 and "usage:" in done.stdout, (command, done.stderr)
    assert "(default: " in run(installed, "emojify-predict", "--help").stdout
    for command, extra in (("emojify-train", "train"), ("emojify-web", "web")):  # not in [scale]: one line each
        done = run(installed, command, "--help")
        assert done.returncode == 2 and len(done.stderr.splitlines()) == 1, (command, done.stderr)
        assert f'pip install "emojify[{extra}]"' in done.stderr
    from emojify import __version__
    done = run(installed, "python", "-m", "emojify", "--version")
    assert done.stdout.strip() == f"emojify {__version__}"


def test_the_readme_api_example_prints_the_faces_of_a_photo(installed, fer_faces):
    import cv2

    from benchmarks.videos import background_frame, face_frame
    example = re.search(r"```python\n(from emojify import Recognizer\n.*?)```", (ROOT / "README.md").read_text(),
                        re.S).group(1)
    cv2.imwrite(str(installed[1] / "photo.jpg"), face_frame(fer_faces, background=background_frame()))
    (installed[1] / "example.py").write_text(example)
    done = run(installed, "python", "example.py")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert len(lines) == 3 and all(re.fullmatch(r"\(\d+, \d+, \d+, \d+\) \w+ \d+% .", line) for line in lines), lines


def test_installed_predict_on_ray_writes_the_records_of_a_local_run(installed, three_face_video, face_video):
    videos = [three_face_video, face_video]
    local = installed[1] / "local.jsonl"
    assert run_script("predict.py", *videos, "--every", "4", "--json", local).returncode == 0
    done = run(installed, "emojify-predict", *videos, "--every", "4", "--engine", "ray", "--workers", "2",
               "--json", "out.jsonl", timeout=600)
    assert done.returncode == 0, done.stderr
    records = (installed[1] / "out.jsonl").read_text()
    assert records == local.read_text() and len(records.splitlines()) > 10
    assert {json.loads(line)["source"] for line in records.splitlines()} == {str(v) for v in videos}
