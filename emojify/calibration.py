"""Calibration to the person in front of the camera: some faces read sad or angry while at rest.

The user holds a neutral face for a few seconds; the main face's probabilities over that time give a
per-class correction (a bias added to the log-probabilities) that lowers exactly the emotions this resting
face was mistaken for, until neutral is six times as likely as each of them (so that the resting face reads
neutral with confidence, not "not sure"). Emotions the resting face did not show are
left alone, so a real smile or surprise of the same person still reads so.

    calibration = Calibration()
    pipeline = FramePipeline(CalibratedClassifier(classifier, calibration), ...)
    calibration.start()      # then keep feeding frames for SECONDS
    calibration.result       # CalibrationResult once done
"""
import threading
import time
from dataclasses import dataclass

import numpy as np

from emojify.emotions import EMOTIONS

NEUTRAL = EMOTIONS.index("neutral")


@dataclass(frozen=True)
class CalibrationResult:
    ok: bool
    message: str                  # one line for the user: what it read before and after
    before: np.ndarray = None     # mean probabilities of the resting face, uncorrected
    after: np.ndarray = None      # the same, corrected


class Calibration:
    """Collects the main face's raw probabilities for `seconds`, then learns the bias. Thread-safe: start()
    from the UI thread, observe() from the processing thread."""

    def __init__(self, seconds=3.0, margin=np.log(6.0), min_samples=5):
        self.seconds, self.margin, self.min_samples = seconds, margin, min_samples
        self.bias = np.zeros(len(EMOTIONS), np.float32)
        self.result = None
        self._lock = threading.Lock()
        self._samples = None
        self._until = 0.0

    @property
    def collecting(self):
        return self._samples is not None

    def seconds_left(self, now=None):
        """While collecting: the seconds still to hold the neutral face."""
        return max(0.0, self._until - (time.perf_counter() if now is None else now)) if self.collecting else 0.0

    @property
    def active(self):
        return bool(self.bias.any())

    def start(self, now=None):
        with self._lock:
            self._samples, self.result = [], None
            self._until = (time.perf_counter() if now is None else now) + self.seconds

    def forget(self):
        with self._lock:
            self.bias = np.zeros(len(EMOTIONS), np.float32)
            self._samples, self.result = None, None

    def correct(self, probs):
        """[N, 7] probabilities -> corrected [N, 7] (unchanged while no calibration is learnt)."""
        bias = self.bias
        if not bias.any():
            return probs
        logits = np.log(np.clip(probs, 1e-7, 1.0)) + bias
        logits -= logits.max(axis=1, keepdims=True)
        e = np.exp(logits)
        return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)

    def observe(self, main_probs, now=None):
        """Record the raw probabilities of the main face (None: no face); finishes once the time is up."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            if self._samples is None:
                return
            if main_probs is not None:
                self._samples.append(np.asarray(main_probs, np.float64))
            if now < self._until:
                return
            samples, self._samples = self._samples, None
        self.result = self.learn(samples)

    def learn(self, samples):
        if len(samples) < self.min_samples:
            return CalibrationResult(False, "calibration needs your face in view for the whole "
                                            f"{self.seconds:.0f} s; try again")
        log_mean = np.log(np.clip(np.stack(samples), 1e-7, 1.0)).mean(axis=0)
        bias = np.minimum(0.0, log_mean[NEUTRAL] - self.margin - log_mean)  # only what outranks neutral drops
        bias[NEUTRAL] = 0.0
        before = np.exp(log_mean) / np.exp(log_mean).sum()
        self.bias = bias.astype(np.float32)
        after = self.correct(before[None])[0]
        was = EMOTIONS[int(np.argmax(before))]
        return CalibrationResult(True, f"calibrated: your resting face read {was} {before.max():.0%}, now "
                                       f"neutral {after[NEUTRAL]:.0%}", before, after)


class CalibratedClassifier:
    """A classifier stage (crops -> probabilities) with the calibration applied; while calibrating, it hands
    the main (first, largest) face's raw probabilities to the calibration."""

    def __init__(self, classifier, calibration):
        self.classifier, self.calibration = classifier, calibration

    def __call__(self, crops):
        probs = self.classifier(crops)
        if self.calibration.collecting:
            self.calibration.observe(probs[0] if len(probs) else None)
        return self.calibration.correct(probs)
