"""The window as a desktop app: the real Tk window on Xvfb, in this process so its widgets can be read,
driven by real key events (xdotool) while it plays real videos through the live session."""
import re
import shutil
import subprocess
import threading
import time

import numpy as np
import pytest

from live import State


@pytest.fixture(scope="module")
def display(xvfb_display):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install -y xdotool)")
    return xvfb_display


@pytest.fixture(scope="module")
def model(tiny_model_path):
    from inference import load_model
    return load_model(tiny_model_path)


@pytest.fixture
def long_video(fer_faces, tmp_path_factory):
    from benchmarks.videos import write_video
    return write_video(tmp_path_factory.mktemp("video") / "long.mp4", fer_faces[:1], frames=600)


class Window:
    """An EmojifyApp on the test's display, pumped by the test, keys sent with xdotool."""

    def __init__(self, display, model, spec, tmp_path, monkeypatch, size=(640, 480), emoji_dir=None):
        import tkinter as tk

        import gui
        from live import build_live_processor
        monkeypatch.setenv("DISPLAY", display)
        self.display = display
        self.root = tk.Tk(className="Emojify")
        try:
            self.processor = build_live_processor(model, size)
            self.app = gui.EmojifyApp(self.root, self.processor, spec, out_dir=tmp_path / "pictures",
                                      about="test", emoji_dir=emoji_dir)
            self.pump(until=lambda: self.root.winfo_viewable())
            # The window manager's handle: Tk's wrapper around the menu bar and the window, found by its title.
            found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Emojify$"],
                                   env={"DISPLAY": display}, capture_output=True, text=True).stdout.split()
            assert len(found) == 1, found
            self.wid = found[0]
        except BaseException:  # a half-built window must not stay the default root of the next test
            if hasattr(self, "app"):
                self.app.close()
            else:
                self.root.destroy()
            raise

    def pump(self, seconds=30.0, until=None):
        """Run the Tk loop for `seconds`, or until until() is true (then True)."""
        deadline = time.time() + seconds
        while time.time() < deadline and not self.app.closed:
            self.root.update()
            if until is not None and until():
                return True
            time.sleep(0.005)
        return until is None

    def xdotool(self, *args):
        subprocess.run(["xdotool", *args], env={"DISPLAY": self.display}, check=True, capture_output=True)

    def press(self, *keys):
        for key in keys:
            self.xdotool("windowfocus", "--sync", self.wid, "key", key)
            self.pump(0.3)

    def geometry(self):
        out = subprocess.run(["xdotool", "getwindowgeometry", "--shell", self.wid], env={"DISPLAY": self.display},
                             capture_output=True, text=True, check=True).stdout
        values = dict(line.split("=") for line in out.split())
        return int(values["WIDTH"]), int(values["HEIGHT"])

    def close(self):
        if not self.app.closed:
            self.app.close()


@pytest.fixture
def window(display, model, tmp_path, monkeypatch):
    opened = []

    def open_window(spec, model=model, **kwargs):
        opened.append(Window(display, model, spec, tmp_path, monkeypatch, **kwargs))
        return opened[-1]

    yield open_window
    for w in opened:
        w.close()


def picture_size(w):
    return w.app.photo.width(), w.app.photo.height()


def test_the_picture_scales_with_the_window_and_full_screen(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    assert picture_size(w) == (640, 480)
    w.xdotool("windowsize", w.wid, "1200", "760")
    assert w.pump(10, until=lambda: picture_size(w)[0] > 760)
    pw, ph = picture_size(w)
    assert abs(pw / ph - 4 / 3) < 0.01  # aspect kept
    cw, ch = w.app.video.winfo_width(), w.app.video.winfo_height()
    assert pw == cw or ph == ch  # as large as the area allows
    windowed = w.geometry()

    w.press("F11")
    assert w.app.fullscreen and w.app.fullscreen_var.get()
    assert w.pump(10, until=lambda: w.geometry() == (1280, 1024))  # the Xvfb screen
    assert w.pump(10, until=lambda: picture_size(w)[1] > ph)
    w.press("Escape")  # leaves full screen, does not quit
    assert not w.app.closed and not w.app.fullscreen
    assert w.pump(10, until=lambda: w.geometry() == windowed)
    w.press("Escape")  # now it quits
    assert w.app.closed


def test_keys_work_in_either_case_and_snapshots_are_pngs(window, long_video, tmp_path):
    import cv2
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.pump(0.1)
    assert w.app.file_menu.entrycget("Save snapshot", "state") == "normal"  # menu and button agree
    assert w.app.snapshot_button.instate(["!disabled"])
    mirror, emoji = w.processor.mirror, w.processor.emoji_on_faces
    for key in ("m", "M"):
        w.press(key)
        mirror = not mirror
        assert w.processor.mirror is mirror and w.app.mirror_var.get() is mirror
    for key in ("e", "E"):
        w.press(key)
        emoji = not emoji
        assert w.processor.emoji_on_faces is emoji and w.app.emoji_var.get() is emoji
    w.press("e")  # on, for the snapshots
    w.pump(0.3)
    w.press("s", "S")
    shots = sorted((tmp_path / "pictures").glob("emojify-*.png"))
    assert len(shots) == 2
    for shot in shots:
        image = cv2.imread(str(shot))
        assert image is not None and image.shape[:2] == (480, 640)
    x, y, bw, bh = (int(v) for v in w.app.last_faces[0].box)  # emoji over faces is on: the shot shows it
    b, g, r = (image[y + bh // 4:y + 3 * bh // 4, x + bw // 4:x + 3 * bw // 4].reshape(-1, 3).astype(int).T)
    assert ((r > 200) & (g > 150) & (b < 100)).mean() > 0.3  # the emoji's yellow, not the gray FER face
    assert re.search(r"saved .*emojify-.*\.png", w.app.status.cget("text"))
    w.press("Q")
    assert w.app.closed


def test_emoji_over_faces_changes_the_pixels_inside_the_boxes(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.press("space")
    plain = w.app.last_image.copy()
    w.press("e")
    assert w.pump(5, until=lambda: w.app.last_image is not None and not np.array_equal(w.app.last_image, plain))
    with_emoji = w.app.last_image
    w.press("e")
    x, y, bw, bh = (int(v) for v in w.app.last_faces[0].box)
    inside = (slice(y + bh // 4, y + 3 * bh // 4), slice(x + bw // 4, x + 3 * bw // 4))
    assert np.abs(with_emoji[inside].astype(int) - plain[inside]).mean() > 30


def test_pause_holds_the_picture_and_mirror_flips_the_frozen_one(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.press("space")
    assert w.app.session.state is State.PAUSED and w.app.pause_button.cget("text") == "Resume"
    w.pump(0.5)
    before, shown = w.app.last_image.copy(), w.app.frames_shown
    w.pump(1.0)
    assert w.app.frames_shown == shown  # nothing new while paused
    w.press("m")
    assert w.pump(5, until=lambda: w.app.frames_shown == shown + 1)  # the same frame, mirrored
    after = w.app.last_image.astype(np.float32)
    flipped = before[:, ::-1].astype(np.float32)
    assert np.abs(after - flipped).mean() < 0.5 * np.abs(after - before.astype(np.float32)).mean()
    w.press("space")
    assert w.app.session.state is State.RUNNING and w.app.pause_button.cget("text") == "Pause"
    assert w.pump(5, until=lambda: w.app.frames_shown > shown + 3)


def test_no_camera_is_one_clear_state_with_nothing_to_pause(window):
    w = window(57)
    assert w.pump(until=lambda: w.app.session.state is State.NO_SOURCE)
    w.pump(0.5)
    banner = w.app.video.itemcget(w.app.banner, "text")
    assert banner.startswith("No camera\nno webcam at index 57") and "Trying again every 3 s" in banner
    assert w.app.status.cget("text") == "camera 57"  # the state is said once: on the picture
    assert w.app.pause_button.instate(["disabled"]) and w.app.snapshot_button.instate(["disabled"])
    assert w.app.caption.cget("text") == "" and w.app.emotion_text.cget("text") == ""
    w.press("space")
    assert w.app.session.state is State.NO_SOURCE
    assert w.pump(10, until=lambda: w.app.cameras is not None and w.app.shown_cameras == w.app.cameras)
    assert w.app.camera_menu.entrycget(0, "label") == "no camera found"


def test_end_of_video_offers_replay(window, face_video):
    w = window(str(face_video))
    assert w.pump(60, until=lambda: w.app.session.state is State.ENDED)
    w.pump(0.5)
    assert w.app.pause_button.cget("text") == "Replay" and w.app.pause_button.instate(["!disabled"])
    assert w.app.video.itemcget(w.app.banner, "text").startswith("End of video")
    shown = w.app.frames_shown
    w.press("space")
    assert w.pump(10, until=lambda: w.app.session.state is State.RUNNING)
    assert w.pump(10, until=lambda: w.app.frames_shown > shown + 5)
    assert w.app.video.itemcget(w.app.banner, "text") == ""


def test_fps_readout_is_the_files_frame_rate_and_the_summary_agrees(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.pump(3.0)
    m = re.search(r"\|\s+([\d.]+) fps", w.app.status.cget("text"))
    assert m and 20 <= float(m[1]) <= 31.5, w.app.status.cget("text")
    percents = [w.app.bars.itemcget(item, "text") for item in w.app.bars.texts]
    assert all(re.fullmatch(r"\d+%", p) for p in percents) and 95 <= sum(int(p[:-1]) for p in percents) <= 105
    w.press("q")
    assert f"{w.app.fps:.1f} fps at the end" in w.app.summary()
    assert re.search(rf"{w.app.fps:4.1f} fps", w.app.status_text)  # as the status bar said last


def test_open_video_from_the_file_menu(window, face_video, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)

    def answer_the_dialog():  # the dialog runs its own event loop inside the key handler
        time.sleep(2.0)
        env = {"DISPLAY": w.display}
        subprocess.run(["xdotool", "type", "--delay", "10", str(face_video)], env=env, check=True)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True)

    typist = threading.Thread(target=answer_the_dialog)
    typist.start()
    w.press("ctrl+o")
    typist.join()
    assert w.pump(10, until=lambda: w.app.spec == str(face_video))
    assert w.pump(30, until=lambda: w.app.session.state is State.ENDED)
    assert w.app.label == face_video.name


def test_r_records_a_video_and_a_log_whose_faces_match_it(window, long_video, tmp_path):
    import json

    import cv2

    from overlay import COLORS, shown_as
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.press("r")
    assert w.app.recorder is not None
    assert w.pump(5, until=lambda: w.app.video.itemcget(w.app.rec, "text").startswith("\u25cf REC 0:0"))
    w.pump(3.0)
    seconds = w.app.recorder.seconds
    w.press("R")
    assert w.pump(30, until=lambda: w.app.stopping is None and w.app.record_button.cget("text") == "Record")
    assert w.app.video.itemcget(w.app.rec, "text") == ""
    folder = tmp_path / "pictures"
    [video] = folder.glob("emojify-*.webm")
    assert not list(folder.glob("*.partial*"))
    assert w.pump(2, until=lambda: f"saved {video}" in w.app.status.cget("text"))
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    assert abs(len(frames) - seconds * 30) <= 0.1 * seconds * 30, (len(frames), seconds)
    records = [json.loads(line) for line in video.with_suffix(".jsonl").read_text().splitlines()]
    assert len(records) >= seconds * 15 and {r["face_id"] for r in records} == {1}
    for record in records[5::20]:  # the box of each logged face is drawn in that frame of the video
        x, y, bw, bh = record["box"]
        frame = frames[record["frame"]]
        from faces import Face
        face = Face(record["box"], np.array(list(record["probabilities"].values())))
        edge = frame[y + bh // 2, max(x - 1, 0):x + 3].astype(int)  # the box's left side, 3+ px thick
        assert np.abs(edge - COLORS[shown_as(face)]).sum(axis=1).min() < 90, (record, edge)
    summary = json.loads(video.with_suffix("").with_suffix(".summary.json").read_text())
    assert list(summary["faces"]) == ["1"]


def test_calibration_in_the_window_turns_a_sad_looking_resting_face_neutral(window, fer_test_dir, tmp_path):
    import cv2

    from benchmarks.videos import write_video
    from config import MODEL_PATH
    from inference import load_model
    rest = cv2.imread(str(fer_test_dir / "neutral/PublicTest_1153675.jpg"), cv2.IMREAD_GRAYSCALE)
    video = write_video(tmp_path / "rest.mp4", [rest], frames=450)
    w = window(str(video), model=load_model(MODEL_PATH))
    assert w.pump(until=lambda: w.app.frames_shown >= 10)
    assert w.app.shown_emotion == "sad"
    w.press("c")
    assert w.pump(2, until=lambda: w.app.video.itemcget(w.app.notice, "text").startswith("Hold a neutral face"))
    assert w.pump(10, until=lambda: w.app.processor.calibration.result is not None)
    assert w.pump(2, until=lambda: w.app.calibration_label.cget("text").startswith(
        "calibrated: your resting face read sad"))
    assert w.pump(5, until=lambda: w.app.shown_emotion == "neutral")
    assert w.app.emotion_text.cget("text") == "Neutral" and w.app.video.itemcget(w.app.notice, "text") == ""


def test_copy_summary_strip_and_hints(window, long_video, tmp_path, capsys):
    from emotions import EMOJI_CHARS, UNSURE, UNSURE_CHAR
    w = window(str(long_video))
    assert w.pump(until=lambda: w.app.frames_shown >= 3)
    w.pump(2.0)
    w.press("ctrl+c")
    shown = w.app.shown_emotion
    assert w.root.clipboard_get() == (UNSURE_CHAR if shown == UNSURE else EMOJI_CHARS[shown])
    assert w.pump(2, until=lambda: "to the clipboard" in w.app.status.cget("text"))
    assert w.app.strip.emotion_at_right_edge() == shown
    w.press("t")
    assert w.app.summary_window.winfo_exists() and w.app.summary_window.title() == "Emojify session summary"
    assert "face 1:" in capsys.readouterr().out
    assert w.app.hint.cget("text") in ("", "face small: come closer")  # a well-lit face, centred


def test_a_dark_picture_gets_a_hint(window, tmp_path):
    import cv2
    path = tmp_path / "dark.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for _ in range(60):
        out.write(np.full((240, 320, 3), 15, np.uint8))
    out.release()
    w = window(str(path))
    assert w.pump(until=lambda: w.app.hint.cget("text") == "too dark: light your face from the front")


def test_own_emoji_pictures_replace_the_built_in_ones(window, long_video, tmp_path):
    import cv2
    folder = tmp_path / "avatars"
    folder.mkdir()
    red = np.zeros((64, 64, 4), np.uint8)
    red[..., 2] = red[..., 3] = 255
    for name in ("happy", "neutral", "unsure"):
        cv2.imwrite(str(folder / f"{name}.png"), red)
    w = window(str(long_video), emoji_dir=folder)
    assert w.app.flash[0] == (f"emoji pictures from {folder}; built-in ones for angry, disgust, fear, sad, surprise "
                              "(missing or unreadable there)")
    assert np.asarray(w.app.emoji_sources["happy"])[..., 0].min() == 255  # RGBA: red
    assert (w.processor.emojis["neutral"][..., 2] == 255).all()
