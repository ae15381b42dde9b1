"""The frame pipeline shared by the GUI, predict.py and the benchmarks.

Small callable stages: FaceDetector (gray frame -> boxes), crop_faces (boxes -> 48x48 faces),
EmotionClassifier (faces -> probabilities, one batched call per frame), Smoother (steadies labels between
frames) and draw_faces (boxes and labels onto the frame). FramePipeline chains the first four.
"""
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from emotions import DISPLAY_NAMES, EMOTIONS

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

HERE = Path(__file__).resolve().parent
CASCADE_PATH = HERE / "haarcascade_frontalface_default.xml"
MODEL_PATH = HERE / "model.h5"
FACE_SIZE = 48


def import_tensorflow():
    """Import TensorFlow with its start-up chatter (CUDA probing, oneDNN notices) kept off stderr."""
    if "tensorflow" in sys.modules:
        return sys.modules["tensorflow"]
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        import tensorflow as tf
        tf.constant(0) + 0  # the first op probes devices: let it log here, not on the user's terminal
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
    return tf


class ModelError(RuntimeError):
    """The model file is missing, unreadable or does not fit emotions.py."""


def load_model(path=MODEL_PATH):
    """Load a trained model with Keras' safe defaults and check it fits the 7 emotions."""
    path = Path(path)
    if not path.is_file():
        raise ModelError(f"model file {path} not found: train one with `python train.py` "
                         "(see README, 'Training') or pass --model PATH.")
    import_tensorflow()
    import keras
    try:
        model = keras.models.load_model(path, compile=False)
    except Exception as e:  # h5py/keras raise many types for a damaged file
        raise ModelError(f"cannot read model file {path} ({type(e).__name__}: {str(e)[:120]}); "
                         "re-train it with `python train.py` or pass another --model.") from None
    shape_in, shape_out = tuple(model.input_shape), tuple(model.output_shape)
    if shape_out[-1] != len(EMOTIONS):
        raise ModelError(f"{path} predicts {shape_out[-1]} classes but emotions.py has {len(EMOTIONS)} "
                         f"({', '.join(EMOTIONS)}); use a model trained by this train.py.")
    if shape_in[1:] != (FACE_SIZE, FACE_SIZE, 1):
        raise ModelError(f"{path} expects input {shape_in[1:]}, not 48x48 grayscale faces; "
                         "use a model trained by this train.py.")
    return model


class FaceDetector:
    """Haar cascade run on a downscaled grayscale frame; boxes come back in full-frame pixels.

    Faces in a webcam frame are large, so detecting at `detect_width` pixels wide finds the same faces
    as the full frame at a fraction of the cost.
    """

    def __init__(self, cascade_path=CASCADE_PATH, detect_width=320, scale_factor=1.1, min_neighbors=5,
                 min_face=0.2):
        self.cascade_path = Path(cascade_path)
        self.cascade = cv2.CascadeClassifier(str(cascade_path))
        if self.cascade.empty():
            raise FileNotFoundError(f"cannot load the face detector {cascade_path}; "
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
    """Cut each (x, y, w, h) box from a gray frame and resize it to size x size -> uint8 [N, size, size]."""
    n = len(boxes)
    if out is None or len(out) < n:
        out = np.empty((n, size, size), np.uint8)
    for i, (x, y, w, h) in enumerate(boxes):
        x0, y0 = max(int(x), 0), max(int(y), 0)
        face = gray[y0:y + h, x0:x + w]
        interp = cv2.INTER_AREA if face.shape[0] > size else cv2.INTER_LINEAR
        cv2.resize(face, (size, size), dst=out[i], interpolation=interp)
    return out[:n]


def folded_inference(model):
    """The model's inference pass with every batch norm folded into the conv before it, or None.

    Conv -> batch norm -> ReLU at inference is one conv with adjusted weights and a bias, so each block
    costs one fused op instead of several passes over its activations. Works for the plain stacks that
    model.py builds (rescaling, conv/bn/relu, max pooling, global average pooling, dropout, dense);
    for anything else it returns None and the Keras model is called as it is.
    """
    tf = import_tensorflow()
    import keras
    from keras import layers as L

    stack, steps, i = list(model.layers), [], 0
    while i < len(stack):
        layer = stack[i]
        if isinstance(layer, L.Rescaling):
            steps.append(("affine", float(layer.scale), float(layer.offset)))
        elif isinstance(layer, L.Dropout):
            pass
        elif isinstance(layer, L.Conv2D):
            bn = stack[i + 1] if i + 1 < len(stack) else None
            act = stack[i + 2] if i + 2 < len(stack) else None
            if (type(layer) is not L.Conv2D or layer.activation is not keras.activations.linear
                    or layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1)
                    or layer.groups != 1 or not isinstance(bn, L.BatchNormalization) or bn.axis not in (-1, 3)
                    or not isinstance(act, L.ReLU) or act.max_value is not None or act.negative_slope
                    or act.threshold):
                return None
            kernel = layer.kernel.numpy()
            mean, var = bn.moving_mean.numpy(), bn.moving_variance.numpy()
            gamma = bn.gamma.numpy() if bn.scale else np.ones_like(mean)
            beta = bn.beta.numpy() if bn.center else np.zeros_like(mean)
            scale = gamma / np.sqrt(var + bn.epsilon)
            bias = beta - mean * scale + (layer.bias.numpy() * scale if layer.use_bias else 0)
            steps.append(("conv", tf.constant(kernel * scale, tf.float32), tf.constant(bias, tf.float32),
                          list(layer.strides), layer.padding.upper()))
            i += 3
            continue
        elif isinstance(layer, L.MaxPooling2D):
            if layer.data_format != "channels_last":
                return None
            steps.append(("pool", list(layer.pool_size), list(layer.strides), layer.padding.upper()))
        elif isinstance(layer, L.GlobalAveragePooling2D) and layer.data_format == "channels_last":
            steps.append(("mean",))
        elif isinstance(layer, L.Dense) and layer.activation is keras.activations.softmax and i == len(stack) - 1:
            steps.append(("dense", tf.constant(layer.kernel.numpy(), tf.float32),
                          tf.constant(layer.bias.numpy(), tf.float32)))
        else:
            return None
        i += 1
    if not steps or steps[-1][0] != "dense":
        return None

    def run(x):
        for step in steps:
            kind = step[0]
            if kind == "affine":
                x = x * step[1] + step[2]
            elif kind == "conv":
                x = tf.nn.relu(tf.nn.bias_add(tf.nn.conv2d(x, step[1], step[3], step[4]), step[2]))
            elif kind == "pool":
                x = tf.nn.max_pool2d(x, step[1], step[2], step[3])
            elif kind == "mean":
                x = tf.reduce_mean(x, axis=[1, 2])
            else:
                x = tf.nn.softmax(tf.matmul(x, step[1]) + step[2])
        return x

    return run


VIEWS = (1, 2, 4)  # see EmotionClassifier


def add_views_option(parser, default, why=""):
    """The --views option of every script that classifies faces."""
    parser.add_argument("--views", type=int, choices=VIEWS, default=default,
                        help="views averaged per face: 1 the face alone, 2 with its mirror image, 4 both also "
                             f"shifted half a pixel (default {default}{why})")


class EmotionClassifier:
    """All faces of a frame in one call of a compiled function (never model.predict per face).

    views=1 classifies each face once. views=2 also classifies its mirror image in the same batch and
    averages the two; views=4 adds both shifted by half a pixel (each pixel the mean of a 2x2 block).
    Every training image was resampled by the augmentation's warp, so the shifted pair is a different
    view of the kind the model learned from; averaging four views gains 1-2 points of accuracy on
    held-out FER-2013 faces. The weights are read once, when the classifier is made (batch norms folded
    into the convs, see folded_inference).
    """

    def __init__(self, model, views=4):
        if views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}; received {views!r}.")
        tf = import_tensorflow()
        self.model = model if not isinstance(model, (str, Path)) else load_model(model)
        self.views = views
        forward = folded_inference(self.model) or (lambda x: self.model(x, training=False))

        @tf.function(input_signature=[tf.TensorSpec([None, FACE_SIZE, FACE_SIZE], tf.uint8)],
                     reduce_retracing=True)
        def run(faces):
            x = tf.cast(faces[..., None], tf.float32)
            if views == 1:
                return forward(x)
            batch = [x, x[:, :, ::-1]]
            if views == 4:
                shifted = tf.nn.avg_pool2d(tf.pad(x, [[0, 0], [1, 0], [1, 0], [0, 0]], "SYMMETRIC"), 2, 1, "VALID")
                batch += [shifted, shifted[:, :, ::-1]]
            p = forward(tf.concat(batch, axis=0))
            return tf.reduce_mean(tf.reshape(p, [len(batch), tf.shape(x)[0], -1]), axis=0)

        self._run = run
        self(np.zeros((1, FACE_SIZE, FACE_SIZE), np.uint8))  # trace now, not on the first live frame

    def __call__(self, faces):
        if len(faces) == 0:
            return np.zeros((0, len(EMOTIONS)), np.float32)
        return self._run(np.ascontiguousarray(faces, np.uint8)).numpy()


@dataclass
class Face:
    box: tuple          # x, y, w, h in frame pixels
    probs: np.ndarray   # one probability per emotion, EMOTIONS order

    @property
    def index(self):
        return int(np.argmax(self.probs))

    @property
    def emotion(self):
        return EMOTIONS[self.index]

    @property
    def confidence(self):
        return float(self.probs[self.index])


def _iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = iw * ih
    return inter / float(aw * ah + bw * bh - inter) if inter else 0.0


class Smoother:
    """Exponential moving average of each face's probabilities, following faces by box overlap."""

    def __init__(self, alpha=0.5, min_iou=0.3):
        self.alpha = alpha
        self.min_iou = min_iou
        self.previous = []

    def __call__(self, faces):
        smoothed = []
        for face in faces:
            match = max(self.previous, key=lambda f: _iou(f.box, face.box), default=None)
            if match is not None and _iou(match.box, face.box) >= self.min_iou:
                face = Face(face.box, self.alpha * face.probs + (1 - self.alpha) * match.probs)
            smoothed.append(face)
        self.previous = smoothed
        return smoothed

    def reset(self):
        self.previous = []


@dataclass
class FrameResult:
    faces: list                              # Face, largest first
    timings: dict = field(default_factory=dict)  # stage -> seconds

    @property
    def main(self):
        return self.faces[0] if self.faces else None


class FramePipeline:
    """BGR frame -> FrameResult: detect -> crop -> classify (one batch) -> smooth."""

    def __init__(self, classifier, detector=None, smoother=None):
        self.detector = detector or FaceDetector()
        self.classifier = classifier
        self.smoother = smoother
        self._crops = None

    def __call__(self, frame):
        t0 = time.perf_counter()
        gray = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        boxes = self.detector(gray)
        t1 = time.perf_counter()
        faces = []
        if len(boxes):
            self._crops = crop_faces(gray, boxes, out=self._crops)
            probs = self.classifier(self._crops)
            faces = [Face(tuple(int(v) for v in b), p) for b, p in zip(boxes, probs)]
        if self.smoother is not None:
            faces = self.smoother(faces)
        t2 = time.perf_counter()
        return FrameResult(faces, {"detect": t1 - t0, "classify": t2 - t1})

    def reset(self):
        """Forget what earlier frames showed (the picture jumped: mirror toggled, video restarted)."""
        for stage in (self.detector, self.smoother):
            if hasattr(stage, "reset"):
                stage.reset()


# Box colour per emotion (BGR), shared by the live view and annotated copies.
COLORS = {"angry": (40, 40, 220), "disgust": (40, 150, 40), "fear": (160, 60, 160), "happy": (0, 200, 255),
          "neutral": (200, 200, 200), "sad": (200, 120, 40), "surprise": (0, 140, 255)}


def draw_faces(frame, faces, emojis=None):
    """Draw each face's box and 'Emotion 87%' label onto a BGR frame in place; returns the frame.

    emojis: optional {emotion: BGRA image}; when given, each box also gets its emoji.
    """
    thickness = max(2, frame.shape[1] // 320)
    font_scale = max(0.5, frame.shape[1] / 1100)
    for face in faces:
        x, y, w, h = face.box
        color = COLORS[face.emotion]
        cv2.rectangle(frame, (x, y), (x + w, y + h), color, thickness)
        text = f"{DISPLAY_NAMES[face.emotion]} {face.confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        ty = y - 6 if y - th - base - 6 >= 0 else y + h + th + 6
        cv2.rectangle(frame, (x, ty - th - base), (x + tw + 6, ty + base), color, cv2.FILLED)
        cv2.putText(frame, text, (x + 3, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
        if emojis is not None:  # inside the box's top-right corner: never over a neighbour, never off-frame
            size = max(16, w // 4)
            paste_rgba(frame, emojis[face.emotion], x + w - size - thickness, y + thickness, size)
    return frame


def paste_rgba(frame, rgba, x, y, size):
    """Alpha-blend a BGRA image, resized to size x size, onto a BGR frame at (x, y), clipped to the frame."""
    icon = cv2.resize(rgba, (size, size), interpolation=cv2.INTER_AREA)
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + size, fw), min(y + size, fh)
    if x0 >= x1 or y0 >= y1:
        return
    icon = icon[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = icon[..., 3:4].astype(np.float32) / 255.0
    roi = frame[y0:y1, x0:x1]
    roi[:] = (icon[..., :3] * alpha + roi * (1.0 - alpha)).astype(np.uint8)


def load_emojis(size=None):
    """{emotion: BGRA image} from emojis/, optionally resized."""
    from emotions import emoji_path
    out = {}
    for emotion in EMOTIONS:
        image = cv2.imread(str(emoji_path(emotion)), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise FileNotFoundError(f"emoji image {emoji_path(emotion)} is missing; "
                                    "restore emojis/ from the repository.")
        out[emotion] = image if size is None else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return out
