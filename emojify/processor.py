"""One frame from camera picture to display image: mirror -> FramePipeline (detect, crop, classify +
calibration, smooth) -> capture hint -> fit to the display -> overlay -> RGBA, as a LiveFrame."""
import time
from dataclasses import dataclass

import cv2
import numpy as np

from emojify.calibration import CalibratedClassifier, Calibration
from emojify.detect import FaceTracker
from emojify.faces import FramePipeline, FrameResult, Smoother
from emojify.hints import capture_hint
from emojify.overlay import draw_faces, load_emojis


@dataclass
class LiveFrame:
    image: np.ndarray   # RGBA, display size, ready for the window
    result: FrameResult
    captured: float     # perf_counter() when the frame was read
    source: np.ndarray = None  # the BGR camera frame (mirrored if the picture is), no overlay: for recorders
    hint: str = None    # why faces are not found or poorly seen (hints.capture_hint), or None
    emojis: dict = None  # the emoji pictures drawn over the faces, or None: a recorder draws the same
    redraw: bool = False  # the paused picture processed again (mirror, overlay, size): no time passed


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
        self._calibrated = None          # the calibration result the pipeline was last reset for

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
            if self.calibration.result is not self._calibrated:  # the next frames read with the correction
                self._calibrated = self.calibration.result
                self.pipeline.reset()
        t0 = time.perf_counter()
        source, hint = frame, capture_hint(frame, result.faces)
        size = self.fit(frame.shape)
        scale = size[0] / frame.shape[1]
        if scale != 1:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR)
        else:
            frame = frame.copy()  # the source frame stays clean for recorders
        emojis = self.emojis if self.emoji_on_faces else None
        draw_faces(frame, result.faces, emojis, cover=True, scale=scale)
        image = cv2.cvtColor(frame, cv2.COLOR_BGR2RGBA)  # what Tk's photo images hold: no conversion there
        result.timings["draw"] = time.perf_counter() - t0
        return LiveFrame(image, result, captured, source, hint, emojis)


# The live cadence (benchmarks/live_accuracy.py and window_cpu.py, docs/BENCHMARKS.md "The live path"): new faces
# are looked for on every DETECT_EVERY-th frame, a face that stays in place is classified every CLASSIFY_EVERY-th.
DETECT_EVERY = 8
CLASSIFY_EVERY = 1


def build_live_processor(classifier, display_size=(640, 480), mirror=False, detect_every=DETECT_EVERY,
                         classify_every=CLASSIFY_EVERY):
    """The live stages, built in one place so every front-end and benchmarks/realtime.py run the same path.

    classifier: faces -> probabilities (backends.open_classifier, one view for the live picture). Each face is
    classified on every classify_every-th frame while it stays in place, and the whole frame is searched for
    new faces every detect_every frames while the tracker follows the known ones: a face's expression does not
    change faster than that, and the smoother averages each face over frames (benchmarks/window_cpu.py).
    """
    calibration = Calibration()
    pipeline = FramePipeline(CalibratedClassifier(classifier, calibration), detector=FaceTracker(every=detect_every),
                             smoother=Smoother(), classify_every=classify_every)
    return LiveProcessor(pipeline, display_size, mirror, calibration=calibration)
