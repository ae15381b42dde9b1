"""What the live session offers every front-end, UI-free, on real video decoding and real Keras models: face
ids, the "not sure" state, capture hints, calibration, the timeline and summary, recording, avatars."""
import json
import shutil
import subprocess
import sys
import time

import cv2
import numpy as np
import pytest

from emojify.capture import open_source
from conftest import ROOT
from emojify.emotions import EMOTIONS, UNSURE
from emojify.faces import Face, Smoother
from emojify.hints import capture_hint
from emojify.backends import open_classifier
from emojify.live import LiveSession, State
from emojify.processor import build_live_processor
from emojify.overlay import load_emojis, shown_as
from emojify.recorder import Recorder, recover, unfinished_recordings
from emojify.timeline import Timeline, summary_lines


@pytest.fixture(scope="module")
def tiny(tiny_model_path):
    return open_classifier(tiny_model_path, views=1, say=lambda line: None)


def probs(**given):
    p = np.array([given.get(e, 0.0) for e in EMOTIONS], np.float32)
    return p / p.sum()


def test_faces_keep_their_id_while_in_view_and_new_faces_get_new_ones():
    smoother = Smoother()
    a, b = (10, 10, 100, 100), (300, 10, 100, 100)
    first = smoother([Face(a, probs(happy=1)), Face(b, probs(sad=1))])
    moved = smoother([Face((14, 12, 100, 100), probs(happy=1)), Face((304, 10, 100, 100), probs(sad=1))])
    assert [f.id for f in first] == [f.id for f in moved] == [1, 2]
    smoother([])  # both leave the picture
    back = smoother([Face(a, probs(happy=1))])
    assert back[0].id == 3


def test_a_face_with_a_low_or_split_top_probability_is_not_sure():
    assert not Face((0, 0, 1, 1), probs(happy=0.8, sad=0.2)).unsure
    assert Face((0, 0, 1, 1), probs(happy=0.35, sad=0.3, fear=0.35)).unsure      # low top
    assert Face((0, 0, 1, 1), probs(happy=0.46, sad=0.44, fear=0.1)).unsure      # top two close
    assert shown_as(Face((0, 0, 1, 1), probs(happy=0.46, sad=0.44, fear=0.1))) == UNSURE


def test_capture_hints_say_what_is_wrong():
    gray = np.full((480, 640, 3), 120, np.uint8)
    assert capture_hint(gray // 4, []) == "too dark: light your face from the front"
    assert capture_hint(np.full_like(gray, 240), []).startswith("too bright")
    assert capture_hint(gray, []) == "no face found: look at the camera"
    assert capture_hint(gray, [Face((270, 190, 100, 100), probs(happy=1))]) == "face small: come closer"
    assert capture_hint(gray, [Face((265, 185, 110, 110), probs(happy=1))]) is None  # well within reach
    assert capture_hint(gray, [Face((520, 150, 120, 120), probs(happy=1))]).startswith("face near the edge")
    assert capture_hint(gray, [Face((220, 120, 200, 200), probs(happy=1))]) is None
    dark_face = gray.copy()
    dark_face[120:320, 220:420] = 30
    assert capture_hint(dark_face, [Face((220, 120, 200, 200), probs(happy=1))]).startswith("face too dark")


def frames_of(face, n, t0=0.0):
    from benchmarks.videos import background_frame, face_frame
    back = background_frame()
    return [face_frame([face], face_px=(240,), t=t0 + i / 30, background=back) for i in range(n)]


def read(processor, face, n=16):
    """The emotion the live path shows for a face after n frames of it."""
    shown = None
    for frame in frames_of(face, n):
        faces = processor(frame).result.faces
        shown = faces[0].emotion if faces else None
    return shown


@pytest.mark.parametrize("resting", ["neutral/PublicTest_1153675.jpg", "neutral/PublicTest_12186348.jpg"])
def test_calibration_makes_a_resting_face_read_neutral_and_keeps_clear_expressions(fer_test_dir, resting):
    """A neutral face that the shipped model reads sad (or angry), then clearly happy and surprised faces."""
    from emojify.config import MODEL_PATH
    processor = build_live_processor(open_classifier(MODEL_PATH, views=1), (640, 480))
    rest = cv2.imread(str(fer_test_dir / resting), cv2.IMREAD_GRAYSCALE)
    clear = {"happy": ["happy/PublicTest_10248771.jpg", "happy/PublicTest_11060787.jpg"],
             "surprise": ["surprise/PublicTest_10984020.jpg", "surprise/PublicTest_13722582.jpg"]}
    before = read(processor, rest)
    assert before in ("sad", "angry")

    processor.calibration.start()
    deadline = time.perf_counter() + 30
    while processor.calibration.result is None and time.perf_counter() < deadline:
        for frame in frames_of(rest, 10):
            processor(frame)
    result = processor.calibration.result
    assert result.ok and result.message.startswith(f"calibrated: your resting face read {before}")
    assert np.argmax(result.after) == EMOTIONS.index("neutral")

    processor.pipeline.reset()
    assert read(processor, rest) == "neutral"
    for emotion, names in clear.items():
        for name in names:
            processor.pipeline.reset()
            assert read(processor, cv2.imread(str(fer_test_dir / name), cv2.IMREAD_GRAYSCALE)) == emotion, name

    processor.calibration.forget()
    processor.pipeline.reset()
    assert read(processor, rest) == before


def test_calibration_without_a_face_says_so(tiny):
    processor = build_live_processor(tiny, (320, 240))
    processor.calibration.seconds = 0.3
    processor.calibration.start()
    blank = np.full((240, 320, 3), 120, np.uint8)
    deadline = time.perf_counter() + 5
    while processor.calibration.result is None and time.perf_counter() < deadline:
        processor(blank)
    assert not processor.calibration.result.ok and "face in view" in processor.calibration.result.message
    assert not processor.calibration.active


def run_session(video, model, consumers, emoji=True):
    processor = build_live_processor(model, (640, 480))
    processor.emoji_on_faces = emoji
    session = LiveSession(lambda: open_source(str(video)), processor)
    for consumer in consumers(processor):
        session.add_consumer(consumer)
    session.start()
    deadline = time.time() + 120
    while session.state is not State.ENDED and time.time() < deadline:
        time.sleep(0.02)
    session.close()
    return session


def test_the_timeline_keeps_the_last_minute_and_sums_up_each_face(three_face_video, tiny):
    timeline = Timeline(window_s=0.5)
    run_session(three_face_video, tiny, lambda p: [timeline])
    strip = timeline.strip()
    assert strip and strip[-1][0] == 0.0 and max(age for age, _ in strip) <= 0.5
    summary = timeline.summary(min_seconds=0.3)
    assert 0.5 < summary["duration_s"] < 2.0  # the clip lasts 1 s; frames come paced at its 30 fps
    assert len(summary["faces"]) == 3
    for face in summary["faces"].values():
        assert abs(sum(face["share"].values()) - 1) < 0.01 and set(face["share"]) <= {*EMOTIONS, UNSURE}
        assert face["longest_streaks"][0]["seconds"] <= face["seconds"] + 1e-6
    lines = summary_lines(summary)
    assert lines[0].startswith("Session 1 s, 3 face(s):") and len(lines) == 4


def test_recording_writes_a_video_browsers_play_a_log_and_a_summary(face_video, tiny, tmp_path):
    recorders = []
    run_session(face_video, tiny, lambda p: [recorders.append(Recorder(tmp_path, fps=30, stem="clip"))
                                             or recorders[0]])
    result = recorders[0].stop()
    assert result.ok, result.message
    assert result.video == tmp_path / "clip.webm" and not unfinished_recordings(tmp_path)
    cap = cv2.VideoCapture(str(result.video))
    decoded = 0
    while cap.read()[0]:
        decoded += 1
    assert decoded == result.frames and abs(decoded - 60) <= 6  # the 2 s clip at 30 fps, within 10 %
    records = [json.loads(line) for line in (tmp_path / "clip.jsonl").read_text().splitlines()]
    assert len(records) >= 30 and {r["face_id"] for r in records} == {1}
    assert set(records[0]) == {"source", "frame", "time", "box", "emotion", "emoji", "confidence", "probabilities",
                               "face_id", "unsure"}
    assert all(0 <= r["frame"] < decoded for r in records)
    summary = json.loads((tmp_path / "clip.summary.json").read_text())
    assert list(summary["faces"]) == ["1"] and cv2.imread(str(tmp_path / "clip.summary.png")) is not None


def test_a_killed_recording_leaves_a_readable_log_and_a_reported_partial_video(face_video, tiny_model_path,
                                                                             tmp_path):
    script = f"""
import sys, time
sys.path.insert(0, {str(ROOT)!r})
from emojify.capture import open_source
from emojify.backends import open_classifier
from emojify.live import LiveSession
from emojify.processor import build_live_processor
from emojify.recorder import Recorder
processor = build_live_processor(open_classifier({str(tiny_model_path)!r}, views=1, say=lambda line: None), (640, 480))
session = LiveSession(lambda: open_source({str(face_video)!r}), processor)
session.add_consumer(Recorder({str(tmp_path)!r}, stem="killed"))
session.start()
print("recording", flush=True)
time.sleep(60)
"""
    for after in (0.3, 1.6):  # kills at moments of the first and of the second second of video
        for old in tmp_path.glob("killed*"):
            shutil.rmtree(old) if old.is_dir() else old.unlink()
        proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
        assert proc.stdout.readline() == "recording\n"
        deadline = time.time() + 30
        while time.time() < deadline and not (tmp_path / "killed.jsonl").stat().st_size:
            time.sleep(0.01)
        time.sleep(after)
        proc.kill()
        proc.wait()
        records = [json.loads(line) for line in (tmp_path / "killed.jsonl").read_text().splitlines()]
        assert records and all(r["face_id"] == 1 for r in records)  # every line whole
        [pieces] = unfinished_recordings(tmp_path)
        assert pieces == tmp_path / "killed.partial"
        video = recover(pieces)
        if after < 1.0 and video is None:
            continue  # killed within its first second: no piece was whole yet
        cap = cv2.VideoCapture(str(video))
        decoded = 0
        while cap.grab():
            decoded += 1
        assert video == tmp_path / "killed.webm" and not pieces.exists()
        assert decoded >= max(r["frame"] for r in records) + 1 - 45, (decoded, records[-1]["frame"])  # 1.5 s


def test_avatars_replace_the_emoji_and_a_missing_one_is_named(tmp_path):
    red = np.zeros((64, 64, 4), np.uint8)
    red[..., 2] = red[..., 3] = 255
    cv2.imwrite(str(tmp_path / "happy.png"), red)
    (tmp_path / "sad.png").write_text("not a png")
    problems = []
    emojis = load_emojis(size=32, folder=tmp_path, on_problem=lambda name, line: problems.append(line))
    assert (emojis["happy"][..., 2] == 255).all() and (emojis["happy"][..., 0] == 0).all()
    assert emojis["neutral"].shape == (32, 32, 4) and not (emojis["neutral"][..., 2] == 255).all()
    assert f"{tmp_path / 'sad.png'} is unreadable; the built-in emoji is used for it" in problems
    assert f"{tmp_path / 'angry.png'} is missing; the built-in emoji is used for it" in problems
    assert len(problems) == len(EMOTIONS) - 1


def test_the_summary_counts_watched_time_only_and_lists_the_longest_seen_faces_first():
    """Frames of a session: face 1 for 2 s, a pause of 30 s (with the paused picture redrawn twice), face 2 for
    4 s, and a face 3 seen for a blink: paused time is nobody's, and the blink is left out but counted."""
    from emojify.faces import FrameResult
    from emojify.processor import LiveFrame
    timeline = Timeline()

    def frame(t, face_id, redraw=False):
        faces = [Face((0, 0, 10, 10), probs(happy=1), face_id)] if face_id else []
        timeline(LiveFrame(None, FrameResult(faces), t, redraw=redraw))

    for i in range(61):
        frame(i / 30, 1)
    frame(10.0, 1, redraw=True)
    frame(20.0, 1, redraw=True)
    for i in range(121):
        frame(32 + i / 30, 2)
    frame(36.1, 3)
    frame(36.2, 3)
    summary = timeline.summary()
    assert abs(summary["duration_s"] - 6.2) < 0.1, summary  # 2 s + 4 s + the blink, not the 30 s paused
    assert list(summary["faces"]) == ["2", "1"]  # the longest in view first
    assert abs(summary["faces"]["2"]["seconds"] - 4.0) < 0.1 and abs(summary["faces"]["1"]["seconds"] - 2.0) < 0.1
    assert summary["left_out"] == {"faces": 1, "seen_under_s": 1.0}
    assert summary_lines(summary)[0] == "Session 6 s, 2 face(s) (and 1 seen for under 1 s, left out):"
