"""Everything the live window does to a frame before showing it, in one callable the GUI and
benchmarks/realtime.py share: mirror -> FramePipeline -> draw overlay -> fit to display -> RGB."""
import time
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline import EmotionClassifier, FaceTracker, FramePipeline, FrameResult, Smoother, draw_faces


@dataclass
class LiveFrame:
    image: np.ndarray   # RGB, display size, ready for the window
    result: FrameResult
    captured: float     # perf_counter() when the frame was read


class LiveProcessor:
    def __init__(self, pipeline: FramePipeline, display_size=(640, 480), mirror=False):
        self.pipeline = pipeline
        self.display_size = display_size
        self.mirror = mirror
        self._rgb = None

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
        t0 = time.perf_counter()
        draw_faces(frame, result.faces)
        size = self.fit(frame.shape)
        if (frame.shape[1], frame.shape[0]) != size:
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR)
        if self._rgb is None or self._rgb.shape[:2] != frame.shape[:2]:
            self._rgb = np.empty_like(frame)
        cv2.cvtColor(frame, cv2.COLOR_BGR2RGB, dst=self._rgb)
        result.timings["draw"] = time.perf_counter() - t0
        return LiveFrame(self._rgb.copy(), result, captured)


def build_live_processor(model, display_size=(640, 480), mirror=False, views=1):
    """The live window's stages, built in one place so gui.py and benchmarks/realtime.py run the same path.

    Each face is classified once per frame: the smoother already averages it over consecutive frames,
    which does the work that averaging several views does for a single photo, at a fraction of the cost.
    """
    classifier = EmotionClassifier(model, views=views)
    return LiveProcessor(FramePipeline(classifier, detector=FaceTracker(), smoother=Smoother()), display_size,
                         mirror)
