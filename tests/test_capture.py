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
