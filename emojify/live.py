"""The live loop with no UI: a LiveSession owns the source, its threads and the frame path, and hands every
processed frame to any number of consumers (the Tk window, a recorder, a statistics collector, a web stream).

    session = LiveSession(lambda: open_source(0), build_live_processor(classifier))   # processor.py
    latest = session.add_consumer(LatestFrame())
    session.start()
    ...  latest.take() -> LiveFrame or None; session.status -> Status(state, message)
    session.close()

What happens to each frame is the processor's (processor.py); the session only moves frames and states.
"""
import enum
import sys
import threading
import time
import traceback
from dataclasses import dataclass

from emojify.errors import AppError


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


class _Playback:
    """One source played on two threads: a grabber that keeps only the newest frame (paced to the file's frame
    rate for videos) and a processor that runs the LiveProcessor on it and hands the result to deliver().
    A restart makes a new playback, so a thread of the old one can never touch the new one's state."""

    LOST_AFTER = 30  # failed reads in a row before a live source counts as lost (about 1 s)

    def __init__(self, open_source, retry_every, processor, deliver):
        self.open_source = open_source  # called on the grabber thread: opening a camera can take seconds
        self.retry_every = retry_every  # seconds between tries to open a source that is not there (a camera)
        self.processor, self.deliver = processor, deliver
        self.source = None
        self.status = Status(State.STARTING)
        self.stop = threading.Event()
        self.slot = threading.Condition()
        self.frame = None         # (frame, captured time), newest wins, or _END
        self.last_raw = None      # the last frame processed, kept to redo it while paused
        self.redo = False
        self.threads = [threading.Thread(target=self._guard(self._grab), name="grabber", daemon=True),
                        threading.Thread(target=self._guard(self._process), name="processor", daemon=True)]

    @property
    def state(self):
        return self.status.state

    def set(self, state, message=""):
        self.status = Status(state, message)

    def redraw(self):
        with self.slot:
            self.redo = self.state is State.PAUSED
            self.slot.notify()

    def close(self):
        self.stop.set()
        with self.slot:
            self.slot.notify_all()
        for t in self.threads:
            if t.is_alive() and t is not threading.current_thread():
                t.join(timeout=2)
        if self.source is not None:
            self.source.release()
        if self.state in (State.STARTING, State.RUNNING, State.PAUSED, State.SOURCE_LOST):
            self.set(State.CLOSED)  # NO_SOURCE, ENDED and ERROR stay: they say how the session ended

    def _guard(self, target):
        def run():
            try:
                target()
            except Exception as e:  # a bug: say so where the user looks, and stop instead of hanging
                print(f"error on the {threading.current_thread().name} thread:", file=sys.stderr)
                traceback.print_exc()
                self.set(State.ERROR, f"internal error ({type(e).__name__}: {e}); please report it.")
                self.stop.set()
                with self.slot:
                    self.slot.notify_all()
        return run

    def _open(self):
        """The source, once it opens (retrying a camera every retry_every s); None when given up or closed."""
        while not self.stop.is_set():
            try:
                return self.open_source()
            except AppError as e:
                self.set(State.NO_SOURCE, str(e))
                if self.retry_every is None:
                    self.stop.set()
                    return None
                self.stop.wait(self.retry_every)
        return None

    def _grab(self):
        from emojify.capture import Pacer
        self.source = self._open()
        if self.source is None or self.stop.is_set():  # closed while the source was opening
            return
        self.set(State.RUNNING)  # pause() acts on a running session only: nothing was paused before
        pacer = None if self.source.is_live else Pacer(self.source.fps)
        failures = 0
        while not self.stop.is_set():
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
                    self.set(State.SOURCE_LOST, f"{self.source.name} stopped sending frames: check the cable, "
                                                "or close other apps using it; still retrying.")
                time.sleep(0.03)
                continue
            if failures >= self.LOST_AFTER and self.state is State.SOURCE_LOST:
                self.set(State.RUNNING)
            failures = 0
            self._put((frame, time.perf_counter()))

    def _put(self, item):
        with self.slot:
            self.frame = item
            self.slot.notify()

    def _process(self):
        while not self.stop.is_set():
            with self.slot:
                if self.frame is None and not self.redo:
                    self.slot.wait(0.1)
                item, self.frame = self.frame, None
                redo, self.redo = self.redo, False
            redrawn = item is None and redo and self.last_raw is not None
            if redrawn:
                item = (self.last_raw, time.perf_counter())
            if item is None:
                continue
            if item is _END:
                self.set(State.ENDED, "end of video")
                return
            self.last_raw = item[0]
            live = self.processor(item[0].copy(), item[1])
            live.redraw = redrawn
            self.deliver(live)


class LiveSession:
    """A source played through a LiveProcessor, every processed frame handed to each consumer on the processor
    thread (consumers must be quick: a slow one delays every frame after it). Besides pause and resume, the
    session has the verbs a front-end needs to change the picture: mirror, emoji over faces, display size,
    emoji pictures, calibration, and restart (from the start, or another source). Front-ends never reach into
    the processor."""

    def __init__(self, open_source, processor, retry_every=None):
        self.processor = processor
        self.consumers = []
        self.frames_processed = 0
        processor.pipeline.reset()  # a processor used before must not carry faces over into this picture
        self._playback = _Playback(open_source, retry_every, processor, self._deliver)

    status = property(lambda self: self._playback.status)
    state = property(lambda self: self._playback.status.state)
    source = property(lambda self: self._playback.source, doc="the open source, or None")
    threads = property(lambda self: self._playback.threads)
    retry_every = property(lambda self: self._playback.retry_every)
    mirror = property(lambda self: self.processor.mirror)
    emoji_on_faces = property(lambda self: self.processor.emoji_on_faces)
    display_size = property(lambda self: self.processor.display_size)
    calibration = property(lambda self: self.processor.calibration, doc="the Calibration, to read its progress")

    def add_consumer(self, consumer):
        """consumer(LiveFrame) is called for every processed frame; returns the consumer."""
        self.consumers.append(consumer)
        return consumer

    def remove_consumer(self, consumer):
        self.consumers.remove(consumer)

    def _deliver(self, live):
        self.frames_processed += 1
        for consumer in list(self.consumers):
            consumer(live)

    def start(self):
        for t in self._playback.threads:
            t.start()

    def restart(self, open_source=None, retry_every=None):
        """Play again from the start, or open_source (retried every retry_every s) instead; the consumers stay,
        and the faces of the old picture are forgotten."""
        old = self._playback
        old.close()
        if open_source is None:
            open_source, retry_every = old.open_source, old.retry_every
        self.processor.pipeline.reset()
        self._playback = _Playback(open_source, retry_every, self.processor, self._deliver)
        self.start()

    def pause(self):
        if self.state is State.RUNNING:
            self._playback.set(State.PAUSED)

    def resume(self):
        if self.state is State.PAUSED:
            self._playback.set(State.RUNNING)

    def set_mirror(self, on):
        """Mirror the picture; while paused the frozen frame is shown again, mirrored."""
        self.processor.mirror = bool(on)
        self.processor.pipeline.reset()
        self.redraw()

    def set_emoji_on_faces(self, on):
        self.processor.emoji_on_faces = bool(on)
        self.redraw()

    def set_emojis(self, emojis):
        """The pictures drawn over faces: {name: BGRA image} (overlay.load_emojis)."""
        self.processor.emojis = emojis
        self.redraw()

    def set_display_size(self, size):
        """The next frames come scaled to fit (width, height)."""
        self.processor.display_size = tuple(size)
        self.redraw()

    def calibrate(self):
        """Start learning the resting face (calibration.Calibration); read session.calibration for progress."""
        self.processor.calibration.start()

    def forget_calibration(self):
        self.processor.calibration.forget()
        self.processor.pipeline.reset()
        self.redraw()

    def redraw(self):
        """While paused, process the frozen frame again: after a change of mirror, overlay or display size."""
        self._playback.redraw()

    def close(self):
        """Stop both threads and release the source; safe to call twice."""
        self._playback.close()
