"""The real Tk window under Xvfb, fed by a video file, driven with xdotool key presses."""
import gc
import os
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest

from conftest import ROOT, default_sigint, run_script, start_xvfb
from emojify.emotions import EMOTIONS, UNSURE


@pytest.fixture(scope="module")
def display(xvfb_display):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install -y xdotool)")
    return xvfb_display


STARTED = []  # every gui.py started, so that one a failed test left running never haunts the next test


def emojify_windows(display):
    found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Emojify$"],
                           env={**os.environ, "DISPLAY": display}, capture_output=True, text=True)
    return found.stdout.split()


@pytest.fixture(autouse=True)
def no_window_left_behind(request):
    yield
    while STARTED:
        proc = STARTED.pop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    if "display" in request.fixturenames:  # the next test finds its own window, never this one's
        display = request.getfixturevalue("display")
        deadline = time.time() + 30
        while emojify_windows(display) and time.time() < deadline:
            time.sleep(0.1)


def start_gui(display, *args):
    env = {**os.environ, "DISPLAY": display, "PYTHONUNBUFFERED": "1"}
    STARTED.append(subprocess.Popen([sys.executable, str(ROOT / "gui.py"), *map(str, args)], cwd=ROOT, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True))
    return STARTED[-1]


def window_id(display, proc, timeout=180):
    """The window of proc once it is shown; the limit holds on a loaded machine (TensorFlow takes seconds)."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, proc.communicate()
        found = emojify_windows(display)
        if found:
            return found[0]
        time.sleep(0.2)
    pytest.fail(f"the Emojify window never appeared in {timeout} s")


def press(display, wid, key):
    # A real key event through XTEST, to the focused window, as a keyboard would send it.
    subprocess.run(["xdotool", "windowfocus", "--sync", wid, "key", key], env={**os.environ, "DISPLAY": display},
                   check=True)


def summary(stdout):
    m = re.search(r"Shown (\d+) frames \(.* fps at the end; first after [\d.]+ s\); a face in (\d+); "
                  r"most shown emoji: (\w+)", stdout)
    assert m, stdout
    return int(m[1]), int(m[2]), m[3]


@pytest.mark.parametrize("key", ["q", "Q", "Escape"])
def test_window_shows_frames_and_emoji_then_quits_on_key(display, face_video, tiny_model_path, key):
    proc = start_gui(display, "--source", face_video, "--model", tiny_model_path)
    wid = window_id(display, proc)
    time.sleep(3)  # let it play about half of the 2 s clip
    press(display, wid, key)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0, err
    shown, with_face, emoji = summary(out)
    assert shown >= 5 and with_face >= 5 and emoji in (*EMOTIONS, UNSURE)
    assert "Traceback" not in err


def test_video_end_closes_window_with_exit_at_end(display, face_video, tiny_model_path):
    proc = start_gui(display, "--source", face_video, "--model", tiny_model_path, "--exit-at-end")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    shown, with_face, _ = summary(out)
    assert with_face >= 10


def test_a_video_of_one_frame_plays_and_ends(display, tiny_model_path, tmp_path):
    from test_capture import one_frame_video
    proc = start_gui(display, "--source", one_frame_video(tmp_path / "one.mp4", size=(320, 240)), "--model",
                     tiny_model_path, "--exit-at-end")
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0 and err == "", err
    assert summary(out)[0] == 1


def test_missing_webcam_is_reported_in_the_window_and_on_exit(display, tiny_model_path):
    proc = start_gui(display, "--camera", "57", "--model", tiny_model_path)
    wid = window_id(display, proc)
    time.sleep(2)
    press(display, wid, "q")  # the window stayed responsive
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1
    assert err.strip().splitlines() == ["error: no webcam at index 57: plug one in, close other apps using it, "
                                        "or try --camera 0 (or --source FILE for a video)."]


def test_camera_that_stops_mid_run_is_reported_and_the_window_stays_responsive(display, tiny_model_path):
    # synth:WxH:N is a live source that stops delivering after N frames, like an unplugged webcam
    proc = start_gui(display, "--source", "synth:320x240:10", "--model", tiny_model_path)
    wid = window_id(display, proc)
    time.sleep(3)
    press(display, wid, "q")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0
    assert err.strip().splitlines() == ["warning: synth:320x240 stopped sending frames: check the cable, "
                                        "or close other apps using it; still retrying."]
    shown, with_face, emoji = summary(out)
    assert 1 <= shown <= 10 and with_face == 0 and emoji == "none"


@pytest.mark.parametrize("make_args, message", [
    (lambda tmp, model: ["--source", tmp / "absent.mp4", "--model", model], "not found; check the path"),
    (lambda tmp, model: ["--source", "__text__", "--model", model], "is not a video OpenCV can read"),
    (lambda tmp, model: ["--source", "synth:0x0", "--model", model], "bad synthetic source 'synth:0x0'"),
    (lambda tmp, model: ["--source", "synth:64x64", "--model", tmp / "absent.h5"], "train one with `python train.py`"),
])
def test_bad_input_is_one_line_and_nonzero_exit(display, tmp_path, tiny_model_path, make_args, message):
    text = tmp_path / "clip.mp4"
    text.write_text("hello\n")
    args = [text if a == "__text__" else a for a in make_args(tmp_path, tiny_model_path)]
    result = run_script("gui.py", *args, env={"DISPLAY": display})
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and message in lines[0]


def test_a_bad_size_echoes_what_was_typed(tiny_model_path):
    result = run_script("gui.py", "--size", "10x10", "--model", tiny_model_path)
    assert result.returncode == 2 and "received '10x10'" in result.stderr


def test_no_display_is_a_clear_error(tiny_model_path):
    env = {k: v for k, v in os.environ.items() if k != "DISPLAY"}
    result = subprocess.run([sys.executable, str(ROOT / "gui.py"), "--source", "synth:64x64", "--model",
                             str(tiny_model_path)], env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2 and "cannot open a window" in result.stderr


def test_close_button_stops_threads_and_releases_the_source(display, face_video, tiny_model_path, monkeypatch):
    """In-process on the Xvfb screen: invoke the handler Tk runs for the window manager's close button."""
    import tkinter as tk

    from emojify.backends import open_classifier
    from emojify.processor import build_live_processor
    from emojify.window.app import open_window

    monkeypatch.setenv("DISPLAY", display)
    root = tk.Tk()
    app = open_window(root, build_live_processor(open_classifier(tiny_model_path, views=1)), str(face_video), about="")
    deadline = time.time() + 30
    while app.view().frames_shown < 5 and time.time() < deadline:
        root.update()
        time.sleep(0.01)
    assert app.view().frames_shown >= 5 and app.view().shown in (*EMOTIONS, UNSURE)
    session = app.session
    assert session.source.cap.isOpened()
    root.tk.call(root.protocol("WM_DELETE_WINDOW"))
    assert app.closed and not any(t.is_alive() for t in session.threads)
    assert not session.source.cap.isOpened()  # the video (or camera) was released
    with pytest.raises(tk.TclError):
        root.winfo_exists()  # the window is gone
    del app, session, root
    gc.collect()  # here, on the Tk thread: not later on another test's worker threads (Picture.release)


@pytest.mark.parametrize("sig, delays", [(signal.SIGINT, [0.0, 0.4, 0.8, 1.2, 1.6, 2.0, 2.4, 2.8, 3.2, 3.6]),
                                         (signal.SIGTERM, [0.5, 2.5])])
def test_ctrl_c_and_sigterm_close_the_window_cleanly_every_time(display, face_video, tiny_model_path, sig, delays):
    for delay in delays:  # at different moments of playback, each time in a new window
        proc = start_gui(display, "--source", face_video, "--model", tiny_model_path)
        window_id(display, proc)
        time.sleep(delay)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=30)
        assert proc.returncode == 0, (delay, err)
        assert "Traceback" not in err
        backend, summary = out.split("\n", 1)
        assert backend == "Back-end: Keras, tiny.h5 (tiny.tflite not found)"
        assert re.match(r"Shown \d+ frames", summary), out  # the summary of a clean exit, even before a first frame


@pytest.mark.parametrize("script", ["gui.py", "train.py"])
def test_ctrl_c_before_the_window_or_the_training_starts_is_one_line(tiny_model_path, tmp_path, script):
    """At any moment of the first seconds: importing the packages (OpenCV, TensorFlow) included."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DISPLAY": ":0"}
    args = ["--source", "synth:64x64", "--model", str(tiny_model_path)] if script == "gui.py" else \
        ["--data", str(tmp_path / "nowhere"), "--run-dir", str(tmp_path / "run")]
    for delay in (0.15, 0.3, 0.6, 1.0):
        proc = subprocess.Popen([sys.executable, str(ROOT / script), *args], env=env, cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
        time.sleep(delay)
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
        if script == "train.py" and err.startswith("error: data folder"):  # done before the signal came (it
            assert err.count("\n") == 1 and proc.returncode in (2, -signal.SIGINT), (delay, err)  # may land in
            continue  # the interpreter's own shutdown, after the one error line)
        assert (proc.returncode, err.strip()) == (130, "interrupted"), (delay, err)


def test_losing_the_display_is_one_line_with_the_summary(face_video, tiny_model_path):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install -y xdotool)")
    xvfb, display = start_xvfb()  # its own X server, to be killed under the window
    try:
        proc = start_gui(display, "--source", face_video, "--model", tiny_model_path)
        window_id(display, proc)
        time.sleep(1.5)
    finally:
        xvfb.kill()
        xvfb.wait(timeout=10)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 1 and "Traceback" not in err
    assert err == f"error: lost the connection to the display {display}; Emojify closed.\n"
    shown, _, _ = summary(out)
    assert shown >= 5


def test_an_absurd_size_is_bounded_by_the_screen(display, face_video, tiny_model_path):
    proc = start_gui(display, "--source", face_video, "--model", tiny_model_path, "--size", "100000x80000")
    wid = window_id(display, proc)
    geometry = subprocess.run(["xdotool", "getwindowgeometry", wid], env={**os.environ, "DISPLAY": display},
                              capture_output=True, text=True).stdout
    w, h = map(int, re.search(r"Geometry: (\d+)x(\d+)", geometry).groups())
    assert 640 <= w <= 1280 and 480 <= h <= 1024, geometry  # the Xvfb screen is 1280x1024
    named = {title: subprocess.run(["xdotool", "search", "--name", f"^{title}$"], capture_output=True, text=True,
                                   env={**os.environ, "DISPLAY": display}).stdout.split()
             for title in ("Emojify", "Emojify tooltip")}
    assert named["Emojify"] == [wid] and len(named["Emojify tooltip"]) >= 5  # tools find the window, not a tip
    press(display, wid, "q")
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 0 and "Traceback" not in err
    assert re.search(r"picture area \d+x\d+", out)
    area = tuple(map(int, re.search(r"picture area (\d+)x(\d+)", out).groups()))
    assert area[0] <= 1280 and area[1] <= 1024


def test_sigkill_while_recording_leaves_a_readable_log_and_the_next_start_reports_the_video(
        display, face_video, fer_faces, tiny_model_path, tmp_path):
    import json

    from benchmarks.videos import write_video
    long = write_video(tmp_path / "long.mp4", fer_faces[:1], frames=900)
    out_dir = tmp_path / "pictures"
    proc = start_gui(display, "--source", long, "--model", tiny_model_path, "--out-dir", out_dir)
    wid = window_id(display, proc)
    deadline = time.time() + 60
    while not list(out_dir.glob("*.jsonl")) and time.time() < deadline:  # R works once the picture runs
        press(display, wid, "r")
        for _ in range(30):
            if list(out_dir.glob("*.jsonl")):
                break
            time.sleep(0.1)
    time.sleep(3.0)
    proc.kill()
    proc.communicate()
    [pieces] = out_dir.glob("*.partial")
    [log] = out_dir.glob("*.jsonl")
    records = [json.loads(line) for line in log.read_text().splitlines()]  # every line whole after a kill
    assert len(records) >= 30 and {r["face_id"] for r in records} == {1}

    again = start_gui(display, "--source", face_video, "--model", tiny_model_path, "--out-dir", out_dir,
                      "--exit-at-end")
    _, err = again.communicate(timeout=90)
    assert again.returncode == 0
    video = log.with_suffix(".webm")
    assert (f"warning: an earlier recording was not finished (Emojify was killed); its video up to the last "
            f"second is kept as {video}" in err.splitlines()), err
    import cv2
    cap, decoded = cv2.VideoCapture(str(video)), 0
    while cap.grab():
        decoded += 1
    assert decoded >= max(r["frame"] for r in records) + 1 - 45 and not pieces.exists()  # all but the last 1.5 s


def test_summary_path_gets_json_and_chart_and_bad_avatar_folder_is_refused(display, face_video, tiny_model_path,
                                                                          tmp_path):
    import json

    import cv2
    summary = tmp_path / "session.json"
    proc = start_gui(display, "--source", face_video, "--model", tiny_model_path, "--exit-at-end",
                     "--summary", summary)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    assert re.search(r"^Session \d+ s, 1 face\(s\):$", out, re.M) and re.search(r"^  face 1: ", out, re.M)
    data = json.loads(summary.read_text())
    assert set(data) == {"duration_s", "faces"} and list(data["faces"]) == ["1"]
    assert set(data["faces"]["1"]) == {"first_seen_s", "seconds", "share", "longest_streaks"}
    assert cv2.imread(str(summary.with_suffix(".png"))) is not None
    bad = run_script("gui.py", "--emoji-dir", tmp_path / "nowhere", "--model", tiny_model_path)
    assert bad.returncode == 2 and "--emoji-dir takes a folder of PNGs" in bad.stderr
