"""Where the faces are and how they feel, frame by frame: small callable stages, each testable alone.

FaceDetector (gray frame -> boxes), FaceTracker (follows those boxes between detections), fer_box and
crop_faces (boxes -> 48x48 faces framed as FER-2013's), a classifier from inference.py (faces ->
probabilities, one batched call per frame) and Smoother (steadies each face over frames); FramePipeline
chains them.
"""
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from config import CASCADE_PATH, FACE_SIZE
from emotions import EMOJI_CHARS, EMOTIONS
from errors import ResourceError
from quiet import quiet_opencv


class FaceDetector:
    """Haar cascade run on a downscaled grayscale frame; boxes come back in full-frame pixels.

    Faces in a webcam frame are large, so detecting at `detect_width` pixels wide finds the same faces
    as the full frame at a fraction of the cost.
    """

    def __init__(self, cascade_path=CASCADE_PATH, detect_width=320, scale_factor=1.1, min_neighbors=5,
                 min_face=0.2):
        self.cascade_path = Path(cascade_path)
        with quiet_opencv():  # our message below, not OpenCV's
            self.cascade = cv2.CascadeClassifier(str(cascade_path))
        if self.cascade.empty():
            raise ResourceError(f"cannot load the face detector {cascade_path}; "
                                "restore haarcascade_frontalface_default.xml from the repository.")
        if not 0 < min_face < 1:
            raise ValueError(f"min_face is a fraction of the frame's shorter side; received {min_face!r}.")
        self.detect_width = detect_width
        self.scale_factor = scale_factor
        self.min_neighbors = min_neighbors
        self.min_face = min_face

    def __call__(self, gray):
        h, w = gray.shape[:2]
        scale = 1.0
        if self.detect_width and w > self.detect_width:
            scale = self.detect_width / w
            gray = cv2.resize(gray, (self.detect_width, max(1, round(h * scale))), interpolation=cv2.INTER_AREA)
        side = max(24, int(min(gray.shape[:2]) * self.min_face))
        boxes = self.cascade.detectMultiScale(gray, scaleFactor=self.scale_factor,
                                              minNeighbors=self.min_neighbors, minSize=(side, side))
        if len(boxes) == 0:
            return np.zeros((0, 4), np.int32)
        boxes = np.round(np.asarray(boxes, np.float64) / scale).astype(np.int32)
        return boxes[np.argsort(-boxes[:, 2] * boxes[:, 3], kind="stable")]  # largest (main) face first


class FaceTracker:
    """A FaceDetector run on the whole frame every `every` frames; in between, each face is followed by
    matching its patch from the last detection inside a window around its last box, at `track_px` scale.

    Faces barely move between frames, so a template match costs a fraction of a millisecond where a Haar
    search around the face costs several; a new face appears at the next full detection, at most `every`
    frames later, and a face whose match score drops below `min_score` is let go until then.
    """

    def __init__(self, detector=None, every=8, margin=0.25, track_px=32, min_score=0.6):
        self.detector = detector or FaceDetector()
        self.every, self.margin, self.track_px, self.min_score = every, margin, track_px, min_score
        self.reset()

    def reset(self):
        self.boxes = np.zeros((0, 4), np.int32)
        self.templates = []
        self.count = 0

    def __call__(self, gray):
        if self.count % self.every == 0 or not len(self.boxes):
            self.boxes = self.detector(gray)
            self.templates = list(crop_faces(gray, self.boxes, self.track_px))
            self.count = 1
            return self.boxes
        self.count += 1
        boxes, templates = [], []
        for box, template in zip(self.boxes, self.templates):
            moved = self._follow(gray, box, template)
            if moved is not None:
                boxes.append(moved)
                templates.append(template)
        self.boxes = np.array(boxes, np.int32).reshape(-1, 4)
        self.templates = templates
        return self.boxes

    def _follow(self, gray, box, template):
        x, y, w, h = (int(v) for v in box)
        pad = int(self.margin * w)
        x0, y0 = max(x - pad, 0), max(y - pad, 0)
        x1, y1 = min(x + w + pad, gray.shape[1]), min(y + h + pad, gray.shape[0])
        scale = self.track_px / w
        window = cv2.resize(gray[y0:y1, x0:x1], (max(self.track_px, round((x1 - x0) * scale)),
                                                 max(self.track_px, round((y1 - y0) * scale))),
                            interpolation=cv2.INTER_AREA)
        scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
        _, best, _, (bx, by) = cv2.minMaxLoc(scores)
        if best < self.min_score:
            return None
        return [x0 + round(bx / scale), y0 + round(by / scale), w, h]


def crop_faces(gray, boxes, size=FACE_SIZE, out=None):
    """Cut each (x, y, w, h) box from a gray frame and resize it to size x size -> uint8 [N, size, size].

    A box reaching past the frame's edge is filled with the edge's pixels, so the face keeps its shape."""
    n = len(boxes)
    if out is None or len(out) < n:
        out = np.empty((n, size, size), np.uint8)
    height, width = gray.shape[:2]
    for i, (x, y, w, h) in enumerate(boxes):
        x, y, w, h = int(x), int(y), max(int(w), 1), max(int(h), 1)
        x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + w, width), min(y + h, height)
        if x1 <= x0 or y1 <= y0:
            out[i] = 0
            continue
        face = gray[y0:y1, x0:x1]
        if (x0, y0, x1, y1) != (x, y, x + w, y + h):
            face = cv2.copyMakeBorder(face, y0 - y, y + h - y1, x0 - x, x + w - x1, cv2.BORDER_REPLICATE)
        interp = cv2.INTER_AREA if face.shape[0] > size else cv2.INTER_LINEAR
        cv2.resize(face, (size, size), dst=out[i], interpolation=interp)
    return out[:n]


# Where a FER-2013 face lies around the Haar box, in units of the FER crop's side: the box starts this far
# right and down of the crop's corner and is this wide (medians over validation faces framed and detected
# as evaluate.py --detect does; benchmarks/crop_alignment.py measures them).
FER_LEFT, FER_TOP, FER_WIDTH = 0.016, 0.021, 0.958


def fer_box(box, left=FER_LEFT, top=FER_TOP, width=FER_WIDTH):
    """The square around a detector box that frames the face as FER-2013's crops do (what the model learned).

    left, top, width: where the detector box lies in that square, in units of its side
    (benchmarks/crop_alignment.py measures them)."""
    x, y, w, h = box
    side = w / width
    return (int(round(x - left * side)), int(round(y - top * side)), int(round(side)), int(round(side)))


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

    def __init__(self, classifier, detector=None, smoother=None, classify_every=1, min_iou=0.5):
        self.detector = detector or FaceDetector()
        self.classifier = classifier
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
                self._crops = crop_faces(gray, [fer_box(b) for b in boxes], out=self._crops)
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


def build_photo_pipeline(classifier):
    """The stages for photos and video files, where faces may be of any size: detection at up to 960 px wide,
    faces down to 1/25 of the shorter side; each frame on its own (no tracking or smoothing)."""
    return FramePipeline(classifier, detector=FaceDetector(detect_width=960, min_face=0.04))


def capture_hint(frame, faces):
    """Why faces are not found or poorly seen, from what can be measured, as one short line; None when the
    picture is fine. frame: the BGR camera frame; faces: what the pipeline found in it (main face first)."""
    h, w = frame.shape[:2]
    brightness = float(frame[::8, ::8].mean())  # a sparse sample is enough for an average
    if not faces:
        if brightness < 50:
            return "too dark: light your face from the front"
        if brightness > 215:
            return "too bright: avoid a window or lamp behind you"
        return "no face found: look at the camera"
    x, y, fw, fh = (int(v) for v in faces[0].box)
    face = frame[max(y, 0):y + fh:4, max(x, 0):x + fw:4]
    if face.size and float(face.mean()) < 60:
        return "face too dark: turn towards a light"
    if fw < 0.25 * min(w, h):  # the live detector looks for faces down to 0.2: warn before one is lost
        return "face small: come closer"
    if abs(x + fw / 2 - w / 2) > 0.33 * w:
        return "face near the edge: move to the middle"
    return None


def face_records(source, frame_index, time_s, faces):
    """One JSON-ready record per face: the fields of predict.py's --json lines and of a recording's log
    (which adds the face id and whether the face read "not sure")."""
    records = []
    for face in faces:
        record = {
            "source": str(source),
            "frame": frame_index,
            "time": None if time_s is None else round(time_s, 3),
            "box": [int(v) for v in face.box],
            "emotion": face.emotion,
            "emoji": EMOJI_CHARS[face.emotion],
            "confidence": round(face.confidence, 4),
            "probabilities": {e: round(float(p), 4) for e, p in zip(EMOTIONS, face.probs)},
        }
        if face.id is not None:
            record.update(face_id=face.id, unsure=face.unsure)
        records.append(record)
    return records


CSV_COLUMNS = ["source", "frame", "time", "box_x", "box_y", "box_w", "box_h", "emotion", "emoji", "confidence",
               *[f"p_{e}" for e in EMOTIONS]]


def json_line(record):
    """A face_records record as one JSON line; never the invalid JSON `NaN`."""
    return json.dumps(record, allow_nan=False) + "\n"


def csv_row(record):
    """A face_records record as the values of one CSV row, in CSV_COLUMNS order."""
    p = record["probabilities"]
    return [record["source"], "" if record["frame"] is None else record["frame"],
            "" if record["time"] is None else record["time"], *record["box"], record["emotion"], record["emoji"],
            record["confidence"], *[p[e] for e in EMOTIONS]]
