"""Where the faces are: FaceDetector (gray frame -> boxes), FaceTracker (follows those boxes between
detections), and frame_faces, fer_box and crop_faces (boxes -> 48x48 faces framed as FER-2013's; in photos,
the softer faces with more margin)."""
from pathlib import Path

import cv2
import numpy as np

from emojify.config import CASCADE_PATH, FACE_SIZE, SHARP_LEVEL
from emojify.errors import ResourceError
from emojify.quiet import quiet_opencv


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
        # Largest (main) face first; equal sizes left to right, then top to bottom: OpenCV's threads give the
        # cascade's boxes in no fixed order, and a run's records must not depend on them.
        return boxes[np.lexsort((boxes[:, 1], boxes[:, 0], -boxes[:, 2] * boxes[:, 3]))]


class FaceTracker:
    """A FaceDetector run on the whole frame every `every` frames; in between, each face is followed by
    matching its patch from the last detection inside a window around its last box, at `track_px` scale.

    Faces barely move between frames, so a template match costs a fraction of a millisecond where a Haar
    search around the face costs several; a new face appears at the next full detection, at most `every`
    frames later, and a face whose match score drops below `min_score` is let go and the frame searched at once.
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
            return self._detect(gray)
        boxes, templates = [], []
        for box, template in zip(self.boxes, self.templates):
            moved = self._follow(gray, box, template)
            if moved is not None:
                boxes.append(moved)
                templates.append(template)
        if len(boxes) < len(self.boxes):  # a face let go (it left, or the picture cut): look again in this frame
            return self._detect(gray)
        self.count += 1
        self.boxes = np.array(boxes, np.int32).reshape(-1, 4)
        self.templates = templates
        return self.boxes

    def _detect(self, gray):
        self.boxes = self.detector(gray)
        self.templates = list(crop_faces(gray, self.boxes, self.track_px))
        self.count = 1
        return self.boxes

    def _follow(self, gray, box, template):
        return follow(gray, box, template, self.margin, self.track_px, self.min_score)


def follow(gray, box, template, margin=0.25, track_px=32, min_score=0.6):
    """Where the face of box (its template: crop_faces(..., track_px) of an earlier frame) is in gray now, looked
    for within margin of its side around box; None when nothing there matches it by min_score."""
    x, y, w, h = (int(v) for v in box)
    pad = int(margin * w)
    x0, y0 = max(x - pad, 0), max(y - pad, 0)
    x1, y1 = min(x + w + pad, gray.shape[1]), min(y + h + pad, gray.shape[0])
    scale = track_px / w
    window = cv2.resize(gray[y0:y1, x0:x1], (max(track_px, round((x1 - x0) * scale)),
                                             max(track_px, round((y1 - y0) * scale))), interpolation=cv2.INTER_AREA)
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    if best < min_score:
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


def sharpness(faces):
    """Each 48x48 face's mean gradient: |x| + |y| of the 3x3 Sobel filter in gray levels per pixel, averaged
    over the face less a 4-pixel border (model.build_gated takes the same measure inside the model).

    FER-2013's faces are sharp and contrasty; the faces of other cameras, film and photos of people mostly
    softer (docs/TRAINING.md gives the levels)."""
    faces = np.asarray(faces, np.float32).reshape(-1, FACE_SIZE, FACE_SIZE)
    out = np.empty(len(faces), np.float32)
    for i, face in enumerate(faces):
        gx, gy = cv2.Sobel(face, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(face, cv2.CV_32F, 0, 1, ksize=3)
        out[i] = (np.abs(gx) + np.abs(gy))[4:-4, 4:-4].mean()
    return out


# In a photo, a face softer than FER-2013's (sharpness below config.SHARP_LEVEL: most photos of people) reads
# better with more margin: its crop is cut again with the detector's box this share of the side, centred
# (detected photos of people +1.1 to +1.6 points; faces in motion lose, so video frames are framed as
# FER-2013's; docs/TRAINING.md, "The shipped model: faces read by sharpness").
SOFT_WIDTH = 0.85


def soft_box(box, width=SOFT_WIDTH):
    """The square around a detector box with more margin than fer_box, the box centred in it."""
    return fer_box(box, left=(1 - width) / 2, top=(1 - width) / 2, width=width)


def frame_faces(gray, boxes, out=None, soft=True):
    """48x48 faces for detector boxes: each framed as FER-2013's (fer_box), and with soft, cut again with more
    margin (soft_box) where that face is softer than config.SHARP_LEVEL -> uint8 [N, 48, 48]."""
    faces = crop_faces(gray, [fer_box(b) for b in boxes], out=out)
    if soft and len(boxes):
        for i in np.flatnonzero(sharpness(faces[:len(boxes)]) < SHARP_LEVEL):
            crop_faces(gray, [soft_box(boxes[i])], out=faces[i:i + 1])
    return faces
