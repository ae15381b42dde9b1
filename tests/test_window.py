"""The window as a desktop app: the real Tk window on Xvfb, in this process so its widgets can be read,
driven by real key events (xdotool) while it plays real videos through the live session."""
import gc
import re
import shutil
import subprocess
import sys
import threading
import time
import traceback

import numpy as np
import pytest

from emojify.live import State


@pytest.fixture(scope="module")
def display(xvfb_display):
    if shutil.which("xdotool") is None:
        pytest.skip("xdotool is not installed (apt-get install -y xdotool)")
    return xvfb_display


@pytest.fixture(scope="module")
def model(tiny_model_path):
    from emojify.backends import open_classifier
    return open_classifier(tiny_model_path, views=1, say=lambda line: None)


@pytest.fixture
def long_video(fer_faces, tmp_path_factory):
    from benchmarks.videos import write_video
    return write_video(tmp_path_factory.mktemp("video") / "long.mp4", fer_faces[:1], frames=600)


class Window:
    """An EmojifyApp on the test's display, pumped by the test, keys sent with xdotool."""

    def __init__(self, display, model, spec, tmp_path, monkeypatch, size=(640, 480), emoji_dir=None):
        import tkinter as tk

        from emojify.processor import build_live_processor
        from emojify.window.app import open_window
        monkeypatch.setenv("DISPLAY", display)
        self.display = display
        self.root = tk.Tk(className="Emojify")
        try:
            self.processor = build_live_processor(model, size)
            self.app = open_window(self.root, self.processor, spec, out_dir=tmp_path / "pictures", about="test",
                                   emoji_dir=emoji_dir)
            self.pump(until=lambda: self.root.winfo_viewable())
            # The window manager's handle: Tk's wrapper around the menu bar and the window, found by its title,
            # once the one of a test before has gone (X may take a moment to drop it).
            deadline, found = time.time() + 30, []
            while time.time() < deadline:
                found = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Emojify$"],
                                       env={"DISPLAY": display}, capture_output=True, text=True).stdout.split()
                if len(found) == 1:
                    break
                self.pump(0.1)
            assert len(found) == 1, found
            self.wid = found[0]
        except BaseException:  # a half-built window must not stay the default root of the next test
            if hasattr(self, "app"):
                self.app.close()
            else:
                self.root.destroy()
            raise

    def view(self):
        return self.app.view()

    def pump(self, seconds=30.0, until=None):
        """Run the Tk loop for `seconds`, or until until() is true (then True)."""
        deadline = time.time() + seconds
        while time.time() < deadline and not self.app.closed:
            self.root.update()
            if until is not None and until():
                return True
            time.sleep(0.005)
        if until is not None:  # a wait that failed: where the session's threads stood, in the test's report
            print_thread_stacks()
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


def print_thread_stacks():
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():
        if ident != threading.get_ident():
            print(f"--- thread {names.get(ident, ident)}:\n" + "".join(traceback.format_stack(frame)[-6:]))


@pytest.fixture
def window(display, model, tmp_path, monkeypatch):
    opened = []

    def open_window(spec, model=model, **kwargs):
        opened.append(Window(display, model, spec, tmp_path, monkeypatch, **kwargs))
        return opened[-1]

    yield open_window
    for w in opened:
        w.close()
    # What the closed window left is collected here, on the Tk thread, not on the next window's workers.
    opened.clear()
    gc.collect()


def picture_size(w):
    return w.view().picture_size


def test_the_picture_scales_with_the_window_and_full_screen(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    assert picture_size(w) == (640, 480)
    w.xdotool("windowsize", w.wid, "1200", "760")
    assert w.pump(10, until=lambda: picture_size(w)[0] > 760)
    pw, ph = picture_size(w)
    assert abs(pw / ph - 4 / 3) < 0.01  # aspect kept
    cw, ch = w.view().picture_area
    assert pw == cw or ph == ch  # as large as the area allows
    windowed = w.geometry()

    w.press("F11")
    assert w.view().fullscreen and w.view().fullscreen
    assert w.pump(10, until=lambda: w.geometry() == (1280, 1024))  # the Xvfb screen
    assert w.pump(10, until=lambda: picture_size(w)[1] > ph)
    w.press("Escape")  # leaves full screen, does not quit
    assert not w.app.closed and not w.view().fullscreen
    assert w.pump(10, until=lambda: w.geometry() == windowed)
    w.press("Escape")  # now it quits
    assert w.app.closed


def test_keys_work_in_either_case_and_snapshots_are_pngs(window, long_video, tmp_path):
    import cv2
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.pump(0.1)
    assert w.view().snapshot_menu_enabled  # menu and button agree
    assert w.view().snapshot_enabled
    mirror, emoji = w.view().mirror, w.view().emoji_on_faces
    for key in ("m", "M"):
        w.press(key)
        mirror = not mirror
        assert w.view().mirror is mirror and w.view().mirror_checked is mirror
    for key in ("e", "E"):
        w.press(key)
        emoji = not emoji
        assert w.view().emoji_on_faces is emoji and w.view().emoji_checked is emoji
    shown = w.view().frames_shown
    w.press("e")  # on, for the snapshots: taken once frames drawn after the key are on screen
    assert w.pump(10, until=lambda: w.view().frames_shown >= shown + 3)
    w.press("s", "S")
    shots = sorted((tmp_path / "pictures").glob("emojify-*.png"))
    assert len(shots) == 2
    for shot in shots:
        image = cv2.imread(str(shot))
        assert image is not None and image.shape[:2] == (480, 640)
    x, y, bw, bh = (int(v) for v in w.view().faces[0].box)  # emoji over faces is on: the shot shows it
    b, g, r = (image[y + bh // 4:y + 3 * bh // 4, x + bw // 4:x + 3 * bw // 4].reshape(-1, 3).astype(int).T)
    assert ((r > 200) & (g > 150) & (b < 100)).mean() > 0.3  # the emoji's yellow, not the gray FER face
    assert re.search(r"saved .*emojify-.*\.png", w.view().status)
    w.press("Q")
    assert w.app.closed


def test_emoji_over_faces_changes_the_pixels_inside_the_boxes(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.press("space")
    plain = w.view().image.copy()
    w.press("e")
    assert w.pump(5, until=lambda: w.view().image is not None and not np.array_equal(w.view().image, plain))
    with_emoji = w.view().image
    w.press("e")
    x, y, bw, bh = (int(v) for v in w.view().faces[0].box)
    inside = (slice(y + bh // 4, y + 3 * bh // 4), slice(x + bw // 4, x + 3 * bw // 4))
    assert np.abs(with_emoji[inside].astype(int) - plain[inside]).mean() > 30


def test_pause_holds_the_picture_and_mirror_flips_the_frozen_one(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.press("space")
    assert w.view().state is State.PAUSED and w.view().pause_label == "Resume"
    w.pump(0.5)
    before, shown = w.view().image.copy(), w.view().frames_shown
    w.pump(1.0)
    assert w.view().frames_shown == shown  # nothing new while paused
    w.press("m")
    assert w.pump(5, until=lambda: w.view().frames_shown == shown + 1)  # the same frame, mirrored
    after = w.view().image.astype(np.float32)
    flipped = before[:, ::-1].astype(np.float32)
    assert np.abs(after - flipped).mean() < 0.5 * np.abs(after - before.astype(np.float32)).mean()
    w.press("space")
    assert w.view().state is State.RUNNING and w.view().pause_label == "Pause"
    assert w.pump(5, until=lambda: w.view().frames_shown > shown + 3)


def test_no_camera_is_one_clear_state_with_nothing_to_pause(window):
    w = window(57)
    assert w.pump(until=lambda: w.view().state is State.NO_SOURCE)
    w.pump(0.5)
    banner = w.view().banner
    assert banner == ("No camera\nno webcam at index 57: plug one in, or close other apps using it.\nTrying again "
                      "every 3 s.\nFile > Camera lists the cameras found; File > Open video plays a video file.")
    assert w.view().status == "camera 57"  # the state is said once: on the picture
    assert not w.view().pause_enabled and not w.view().snapshot_enabled
    tools = w.view().tools
    assert not any(tools[name] for name in ("Record", "Calibrate", "Copy emoji", "Snapshot"))
    assert tools["Quit"] and tools["Full screen"]
    assert w.view().caption == "" and w.view().heading == ""
    w.press("space")
    assert w.view().state is State.NO_SOURCE
    assert w.pump(10, until=lambda: w.view().cameras == ("no camera found",))


def test_end_of_video_offers_replay(window, face_video):
    w = window(str(face_video))
    assert w.pump(60, until=lambda: w.view().state is State.ENDED), (w.view().state, w.view().banner,
                                                                     w.view().status, w.view().frames_shown)
    w.pump(0.5)
    assert w.view().pause_label == "Replay" and w.view().pause_enabled
    assert w.view().banner.startswith("End of video")
    shown = w.view().frames_shown
    w.press("space")
    assert w.pump(10, until=lambda: w.view().state is State.RUNNING)
    assert w.pump(10, until=lambda: w.view().frames_shown > shown + 5)
    assert w.view().banner == ""


def test_closing_leaves_no_picture_of_the_window_for_another_thread_to_delete(window, long_video):
    # A Tk object collected on a worker thread stalls it a second where no Tk main loop runs (Picture.release).
    import tkinter as tk

    from PIL import ImageTk
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.press("t")  # the summary window has a picture too
    assert w.view().summary_open
    interp = w.root.tk
    w.press("Q")
    assert w.app.closed
    gc.collect()
    left = [o for o in gc.get_objects() if isinstance(o, tk.Variable) and o._tk is interp or
            isinstance(o, ImageTk.PhotoImage) and getattr(getattr(o, "_PhotoImage__photo", None), "tk", None) is interp]
    assert left == []


def test_fps_readout_is_the_files_frame_rate_and_the_summary_agrees(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.pump(3.0)
    m = re.search(r"\|\s+([\d.]+) fps", w.view().status)
    assert m and 20 <= float(m[1]) <= 31.5, w.view().status
    percents = w.view().bars
    assert all(re.fullmatch(r"\d+%", p) for p in percents) and 95 <= sum(int(p[:-1]) for p in percents) <= 105
    w.press("q")
    assert f"{w.view().fps:.1f} fps at the end" in w.app.summary()
    assert re.search(rf"{w.view().fps:4.1f} fps", w.view().status)  # as the status bar said last


def test_open_video_from_the_file_menu(window, face_video, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)

    def answer_the_dialog():  # the dialog runs its own event loop inside the key handler
        time.sleep(2.0)
        env = {"DISPLAY": w.display}
        subprocess.run(["xdotool", "type", "--delay", "10", str(face_video)], env=env, check=True)
        subprocess.run(["xdotool", "key", "Return"], env=env, check=True)

    typist = threading.Thread(target=answer_the_dialog)
    typist.start()
    w.press("ctrl+o")
    typist.join()
    assert w.pump(10, until=lambda: w.view().spec == str(face_video))
    assert w.pump(30, until=lambda: w.view().state is State.ENDED)
    assert w.view().source == face_video.name


def test_r_records_a_video_and_a_log_whose_faces_match_it(window, long_video, tmp_path):
    import json

    import cv2

    from emojify.overlay import shown_as
    from emojify.emotions import COLORS
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.press("r")
    assert w.view().recording
    assert w.pump(5, until=lambda: w.view().rec.startswith("\u25cf REC 0:0"))
    w.pump(3.0)
    recorder = w.app.recording.recorder
    w.press("R")
    # Finishing decodes the video again to check it: over 30 s once in the whole suite on 2 cores (it did finish).
    assert w.pump(120, until=lambda: not w.view().finishing and w.view().record_label == "Record")
    assert w.view().rec == ""
    folder = tmp_path / "pictures"
    [video] = folder.glob("emojify-*.webm")
    assert not list(folder.glob("*.partial*"))
    assert w.pump(2, until=lambda: f"saved {video}" in w.view().status)
    cap = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    records = [json.loads(line) for line in video.with_suffix(".jsonl").read_text().splitlines()]
    assert len(records) >= 0.9 * recorder.received and {r["face_id"] for r in records} == {1}
    # The video keeps the pictures' capture clock (30 fps, a picture repeated while the next is late), however
    # fast this machine processed them: its length is the last logged picture's time.
    assert records[-1]["time"] > 1.0
    assert abs(len(frames) - (round(records[-1]["time"] * 30) + 1)) <= 2, (len(frames), records[-1]["time"])
    for record in records[5::20]:  # the box of each logged face is drawn in that frame of the video
        x, y, bw, bh = record["box"]
        frame = frames[record["frame"]]
        from emojify.faces import Face
        face = Face(record["box"], np.array(list(record["probabilities"].values())))
        edge = frame[y + bh // 2, max(x - 1, 0):x + 3].astype(int)  # the box's left side, 3+ px thick
        assert np.abs(edge - COLORS[shown_as(face)]).sum(axis=1).min() < 90, (record, edge)
    summary = json.loads(video.with_suffix("").with_suffix(".summary.json").read_text())
    assert list(summary["faces"]) == ["1"]


def test_calibration_in_the_window_turns_a_sad_looking_resting_face_neutral(window, fer_test_dir, tmp_path):
    import cv2

    from benchmarks.videos import write_video
    from emojify.config import MODEL_PATH
    from emojify.backends import open_classifier
    rest = cv2.imread(str(fer_test_dir / "neutral/PublicTest_1153675.jpg"), cv2.IMREAD_GRAYSCALE)
    video = write_video(tmp_path / "rest.mp4", [rest], frames=450)
    w = window(str(video), model=open_classifier(MODEL_PATH, views=1))
    assert w.pump(until=lambda: w.view().frames_shown >= 10)
    assert w.view().shown in ("sad", "unsure")  # its top reading is sad, by a margin the crop decides
    w.press("c")
    assert w.pump(2, until=lambda: w.view().notice.startswith("Hold a neutral face"))
    assert w.view().notice_look == ("white", "#202020", True)  # white on a dark box, on the picture itself
    assert w.pump(10, until=lambda: w.processor.calibration.result is not None)
    assert w.pump(2, until=lambda: w.view().calibration.startswith(
        "calibrated: your resting face read sad"))
    assert w.pump(5, until=lambda: w.view().shown == "neutral")
    assert w.view().heading == "Neutral" and w.view().notice == ""


def test_copy_summary_strip_and_hints(window, long_video, tmp_path, capsys):
    from emojify.emotions import EMOJI_CHARS, UNSURE, UNSURE_CHAR
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    w.pump(2.0)
    w.press("ctrl+c")
    shown = w.view().shown
    assert w.root.clipboard_get() == (UNSURE_CHAR if shown == UNSURE else EMOJI_CHARS[shown])
    assert w.pump(2, until=lambda: "to the clipboard" in w.view().status)
    assert w.view().strip_now == shown
    assert w.view().legend == "colours as in the bars above; grey: not sure; blank: no face"
    w.press("t")
    assert w.view().summary_open and w.app.summary_window.title() == "Emojify session summary"
    assert "face 1:" in capsys.readouterr().out
    assert w.view().hint in ("", "face small: come closer")  # a well-lit face, centred


def test_a_dark_picture_gets_a_hint(window, tmp_path):
    import cv2
    path = tmp_path / "dark.mp4"
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, (320, 240))
    for _ in range(60):
        out.write(np.full((240, 320, 3), 15, np.uint8))
    out.release()
    w = window(str(path))
    assert w.pump(until=lambda: w.view().hint == "too dark: light your face from the front")


def test_own_emoji_pictures_replace_the_built_in_ones(window, long_video, tmp_path):
    import cv2
    folder = tmp_path / "avatars"
    folder.mkdir()
    red = np.zeros((64, 64, 4), np.uint8)
    red[..., 2] = red[..., 3] = 255
    for name in ("happy", "neutral", "unsure"):
        cv2.imwrite(str(folder / f"{name}.png"), red)
    w = window(str(long_video), emoji_dir=folder)
    assert w.pump(5, until=lambda: w.view().status.endswith(
        f"emoji pictures from {folder}; built-in ones for angry, disgust, fear, sad, surprise "
        "(missing or unreadable there)"))
    assert w.pump(5, until=lambda: w.view().frames_shown >= 3)
    assert (w.processor.emojis["neutral"][..., 2] == 255).all()


def test_the_toolbar_fits_the_narrowest_window_and_keys_in_an_open_menu_stay_the_menus(window, long_video):
    w = window(str(long_video))
    assert w.pump(until=lambda: w.view().frames_shown >= 3)
    assert w.view().cut_off == ()
    w.xdotool("windowsize", w.wid, "640", "480")  # the smallest the window allows
    assert w.pump(10, until=lambda: w.geometry()[0] == 640 and w.view().cut_off == ())
    w.pump(0.5)
    assert w.view().cut_off == ()
    w.press("alt+f")  # the File menu opens (Alt and the underlined letter), Escape closes it: the app stays
    w.press("Escape")
    w.pump(0.5)
    assert not w.app.closed
    w.press("Escape")  # no menu open: Escape quits, as it says
    assert w.app.closed


def test_a_long_session_summary_scrolls_and_its_close_button_stays_on_screen(window, long_video):
    from emojify.plots import summary_chart
    from emojify.window.widgets import show_summary_window
    w = window(str(long_video))
    faces = {str(i): {"first_seen_s": 0.0, "seconds": 100.0 - i, "share": {"happy": 1.0},
                      "longest_streaks": [{"emotion": "happy", "seconds": 1.0, "start_s": 0.0}]} for i in range(1, 66)}
    summary = {"duration_s": 180.0, "faces": faces}
    lines = ["Session 180 s, 65 face(s):"] + [f"  face {i}: ..." for i in faces]
    top = show_summary_window(w.root, lines, summary_chart(summary, most=8))
    w.pump(1.0)
    assert top.winfo_height() < w.root.winfo_screenheight() and float(top.text.yview()[1]) < 1.0  # it scrolls
    [close] = [c for c in top.winfo_children() if c.winfo_class() == "Button"]
    assert close.cget("text") == "Close" and close.winfo_rooty() + close.winfo_height() <= w.root.winfo_screenheight()
    top.destroy()


def test_with_several_faces_the_panel_and_the_status_bar_say_which_and_how_many(window, three_face_video):
    w = window(str(three_face_video))
    assert w.pump(until=lambda: len(w.view().faces) == 3)
    assert w.pump(5, until=lambda: re.match(r"face \d+ \(largest of 3\): ", w.view().caption) is not None)
    assert w.pump(2, until=lambda: w.view().status.endswith("3 faces") or "3 faces  |" in w.view().status)
    faces = w.view().faces
    assert w.view().caption.startswith(f"face {faces[0].id} (largest of 3)")


def test_copy_emoji_copies_the_face_of_the_last_second_when_the_detector_misses_a_frame(display, monkeypatch):
    """The panel alone, in a real Tk window: a face, then two frames where the detector lost it."""
    import tkinter as tk

    from emojify.faces import Face
    from emojify.overlay import load_emojis
    from emojify.window.panel import Panel
    from emojify.emotions import EMOJI_CHARS, EMOTIONS
    monkeypatch.setenv("DISPLAY", display)
    root, panel = tk.Tk(), None
    try:
        panel, said = Panel(root, "#dcdad5", 60.0), []
        panel.set_emojis(load_emojis(size=64))
        happy = np.eye(len(EMOTIONS), dtype=np.float32)[EMOTIONS.index("happy")]
        panel.show([Face((0, 0, 100, 100), happy, 1)], None, lambda: [], now=10.0)
        panel.show([], None, lambda: [], now=10.1)
        panel.show([], None, lambda: [], now=10.2)
        panel.copy_emoji(root, said.append, now=10.3)
        assert root.clipboard_get() == EMOJI_CHARS["happy"] and said == ["copied the happy emoji to the clipboard"]
        panel.copy_emoji(root, said.append, now=12.0)  # gone for more than a second: no face any more
        assert said[-1] == "no face in view: nothing to copy"
    finally:
        if panel is not None:
            panel.release()  # on this thread, before its window goes (Picture.release says why)
        root.destroy()
