"""How the faces feel, frame by frame: Face (a box and its probabilities, with the "not sure" test),
Smoother (steadies each face over frames and gives it an id) and FramePipeline, which chains the stages
detect -> crop (detect.py) -> classify (a classifier from inference.py, one batched call per frame) -> smooth.
"""
import time
from dataclasses import dataclass, field

import cv2
import numpy as np

from emojify.detect import FaceDetector, frame_faces
from emojify.emotions import EMOTIONS


# A face reads "not sure" when its top probability is below UNSURE_BELOW or within UNSURE_MARGIN of the
# second: showing a thinking face there beats flickering between two emotions (chosen on the validation split,
# docs/TRAINING.md).
UNSURE_BELOW = 0.40
UNSURE_MARGIN = 0.10


@dataclass
class Face:
    box: tuple          # x, y, w, h in frame pixels
    probs: np.ndarray   # one probability per emotion, EMOTIONS order
    id: int = None      # the same number while the face stays in view (Smoother); None where faces are not followed

    @property
    def index(self):
        return int(np.argmax(self.probs))

    @property
    def emotion(self):
        return EMOTIONS[self.index]

    @property
    def confidence(self):
        return float(self.probs[self.index])

    @property
    def unsure(self):
        top, second = np.sort(self.probs)[-2:][::-1]
        return bool(top < UNSURE_BELOW or top - second < UNSURE_MARGIN)


def iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


def best_match(faces, box):
    """The face whose box overlaps box most, and that overlap (IoU); (None, 0.0) for no faces."""
    overlaps = [iou(f.box, box) for f in faces]
    if not overlaps:
        return None, 0.0
    best = int(np.argmax(overlaps))
    return faces[best], overlaps[best]


class Smoother:
    """Exponential moving average of each face's probabilities, following faces by box overlap; a face keeps
    its id while it is followed, and a face that appears gets the next one."""

    def __init__(self, alpha=0.5, min_iou=0.3):
        self.alpha = alpha
        self.min_iou = min_iou
        self.previous = []
        self.next_id = 1

    def __call__(self, faces):
        smoothed = []
        for face in faces:
            match, overlap = best_match(self.previous, face.box)
            if overlap >= self.min_iou and match.id not in {f.id for f in smoothed}:
                face = Face(face.box, self.alpha * face.probs + (1 - self.alpha) * match.probs, match.id)
            else:
                face = Face(face.box, face.probs, self.next_id)
                self.next_id += 1
            smoothed.append(face)
        self.previous = smoothed
        return smoothed

    def reset(self):
        """Forget the faces; ids keep counting, so an id never names two faces in one session."""
        self.previous = []


@dataclass
class FrameResult:
    faces: list                              # Face, largest first
    timings: dict = field(default_factory=dict)  # stage -> seconds

    @property
    def main(self):
        return self.faces[0] if self.faces else None


class FramePipeline:
    """BGR frame -> FrameResult: detect -> crop -> classify (one batch) -> smooth.

    classify_every=k classifies the faces on every k-th frame only, as long as the same faces stay in
    place (each box overlapping one of the last classified ones); in between they keep those
    probabilities. A live picture changes little in a tenth of a second and the smoother averages over
    frames anyway, so k=4 quarters the model's cost at 30 fps without a visible difference. A face that
    appears, leaves or moves is classified at once.
    """

    def __init__(self, classifier, detector=None, smoother=None, classify_every=1, min_iou=0.5, soft_framing=False):
        self.detector = detector or FaceDetector()
        self.classifier = classifier
        self.soft_framing = soft_framing  # soft faces framed with more margin (detect.frame_faces)
        self.smoother = smoother
        self.classify_every, self.min_iou = classify_every, min_iou
        self._crops = None
        self._classified = []  # faces of the last classified frame, unsmoothed
        self._since = 0         # frames since then

    def __call__(self, frame):
        t0 = time.perf_counter()
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = [tuple(int(v) for v in b) for b in self.detector(gray)]
        t1 = time.perf_counter()
        faces = []
        if boxes:
            kept = self._kept_probabilities(boxes)
            if kept is not None:
                faces = [Face(b, p) for b, p in zip(boxes, kept)]
                self._since += 1
            else:
                self._crops = frame_faces(gray, boxes, out=self._crops, soft=self.soft_framing)
                faces = [Face(b, p) for b, p in zip(boxes, self.classifier(self._crops))]
                self._classified, self._since = faces, 1
        if self.smoother is not None:
            faces = self.smoother(faces)
        t2 = time.perf_counter()
        return FrameResult(faces, {"detect": t1 - t0, "classify": t2 - t1})

    def _kept_probabilities(self, boxes):
        """The last classified probabilities, box by box, if those faces are still in place; else None."""
        if self._since >= self.classify_every or len(boxes) != len(self._classified):
            return None
        kept = []
        for box in boxes:
            match, overlap = best_match(self._classified, box)
            if overlap < self.min_iou:
                return None
            kept.append(match.probs)
        return kept

    def reset(self):
        """Forget what earlier frames showed (the picture jumped: mirror toggled, video restarted)."""
        self._classified, self._since = [], 0
        for stage in (self.detector, self.smoother):
            if hasattr(stage, "reset"):
                stage.reset()


def build_photo_pipeline(classifier, soft_framing=True):
    """The stages for photos and video files, where faces may be of any size: detection at up to 960 px wide,
    faces down to 1/25 of the shorter side; each frame on its own (no tracking or smoothing). Photos' soft
    faces are framed with more margin (detect.frame_faces); video frames pass soft_framing=False, every face
    framed as FER-2013's, as the window frames them (faces in motion read worse with the margin)."""
    return FramePipeline(classifier, detector=FaceDetector(detect_width=960, min_face=0.04), soft_framing=soft_framing)
