"""The UI-free live session on real video decoding and a real Keras model: consumers, states, pause and
mirror, failures on its threads."""
import time

import numpy as np
import pytest

from emojify.capture import open_source
from emojify.backends import open_classifier
from emojify.live import LatestFrame, LiveSession, State
from emojify.processor import build_live_processor


@pytest.fixture(scope="module")
def model(tiny_model_path):
    return open_classifier(tiny_model_path, views=1, say=lambda line: None)


def wait_for(condition, timeout=30):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return False


def session_for(spec, model, **kwargs):
    sources = []

    def opener():
        sources.append(open_source(spec))
        return sources[-1]

    return LiveSession(opener, build_live_processor(model, **kwargs)), sources


def test_every_consumer_gets_every_frame_until_the_video_ends(face_video, model):
    session, sources = session_for(str(face_video), model)
    assert session.state is State.STARTING
    first, second = [], []
    session.add_consumer(first.append)
    session.add_consumer(second.append)
    session.start()
    assert wait_for(lambda: session.state is State.ENDED, timeout=60)
    session.close()
    assert session.status.message == "end of video"  # an ended session says how it ended, even after close
    assert len(first) == session.frames_processed >= 30  # the 60-frame clip, minus frames dropped when late
    assert [id(f) for f in first] == [id(f) for f in second]
    assert all(f.image.shape == (480, 640, 4) and len(f.result.faces) == 1 for f in first)
    assert not any(t.is_alive() for t in session.threads)
    assert not sources[0].cap.isOpened()


def test_pause_stops_frames_and_mirror_redraws_the_frozen_one(model):
    session, _ = session_for("synth:320x240", model, display_size=(320, 240))
    latest = session.add_consumer(LatestFrame())
    session.start()
    assert wait_for(lambda: session.frames_processed >= 3)
    session.pause()
    assert session.state is State.PAUSED
    time.sleep(0.2)  # a frame already read may still be on its way
    last = latest.take()
    frozen = session.frames_processed
    time.sleep(0.5)
    assert session.frames_processed == frozen and latest.take() is None

    before = last.source.copy()  # the clean camera frame of the frozen picture
    session.set_mirror(True)  # while paused: the same frame comes again, mirrored
    assert wait_for(lambda: session.frames_processed == frozen + 1)
    shown = latest.take().image
    assert np.array_equal(shown[..., :3], before[:, ::-1, ::-1])  # the synthetic frame has no face: no overlay on it

    session.resume()
    assert session.state is State.RUNNING
    assert wait_for(lambda: session.frames_processed >= frozen + 5)
    session.close()
    assert session.state is State.CLOSED


def test_a_camera_that_does_not_open_is_a_state_with_a_message(model):
    session, _ = session_for(57, model)
    session.start()
    assert wait_for(lambda: session.state is State.NO_SOURCE)
    assert session.status.message.startswith("no webcam at index 57")
    session.pause()  # nothing to pause: ignored
    assert session.state is State.NO_SOURCE
    session.close()
    assert session.state is State.NO_SOURCE and not any(t.is_alive() for t in session.threads)


def test_a_live_source_that_stops_is_lost_and_the_session_still_closes(model):
    session, _ = session_for("synth:160x120:5", model)  # a "camera" that stops after 5 frames
    session.start()
    assert wait_for(lambda: session.state is State.SOURCE_LOST)
    assert "stopped sending frames" in session.status.message
    assert session.frames_processed <= 5
    session.close()
    assert session.state is State.CLOSED


def test_an_exception_on_a_worker_thread_is_an_error_state_not_a_hang(model, capfd):
    session, _ = session_for("synth:160x120", model)

    def broken(live):
        raise RuntimeError("consumer bug")

    session.add_consumer(broken)
    session.start()
    assert wait_for(lambda: session.state is State.ERROR)
    assert "RuntimeError: consumer bug" in session.status.message
    assert wait_for(lambda: not any(t.is_alive() for t in session.threads), timeout=5)
    session.close()
    assert session.state is State.ERROR
    err = capfd.readouterr().err
    assert "error on the processor thread" in err and "Traceback" in err


def test_a_camera_plugged_in_later_is_picked_up_without_a_restart(model):
    from emojify.errors import SourceError
    tries = []

    def opener():  # absent for the first two tries, like a webcam plugged in a little later
        tries.append(time.time())
        if len(tries) < 3:
            raise SourceError("no webcam at index 0: plug one in")
        return open_source("synth:160x120")

    session = LiveSession(opener, build_live_processor(model), retry_every=0.2)
    session.start()
    assert wait_for(lambda: session.state is State.NO_SOURCE)
    assert wait_for(lambda: session.state is State.RUNNING and session.frames_processed > 0)
    assert len(tries) == 3 and tries[2] - tries[0] >= 0.35
    session.close()
