import importlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]  # on sys.path through pytest.ini's pythonpath

# pylibsrtp (under streamlit-webrtc, for webapp.py's live view) crashes the process when it is loaded after
# TensorFlow; the web tests run webapp.py in this process, so it is loaded first wherever it is installed.
try:
    importlib.import_module("pylibsrtp")
except ImportError:
    pass


def find_fer2013():
    """FER-2013 (Kaggle folder layout): $EMOJIFY_FER2013, else data/, else ../shared/fer2013; None if absent."""
    candidates = [os.environ.get("EMOJIFY_FER2013"), ROOT / "data", ROOT.parent / "shared" / "fer2013"]
    return next((Path(c) for c in candidates if c and (Path(c) / "test").is_dir()), None)


FER = find_fer2013()


def pytest_report_header(config):
    return f"FER-2013: {FER}" if FER else ("FER-2013: not found ($EMOJIFY_FER2013, data/, ../shared/fer2013); "
                                           "the tests that need it are skipped")


@pytest.fixture(scope="session")
def fer_test_dir():
    if FER is None:
        pytest.skip("FER-2013 not found ($EMOJIFY_FER2013, data/ or ../shared/fer2013)")
    return FER / "test"


@pytest.fixture(scope="session")
def fer_faces(fer_test_dir):
    from benchmarks.videos import DEFAULT_FACES, load_faces
    return load_faces(fer_test_dir, list(DEFAULT_FACES))


@pytest.fixture(scope="session")
def tiny_model_path(tmp_path_factory):
    """A real, small, untrained Keras model saved as .h5 like train.py does."""
    from emojify.inference import import_tensorflow
    import_tensorflow()
    import keras

    from emojify.model import build_model
    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("model") / "tiny.h5"
    build_model(widths=(8, 16), convs_per_block=1).save(path)
    return path


@pytest.fixture(scope="session")
def face_video(fer_faces, tmp_path_factory):
    """2 s of 640x480 video at 30 fps with one FER face."""
    from benchmarks.videos import write_video
    return write_video(tmp_path_factory.mktemp("video") / "one_face.mp4", fer_faces[:1], frames=60)


@pytest.fixture(scope="session")
def three_face_video(fer_faces, tmp_path_factory):
    from benchmarks.videos import write_video
    return write_video(tmp_path_factory.mktemp("video") / "three_faces.mp4", fer_faces, frames=30)


def start_xvfb():
    """A private Xvfb screen: (process, DISPLAY value)."""
    if shutil.which("Xvfb") is None:
        pytest.skip("Xvfb is not installed (apt-get install -y xvfb xdotool)")
    for n in range(91, 140):
        if not Path(f"/tmp/.X11-unix/X{n}").exists() and not Path(f"/tmp/.X{n}-lock").exists():
            break
    proc = subprocess.Popen(["Xvfb", f":{n}", "-screen", "0", "1280x1024x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        if Path(f"/tmp/.X11-unix/X{n}").exists():
            break
        time.sleep(0.05)
    else:
        proc.kill()
        pytest.fail("Xvfb did not start")
    return proc, f":{n}"


@pytest.fixture(scope="session")
def xvfb_display():
    proc, display = start_xvfb()
    yield display
    proc.terminate()
    proc.wait(timeout=10)


def make_face_folder(root, per_class=4, emotions=None, size=48, seed=0):
    """A tiny dataset in the Kaggle layout: root/<emotion>/<i>.png of random faces."""
    from emojify.emotions import EMOTIONS
    import cv2
    rng = np.random.default_rng(seed)
    for emotion in emotions or EMOTIONS:
        folder = Path(root) / emotion
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            cv2.imwrite(str(folder / f"{i}.png"), rng.integers(0, 256, (size, size), dtype=np.uint8))
    return Path(root)


def run_script(script, *args, env=None, timeout=300, site=None):
    """Run one of the project's scripts as a user would; returns CompletedProcess (text). site: a folder of
    installed packages (installed_without) to run with instead of this environment's."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    flags = []
    if site is not None:
        flags, full_env["PYTHONPATH"] = ["-S"], str(site)
    return subprocess.run([sys.executable, *flags, str(ROOT / script), *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, env=full_env, cwd=str(ROOT))


def installed_without(folder, *prefixes):
    """A folder of links to this environment's installed packages, less those whose names start with one of
    prefixes: run with `python -S` and PYTHONPATH=folder, it is a machine where they were never installed."""
    import site
    folder.mkdir(parents=True, exist_ok=True)
    for packages in site.getsitepackages():
        for entry in Path(packages).iterdir():
            name = entry.name.lower()
            if entry.suffix != ".pth" and not name.startswith(prefixes) and not (folder / entry.name).exists():
                (folder / entry.name).symlink_to(entry)
    return folder


@pytest.fixture(scope="session")
def without_tensorflow(tmp_path_factory):
    """The app's packages without TensorFlow and Keras (requirements.txt alone)."""
    return installed_without(tmp_path_factory.mktemp("no_tf"), "tensorflow", "keras", "tf_keras", "tensorboard")


@pytest.fixture(scope="session")
def without_litert(tmp_path_factory):
    """Everything but the LiteRT runtime (a machine where ai-edge-litert has no wheel)."""
    return installed_without(tmp_path_factory.mktemp("no_litert"), "ai_edge_litert")


@pytest.fixture
def small_disk(tmp_path):
    """mount(size) -> a fresh tmpfs folder of that many bytes, unmounted afterwards; skips where mounting is
    not allowed (not root, or a container without the right)."""
    mounts = []

    def mount(size):
        folder = tmp_path / f"disk{len(mounts)}"
        folder.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a small tmpfs here: {done.stderr.strip() or 'not permitted'}")
        mounts.append(folder)
        return folder

    yield mount
    for folder in mounts:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def fill_disk(folder):
    """Fill the filesystem holding folder; returns the filler file, whose removal frees the space again."""
    filler = Path(folder) / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
    try:
        while True:
            os.write(fd, b"\0" * 4096)
    except OSError:
        pass
    finally:
        os.close(fd)
    return filler


def default_sigint():
    """preexec_fn for a child that a test interrupts with SIGINT: a shell's background job (`cmd &`) starts with
    SIGINT ignored, and Python then installs no KeyboardInterrupt handler; the child gets the default back."""
    import signal
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def pytest_sessionfinish(session, exitstatus):
    session.config.emojify_exit_status = int(exitstatus)


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config):
    # TensorFlow, LiteRT, pylibsrtp and Ray, loaded together in this one process, can crash in their own teardown
    # after every test has run and the summary is printed (CI once ended "Segmentation fault" after "267
    # passed"): the process ends here with the tests' exit status, without that teardown.
    status = getattr(config, "emojify_exit_status", None)
    if status is not None:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
