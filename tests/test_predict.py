import csv
import json
import shutil

import cv2
import numpy as np
import pytest

from benchmarks.videos import background_frame, face_frame, write_video
from conftest import run_script
from emojify.emotions import EMOJI_CHARS, EMOTIONS


@pytest.fixture(scope="module")
def inputs(fer_faces, fer_test_dir, tmp_path_factory):
    root = tmp_path_factory.mktemp("inputs")
    photos = root / "photos"
    (photos / "more").mkdir(parents=True)
    cv2.imwrite(str(photos / "group.png"), face_frame(fer_faces, background=background_frame()))
    cv2.imwrite(str(photos / "more" / "single.jpg"), face_frame(fer_faces[:1], background=background_frame()))
    cv2.imwrite(str(photos / "more" / "empty_room.webp"), background_frame())
    crops = root / "crops"
    crops.mkdir()
    for emotion in ("happy", "sad"):
        src = sorted((fer_test_dir / emotion).glob("*.jpg"))[0]
        shutil.copy(src, crops / f"{emotion}.jpg")
    # 2 s with a face, then 1 s without (blank_every=3 leaves every third second empty)
    video = write_video(root / "clip.mp4", fer_faces[:1], frames=90, blank_every=3)
    return {"photos": photos, "crops": crops, "video": video, "root": root}


def read_jsonl(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_folder_and_video_records_summary_and_outputs(inputs, tiny_model_path, tmp_path):
    out_json, out_csv, ann = tmp_path / "r.jsonl", tmp_path / "r.csv", tmp_path / "annotated"
    result = run_script("predict.py", inputs["photos"], inputs["video"], "--model", tiny_model_path,
                        "--json", out_json, "--csv", out_csv, "--annotate", ann)
    assert result.returncode == 0, result.stderr
    records = read_jsonl(out_json)
    images = [r for r in records if r["frame"] is None]
    frames = [r for r in records if r["frame"] is not None]
    assert sorted(r["source"].rsplit("/", 1)[1] for r in images) == ["group.png"] * 3 + ["single.jpg"]
    assert len(frames) == 60 and {r["frame"] for r in frames} == set(range(60))
    for r in records:
        assert r["emotion"] in EMOTIONS and r["emoji"] == EMOJI_CHARS[r["emotion"]]
        assert set(r["probabilities"]) == set(EMOTIONS)
        assert abs(sum(r["probabilities"].values()) - 1) < 1e-3
        assert r["confidence"] == max(r["probabilities"].values())
        x, y, w, h = r["box"]
        assert 0 <= x and 0 <= y and x + w <= 640 and y + h <= 480 and w > 100
    assert frames[30]["time"] == 1.0
    # the summary
    out = result.stdout
    assert "Read 4 file(s), 0 failed; 64 face(s) found in 93 image(s)/frame(s)." in out
    assert "No face found in 1 image(s)" in out and "Throughput:" in out
    assert f"{inputs['video']}: 90 frames (90 analysed); 60 face(s): " in out
    assert "no face in 33% of the frames" in out
    assert f"{inputs['photos'] / 'more' / 'empty_room.webp'}: no face" in out  # a line per file, faceless named
    # CSV and JSON agree row for row
    with open(out_csv, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records)
    for row, r in zip(rows, records):
        assert row["source"] == r["source"] and row["emotion"] == r["emotion"] and row["emoji"] == r["emoji"]
        assert [int(row[k]) for k in ("box_x", "box_y", "box_w", "box_h")] == r["box"]
        assert row["frame"] == ("" if r["frame"] is None else str(r["frame"]))
        assert float(row["confidence"]) == r["confidence"]
        assert all(float(row[f"p_{e}"]) == r["probabilities"][e] for e in EMOTIONS)
    # annotated copies open and show drawing
    names = sorted(str(p.relative_to(ann)) for p in ann.rglob("*") if p.is_file())
    assert names == ["clip.annotated.webm", "group.annotated.png", "more/empty_room.annotated.png",
                     "more/single.annotated.png"]  # the input folder's subfolders kept
    assert f"{inputs['photos'] / 'more' / 'single.jpg'}: 1 face: " in out  # each line names its copy
    assert f" -> {ann / 'more' / 'single.annotated.png'}" in out
    group = cv2.imread(str(ann / "group.annotated.png"))
    original = cv2.imread(str(inputs["photos"] / "group.png"))
    assert group.shape == original.shape == (480, 640, 3)
    assert (group != original).any(axis=2).sum() > 3000  # boxes, labels and emoji drawn
    cap = cv2.VideoCapture(str(ann / "clip.annotated.webm"))
    assert int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 90 and cap.read()[0]
    fourcc = int(cap.get(cv2.CAP_PROP_FOURCC)).to_bytes(4, "little").decode()
    assert fourcc == "VP80"  # VP8 in WebM: what Chromium and Firefox play


def test_every_nth_frame(inputs, tiny_model_path, tmp_path):
    result = run_script("predict.py", inputs["video"], "--model", tiny_model_path, "--every", "10",
                        "--json", tmp_path / "r.jsonl")
    assert result.returncode == 0, result.stderr
    assert [r["frame"] for r in read_jsonl(tmp_path / "r.jsonl")] == [0, 10, 20, 30, 40, 50]
    assert "90 frames (9 analysed)" in result.stdout


def test_no_detect_treats_each_image_as_a_face(inputs, tiny_model_path, tmp_path):
    result = run_script("predict.py", inputs["crops"], "--model", tiny_model_path, "--no-detect",
                        "--json", tmp_path / "r.jsonl", "--annotate", tmp_path / "ann")
    assert result.returncode == 0, result.stderr
    records = read_jsonl(tmp_path / "r.jsonl")
    assert [r["box"] for r in records] == [[0, 0, 48, 48]] * 2
    from emojify.faces import Face
    from emojify.overlay import shown_as
    from emojify.emotions import COLORS
    annotated = cv2.imread(str(tmp_path / "ann" / "happy.annotated.png"))
    assert annotated.shape == (240, 240, 3)  # enlarged from 48x48 so that the label can be read
    face = Face(records[0]["box"], np.array([records[0]["probabilities"][e] for e in EMOTIONS]))
    label_color = np.array(COLORS[shown_as(face)])  # grey for a face the (untrained) model is not sure about
    label_rows = annotated[:40, 5:120].reshape(-1, 3).astype(int)
    assert (np.abs(label_rows - label_color).sum(axis=1) < 40).sum() > 500  # the label, inside the picture
    from emojify.inference import EmotionClassifier, load_model
    crop = cv2.imread(str(inputs["crops"] / "happy.jpg"), cv2.IMREAD_GRAYSCALE)
    expected = EmotionClassifier(load_model(tiny_model_path))(crop[None])[0]
    np.testing.assert_allclose([records[0]["probabilities"][e] for e in EMOTIONS], expected, atol=1e-4)


def test_bad_inputs_are_reported_and_the_rest_is_done(inputs, tiny_model_path, tmp_path):
    bad = tmp_path / "bad"
    (bad / "nothing_here").mkdir(parents=True)
    (bad / "notes.jpg").write_text("this is text, not a JPEG\n")
    (bad / "empty.png").write_bytes(b"")
    (bad / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + b"garbage" * 100)
    good = inputs["photos"] / "group.png"
    out = tmp_path / "r.jsonl"
    result = run_script("predict.py", bad / "missing.png", bad / "notes.jpg", good, bad / "empty.png",
                        bad / "broken.mp4", bad / "nothing_here", "--model", tiny_model_path, "--json", out,
                        "--annotate", tmp_path / "ann")
    assert result.returncode == 1
    errors = result.stderr.strip().splitlines()
    assert sorted(errors) == sorted([
        f"error: {bad / 'missing.png'}: not found",
        f"error: {bad / 'nothing_here'}: folder holds no images or videos",
        f"error: {bad / 'notes.jpg'}: empty, corrupt or not an image",
        f"error: {bad / 'empty.png'}: empty, corrupt or not an image",
        f"error: {bad / 'broken.mp4'}: not a readable video",
    ])
    assert len(read_jsonl(out)) == 3 and "Traceback" not in result.stderr
    assert [p.name for p in (tmp_path / "ann").iterdir()] == ["group.annotated.png"]


def test_annotated_copy_never_overwrites_an_input(inputs, tiny_model_path, tmp_path):
    src = tmp_path / "group.annotated.png"
    shutil.copy(inputs["photos"] / "group.png", src)
    before = src.read_bytes()
    result = run_script("predict.py", src, "--model", tiny_model_path, "--annotate", tmp_path)
    assert result.returncode == 0, result.stderr
    assert src.read_bytes() == before
    assert (tmp_path / "group.annotated.annotated.png").is_file()


def test_an_output_that_is_an_input_or_another_output_is_refused_before_any_work(inputs, tiny_model_path,
                                                                                  tmp_path):
    photo = tmp_path / "a.png"
    shutil.copy(inputs["photos"] / "group.png", photo)
    before = photo.read_bytes()
    # `--json photos/*.jpg` as the shell expands it: the first photo after --json
    cases = [(["--json", photo, inputs["photos"] / "group.png"], "--json " + str(photo) + " is an input"),
             ([photo, "--csv", photo], "--csv " + str(photo) + " is an input"),
             ([photo, "--json", tmp_path / "x", "--csv", tmp_path / "x"], "--json and --csv both name")]
    for args, message in cases:
        result = run_script("predict.py", *args, "--model", tiny_model_path)
        assert result.returncode == 2 and message in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert photo.read_bytes() == before and not (tmp_path / "x").exists()


def test_json_to_standard_output(inputs, tiny_model_path):
    result = run_script("predict.py", inputs["photos"] / "group.png", "--model", tiny_model_path, "--json", "-")
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(records) == 3 and all(r["emotion"] in EMOTIONS for r in records)
    assert "Read 1 file(s)" in result.stderr  # the report stays off the data


def run_in_terminal(*args, timeout=300):
    """Run a script with a pseudo-terminal as its stdout and stderr, as a user's shell would; returns
    (exit code, everything it printed)."""
    import os
    import pty
    import subprocess
    import sys

    from conftest import ROOT
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, *map(str, args)], cwd=ROOT, stdout=slave, stderr=slave)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the terminal closed: the process is done
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    return proc.wait(timeout=timeout), b"".join(chunks).decode(errors="replace")


def test_progress_bars_on_a_terminal_only(inputs, tiny_model_path, tmp_path):
    code, shown = run_in_terminal("predict.py", inputs["video"], "--model", tiny_model_path)
    assert code == 0 and "90/90 frames, " in shown and "/s" in shown and " s left" in shown, shown
    piped = run_script("predict.py", inputs["video"], "--model", tiny_model_path)
    assert "90/90" not in piped.stdout + piped.stderr
    from conftest import make_face_folder
    data = make_face_folder(tmp_path / "faces", per_class=40)
    code, shown = run_in_terminal("evaluate.py", data, "--model", tiny_model_path)
    assert code == 0 and "280/280 faces, " in shown and "Accuracy:" in shown, shown


def test_no_output_ever_replaces_what_the_run_reads(inputs, tiny_model_path, tmp_path):
    """Hard links count as the file they link to, the model and the app's own files count as read, and an
    annotated copy never takes the name of another output."""
    import os
    photo = tmp_path / "a.png"
    shutil.copy(inputs["photos"] / "group.png", photo)
    before = photo.read_bytes()
    os.link(photo, tmp_path / "out.jsonl")  # `ln a.png out.jsonl`
    model = tmp_path / "model.h5"
    os.link(tiny_model_path, model)
    os.link(tiny_model_path, tmp_path / "model-link.csv")
    for args, said in ((["--json", tmp_path / "out.jsonl"], "is an input"),
                       (["--csv", tmp_path / "model-link.csv"], "is a file this run reads (the model")):
        result = run_script("predict.py", photo, "--model", model, *args)
        assert result.returncode == 2 and said in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1
    assert photo.read_bytes() == before and model.read_bytes() == tiny_model_path.read_bytes()

    ann = tmp_path / "ann"
    result = run_script("predict.py", photo, "--model", model, "--json", ann / "a.annotated.png",
                        "--annotate", ann)
    assert result.returncode == 2 and "folder" in result.stderr  # ann/ does not exist yet: nowhere for --json
    ann.mkdir()
    result = run_script("predict.py", photo, "--model", model, "--json", ann / "a.annotated.png",
                        "--annotate", ann)
    assert result.returncode == 0, result.stderr
    assert len(read_jsonl(ann / "a.annotated.png")) == 3  # still the JSON lines: the copy went elsewhere
    assert cv2.imread(str(ann / "a.annotated-2.png")).shape == (480, 640, 3)


def test_a_refused_run_leaves_every_old_output_as_it_was(inputs, tiny_model_path, tmp_path):
    photo = tmp_path / "a.png"
    shutil.copy(inputs["photos"] / "group.png", photo)
    previous = tmp_path / "prev.jsonl"
    previous.write_text('{"kept": true}\n')
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n")
    result = run_script("predict.py", photo, "--model", tiny_model_path, "--json", previous, "--annotate", notes)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: --annotate {notes}: {notes} is a file, not a folder; give a folder for the annotated copies."]
    assert previous.read_text() == '{"kept": true}\n' and notes.read_text() == "my notes\n"
    result = run_script("predict.py", photo, "--model", tiny_model_path, "--json", previous, "--csv",
                        notes / "x.csv")
    assert result.returncode == 2 and "Errno" not in result.stderr and "is a file, not a folder" in result.stderr
    assert previous.read_text() == '{"kept": true}\n'


def test_a_one_frame_video_is_read_and_a_tiny_one_gets_a_clear_line(tiny_model_path, tmp_path):
    from test_capture import one_frame_video
    one = one_frame_video(tmp_path / "one.mp4", size=(320, 240))
    tiny = one_frame_video(tmp_path / "tiny.mp4", size=(2, 2))
    result = run_script("predict.py", one, tiny, "--model", tiny_model_path, "--annotate", tmp_path / "ann")
    assert result.returncode == 1
    assert f"{one}: 1 frames (1 analysed)" in result.stdout
    assert result.stderr.strip().splitlines() == [
        f"error: {tiny}: no annotated copy tiny.annotated.webm: 2x2 pictures are too small for a video (at least "
        "8x8)"]
    assert (tmp_path / "ann" / "one.annotated.webm").is_file()


def test_every_nth_frame_boxes_follow_faces_that_move(fer_faces, tmp_path):
    """A face crossing the picture at 8 px a frame, analysed every 12th frame: in the frames between, the box
    drawn is where the face is, not where it was. The shipped model, so that the box is in an emotion's colour
    against the grey face."""
    from benchmarks.videos import background_frame
    back, face = background_frame(), cv2.resize(fer_faces[0], (200, 200))
    video = tmp_path / "moving.mp4"
    out = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"mp4v"), 30, (640, 480))
    for i in range(36):
        frame = back.copy()
        frame[140:340, 40 + 8 * i:240 + 8 * i] = face[..., None]
        out.write(frame)
    out.release()
    result = run_script("predict.py", video, "--every", "12", "--views", "1", "--annotate", tmp_path / "ann")
    assert result.returncode == 0, result.stderr
    original, annotated = cv2.VideoCapture(str(video)), cv2.VideoCapture(str(tmp_path / "ann/moving.annotated.webm"))
    for i in range(36):
        a, b = original.read()[1], annotated.read()[1]
        if i % 12 in (6, 11):
            changed = np.flatnonzero(np.abs(a[240].astype(int) - b[240].astype(int)).max(axis=1) > 80)
            assert len(changed) and abs(changed[0] - (40 + 8 * i)) < 30, (i, changed[:5])  # stale: 48-88 px off


def test_copies_from_two_folders_stay_apart_and_what_a_killed_run_left_is_reported(inputs, tiny_model_path,
                                                                                   tmp_path):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(inputs["photos"] / "group.png", tmp_path / folder / "x.png")
    ann = tmp_path / "ann"
    ann.mkdir()
    (ann / ".talk.annotated.partial.webm").write_bytes(b"\x1a\x45\xdf\xa3 cut short")
    result = run_script("predict.py", tmp_path / "a", tmp_path / "b", "--model", tiny_model_path, "--annotate", ann)
    assert result.returncode == 0, result.stderr
    assert (ann / "a" / "x.annotated.png").is_file() and (ann / "b" / "x.annotated.png").is_file()
    assert result.stderr.splitlines() == [
        f"warning: an earlier run was stopped while it wrote talk.annotated.unfinished.webm; what it wrote is kept "
        f"as {ann / 'talk.annotated.unfinished.webm'}"]
    assert not list(ann.glob(".*")) and (ann / "talk.annotated.unfinished.webm").is_file()
