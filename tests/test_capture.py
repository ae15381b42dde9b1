import time

import pytest

from emojify.capture import Pacer, SourceError, open_source


def test_video_file_source(face_video):
    source = open_source(str(face_video))
    assert not source.is_live and source.fps == 30 and source.frame_count == 60
    frames = 0
    while True:
        ok, frame = source.read()
        if not ok:
            break
        assert frame.shape == (480, 640, 3)
        frames += 1
    source.release()
    assert frames == 60


def test_synthetic_source():
    source = open_source("synth:320x240:5")
    shapes = [source.read()[1].shape for _ in range(5)]
    assert shapes == [(240, 320, 3)] * 5 and source.read() == (False, None)


@pytest.mark.parametrize("spec, message", [
    ("synth:big", "use synth:WIDTHxHEIGHT"),
    ("synth:0x0", "16 to 8192 pixels a side"),
    ("synth:64x64:0", "use synth:WIDTHxHEIGHT"),
    ("/no/such/clip.mp4", "not found; check the path"),
])
def test_bad_sources(spec, message):
    with pytest.raises(SourceError, match=message):
        open_source(spec)


def test_text_file_is_not_a_video(tmp_path):
    fake = tmp_path / "notes.mp4"
    fake.write_text("these are not video frames\n" * 50)
    with pytest.raises(SourceError, match="is not a video OpenCV can read"):
        open_source(str(fake))


def test_missing_webcam_index():
    with pytest.raises(SourceError, match="no webcam at index 57"):
        open_source("57")


def test_pacer_holds_the_frame_rate():
    pacer = Pacer(50)
    start = time.perf_counter()
    for _ in range(11):
        pacer.wait()
    assert time.perf_counter() - start >= 0.19


def one_frame_video(path, size=(64, 48)):
    import cv2
    import numpy as np
    out = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 30, size)
    out.write(np.full((size[1], size[0], 3), 90, np.uint8))
    out.release()
    return path


def test_a_video_of_one_frame_plays_its_frame(tmp_path):
    source = open_source(str(one_frame_video(tmp_path / "one.mp4")))
    ok, frame = source.read()
    assert ok and frame.shape == (48, 64, 3)
    assert not source.read()[0]
    source.release()


def test_a_picture_too_small_for_a_video_is_one_clear_error(tmp_path):
    from emojify.capture import VideoWriter
    with pytest.raises(SourceError, match="2x2 pictures are too small for a video"):
        VideoWriter(tmp_path / "tiny.webm", 30, (2, 2))
