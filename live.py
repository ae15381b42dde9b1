"""The live loop with no UI: a LiveSession owns the source, its threads and the frame path, and hands every
processed frame to any number of consumers (the Tk window, a recorder, a statistics collector, a web stream).

    session = LiveSession(lambda: open_source(0), build_live_processor(model))
    latest = session.add_consumer(LatestFrame())
    session.start()
    ...  latest.take() -> LiveFrame or None; session.status -> Status(state, message)
    session.close()

Frame path: source.read() -> mirror -> FramePipeline (detect, crop, classify + calibration, smooth) -> capture
hint -> fit -> draw -> RGBA.
"""
import enum
import sys
import threading
import time
import traceback
from dataclasses import dataclass

import cv2
import numpy as np

from errors import AppError
from calibration import CalibratedClassifier, Calibration
from faces import FaceTracker, FramePipeline, FrameResult, Smoother, capture_hint
from inference import EmotionClassifier
from overlay import draw_faces, load_emojis


@dataclass
class LiveFrame:
    image: np.ndarray   # RGBA, display size, ready for the window
    result: FrameResult
    captured: float     # perf_counter() when the frame was read
    source: np.ndarray = None  # the BGR camera frame (mirrored if the picture is), no overlay: for recorders
    hint: str = None    # why faces are not found or poorly seen (faces.capture_hint), or None


class LiveProcessor:
    """Everything done to one frame before it is shown: mirror -> FramePipeline -> fit to the display ->
    overlay -> RGBA. The overlay is drawn after scaling, so labels stay sharp and the same size on screen.

    display_size, mirror and emoji_on_faces may be changed between frames from any thread.
    """

    def __init__(self, pipeline: FramePipeline, display_size=(640, 480), mirror=False, emoji_on_faces=False,
                 calibration=None):
        self.pipeline = pipeline
        self.display_size = display_size
        self.mirror = mirror
        self.emoji_on_faces = emoji_on_faces
        self.emojis = load_emojis(size=256)
        self.calibration = calibration  # the Calibration its pipeline's classifier applies, if any

    def fit(self, shape):
        """Largest size with the frame's aspect ratio inside display_size."""
        h, w = shape[:2]
        scale = min(self.display_size[0] / w, self.display_size[1] / h)
        return max(1, round(w * scale)), max(1, round(h * scale))

    def __call__(self, frame, captured=None):
        captured = time.perf_counter() if captured is None else captured
        if self.mirror:
            frame = cv2.flip(frame, 1)
        result = self.pipeline(frame)
        if self.calibration is not None:
            self.calibration.observe(None)  # ends a calibration on time even while no face is classified
        t0 = time.perf_counter()
        source, hint = frame, capture_hint(frame, result.faces)
        size = self.fit(frame.shape)
        scale = size[0] / frame.shape[1]
        if scale != 1:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        else:
            frame = frame.copy()  # the source frame stays clean for recorders
        draw_faces(frame, result.faces, self.emojis if self.emoji_on_faces else None, cover=True, scale=scale)
        image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGBA)  # what Tk's photo images hold: no conversion there
        result.timings["draw"] = time.perf_counter() - t0
        return LiveFrame(image, result, captured, source, hint)


def build_live_processor(model, display_size=(640, 480), mirror=False, views=1):
    """The live stages, built in one place so every front-end and benchmarks/realtime.py run the same path.

    Each face is classified in one view, on every fourth frame while it stays in place (7.5 times a second
    at 30 fps), and the whole frame is searched for new faces every 24 frames while the tracker follows
    the known ones: a face's expression does not change faster than that, the smoother averages each face
    over frames, and the window then costs a laptop about a quarter of a core (benchmarks/window_cpu.py).
    """
    calibration = Calibration()
    classifier = CalibratedClassifier(EmotionClassifier(model, views=views), calibration)
    pipeline = FramePipeline(classifier, detector=FaceTracker(every=24), smoother=Smoother(), classify_every=4)
    return LiveProcessor(pipeline, display_size, mirror, calibration=calibration)


class State(enum.Enum):
    STARTING = "starting"        # opening the source
    RUNNING = "running"
    PAUSED = "paused"
    NO_SOURCE = "no source"      # the camera or file could not be opened (retried with retry_every)
    SOURCE_LOST = "source lost"  # a camera stopped sending frames; still retrying
    ENDED = "ended"              # a video file played to its end
    ERROR = "error"              # a bug on a worker thread; the session stopped
    CLOSED = "closed"


@dataclass(frozen=True)
class Status:
    state: State
    message: str = ""  # one line for the user; empty while all is well


class LatestFrame:
    """A consumer that keeps only the newest frame, for a front-end that polls (Tk's after() loop)."""

    def __init__(self):
        self._lock = threading.Lock()
        self._frame = None

    def __call__(self, live):
        with self._lock:
            self._frame = live

    def take(self):
        """The newest frame not taken yet, or None."""
        with self._lock:
            frame, self._frame = self._frame, None
        return frame


_END = object()  # put in the frame slot when a video file has no more frames


class LiveSession:
    """Two threads: a grabber that keeps only the newest frame (paced to the file's frame rate for videos)
    and a processor that runs the LiveProcessor on it and hands the result to every consumer, on the
    processor thread. Consumers must be quick: a slow one delays every frame after it."""

    LOST_AFTER = 30  # failed reads in a row before a live source counts as lost (about 1 s)

    def __init__(self, open_source, processor, retry_every=None):
        self.open_source = open_source  # called on the grabber thread: opening a camera can take seconds
        self.retry_every = retry_every  # seconds between tries to open a source that is not there (a camera)
        self.processor = processor
        self.source = None
        self.consumers = []
        self.frames_processed = 0
        self._status = Status(State.STARTING)
        self._stop = threading.Event()
        self._slot = threading.Condition()
        self._frame = None         # (frame, captured time), newest wins, or _END
        self._last_raw = None      # the last frame processed, kept to redo it while paused
        self._redo = False
        self.threads = [threading.Thread(target=self._guard(self._grab), name="grabber", daemon=True),
                        threading.Thread(target=self._guard(self._process), name="processor", daemon=True)]

    @property
    def status(self):
        return self._status

    @property
    def state(self):
        return self._status.state

    def add_consumer(self, consumer):
        """consumer(LiveFrame) is called for every processed frame; returns the consumer."""
        self.consumers.append(consumer)
        return consumer

    def remove_consumer(self, consumer):
        self.consumers.remove(consumer)

    def start(self):
        for t in self.threads:
            t.start()

    def pause(self):
        if self.state is State.RUNNING:
            self._set(State.PAUSED)

    def resume(self):
        if self.state is State.PAUSED:
            self._set(State.RUNNING)

    def set_mirror(self, on):
        """Mirror the picture; while paused the frozen frame is shown again, mirrored."""
        self.processor.mirror = bool(on)
        self.processor.pipeline.reset()
        self.redraw()

    def redraw(self):
        """While paused, process the frozen frame again: after a change of mirror, overlay or display size."""
        with self._slot:
            self._redo = self.state is State.PAUSED
            self._slot.notify()

    def close(self):
        """Stop both threads and release the source; safe to call twice."""
        self._stop.set()
        with self._slot:
            self._slot.notify_all()
        for t in self.threads:
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout=2)
        if self.source is not None:
            self.source.release()
        if self.state in (State.STARTING, State.RUNNING, State.PAUSED, State.SOURCE_LOST):
            self._set(State.CLOSED)  # NO_SOURCE, ENDED and ERROR stay: they say how the session ended

    def _set(self, state, message=""):
        self._status = Status(state, message)

    def _guard(self, target):
        def run():
            try:
                target()
            except Exception as e:  # a bug: say so where the user looks, and stop instead of hanging
                print(f"error on the {threading.current_thread().name} thread:", file=sys.stderr)
                traceback.print_exc()
                self._set(State.ERROR, f"internal error ({type(e).__name__}: {e}); please report it.")
                self._stop.set()
                with self._slot:
                    self._slot.notify_all()
        return run

    def _grab(self):
        from capture import Pacer
        while self.source is None:
            try:
                self.source = self.open_source()
            except AppError as e:
                self._set(State.NO_SOURCE, str(e))
                if self.retry_every is None:
                    self._stop.set()
                    return
                if self._stop.wait(self.retry_every):  # closed while waiting
                    return
        if self._stop.is_set():  # closed while the source was opening
            return
        self._set(State.RUNNING)  # pause() acts on a running session only: nothing was paused before
        pacer = None if self.source.is_live else Pacer(self.source.fps)
        failures = 0
        while not self._stop.is_set():
            if self.state is State.PAUSED:
                if pacer:
                    pacer.reset()
                time.sleep(0.03)
                continue
            if pacer:
                pacer.wait()
            ok, frame = self.source.read()
            if not ok or frame is None:
                if not self.source.is_live:
                    self._put(_END)
                    return
                failures += 1
                if failures == self.LOST_AFTER:
                    self._set(State.SOURCE_LOST, f"{self.source.name} stopped sending frames: check the cable, "
                                                 "or close other apps using it; still retrying.")
                time.sleep(0.03)
                continue
            if failures >= self.LOST_AFTER and self.state is State.SOURCE_LOST:
                self._set(State.RUNNING)
            failures = 0
            self._put((frame, time.perf_counter()))

    def _put(self, item):
        with self._slot:
            self._frame = item
            self._slot.notify()

    def _process(self):
        while not self._stop.is_set():
            with self._slot:
                if self._frame is None and not self._redo:
                    self._slot.wait(0.1)
                item, self._frame = self._frame, None
                redo, self._redo = self._redo, False
            if item is None and redo and self._last_raw is not None:
                item = (self._last_raw, time.perf_counter())
            if item is None:
                continue
            if item is _END:
                self._set(State.ENDED, "end of video")
                return
            self._last_raw = item[0]
            live = self.processor(item[0].copy(), item[1])
            self.frames_processed += 1
            for consumer in list(self.consumers):
                consumer(live)
