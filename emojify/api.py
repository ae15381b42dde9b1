"""The Python API: faces in a picture or a video as typed results.

    from emojify import Recognizer
    recognizer = Recognizer()                    # model.h5's export on LiteRT (or Keras), 1 view per face
    for face in recognizer.analyze("party.jpg"):
        print(face.box, face.emotion, face.confidence, face.emoji)

Bad input raises the package's errors (emojify.errors: InputError, ModelError, ...) with the one-line messages
the scripts print.
"""
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from emojify.config import MODEL_PATH
from emojify.errors import InputError
from emojify.emotions import EMOJI_CHARS, EMOTIONS


@dataclass(frozen=True)
class FaceResult:
    box: tuple            # x, y, w, h in the picture's pixels
    emotion: str          # one of emotions.EMOTIONS
    confidence: float     # the emotion's probability
    probabilities: dict   # emotion -> probability, the seven summing to 1
    emoji: str            # the emotion's emoji character


@dataclass(frozen=True)
class VideoFrame:
    index: int            # the frame's number in the video, from 0
    time: float           # seconds from the start
    faces: list           # FaceResult, largest first


def face_result(box, probs):
    probs = np.asarray(probs, np.float64)
    probs = probs / probs.sum()
    i = int(np.argmax(probs))
    return FaceResult(tuple(int(v) for v in box), EMOTIONS[i], float(probs[i]),
                      {e: float(p) for e, p in zip(EMOTIONS, probs)}, EMOJI_CHARS[EMOTIONS[i]])


class Recognizer:
    """Finds faces and reads their emotions, as predict.py does. model: a model file (default model.h5; its
    LiteRT export runs where it can); views: 1, 2 or 4 per face (predict.py uses 4)."""

    def __init__(self, model=None, views=1, backend="auto"):
        from emojify.backends import open_classifier
        from emojify.faces import build_photo_pipeline
        self.classifier = open_classifier(model or MODEL_PATH, views=views, backend=backend, say=lambda line: None)
        self.backend = self.classifier.backend
        self._pipeline = build_photo_pipeline(self.classifier)

    def analyze(self, image, boxes=None):
        """The faces of image (a BGR or gray array, or an image file's path), largest first; boxes: the
        caller's own face boxes (x, y, w, h) instead of the face detector's."""
        from emojify.dataset import to_bgr, to_gray
        frame = to_bgr(_picture(image))
        if boxes is None:
            return [face_result(f.box, f.probs) for f in self._pipeline(frame).faces]
        from emojify.detect import frame_faces
        boxes = _checked_boxes(boxes, frame.shape)
        if not boxes:
            return []
        probs = self.classifier(frame_faces(to_gray(frame), boxes))
        return [face_result(b, p) for b, p in zip(boxes, probs)]

    def classify(self, crops):
        """One FaceResult per face crop (arrays of any size, gray or BGR; the whole crop is the face)."""
        from emojify.dataset import to_face_array
        crops = [_picture(c) for c in crops]
        if not crops:
            return []
        probs = self.classifier(np.stack([to_face_array(c) for c in crops]))
        return [face_result((0, 0, c.shape[1], c.shape[0]), p) for c, p in zip(crops, probs)]

    def analyze_video(self, path, every=1):
        """Yield a VideoFrame for every every-th frame of the video file at path, one frame in memory at a time."""
        from emojify.capture import open_source
        from emojify.errors import SourceError
        if int(every) < 1:
            raise InputError(f"every must be at least 1; received {every!r}")
        try:
            source = open_source(str(path))
        except SourceError as e:
            raise InputError(f"{path}: not a readable video ({e})") from None
        try:
            index = 0
            while True:
                ok, frame = source.read()
                if not ok:
                    return
                if index % every == 0:
                    yield VideoFrame(index, index / source.fps, self.analyze(frame))
                index += 1
        finally:
            source.release()


def _picture(image):
    from emojify.dataset import read_image
    if isinstance(image, (str, Path)):
        picture = read_image(image)
        if picture is None:
            raise InputError(f"{image}: empty, corrupt or not an image")
        return picture
    picture = np.asarray(image)
    if picture.ndim not in (2, 3) or min(picture.shape[:2]) < 1 or (picture.ndim == 3 and picture.shape[2] not in (1, 3, 4)):
        raise InputError(f"an image must be an HxW or HxWx3 (BGR) array or a file's path; received an array of shape "
                         f"{picture.shape}")
    return picture[..., 0] if picture.ndim == 3 and picture.shape[2] == 1 else picture


def _checked_boxes(boxes, shape):
    out = []
    for box in boxes:
        try:
            x, y, w, h = (int(v) for v in box)
        except (TypeError, ValueError):
            raise InputError(f"a face box is (x, y, w, h) in pixels; received {box!r}") from None
        if w < 1 or h < 1 or x >= shape[1] or y >= shape[0] or x + w <= 0 or y + h <= 0:
            raise InputError(f"face box {box!r} is empty or outside the {shape[1]}x{shape[0]} picture")
        out.append((x, y, w, h))
    return out
