"""The LiteRT back-end: a model exported to NAME.tflite beside NAME.h5, run without TensorFlow.

The export records the SHA-256 of the .h5 it came from (in the flatbuffer's metadata, under RECORD_NAME), so an
export older than its model is found out before it gives a single answer.
"""
import hashlib
import json
import os
import threading
from pathlib import Path

import numpy as np

from emojify.config import FACE_SIZE, VIEWS
from emojify.errors import ModelError
from emojify.emotions import NUM_CLASSES

RECORD_NAME = "emojify_source"  # metadata entry: {"source": NAME.h5, "sha256": its SHA-256}


def available():
    """Whether the LiteRT runtime (the ai-edge-litert package) can be imported."""
    import importlib.util
    return importlib.util.find_spec("ai_edge_litert") is not None


def export_path(model_path):
    """Where the export of a model file lives: NAME.tflite beside NAME.h5."""
    return Path(model_path).with_suffix(".tflite")


def file_sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_record(data):
    """The export record of a .tflite file's bytes, or None where there is none; ValueError for bytes that
    are not a LiteRT model."""
    from ai_edge_litert import schema_py_generated as schema
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise ValueError("not a LiteRT model")
    try:
        model = schema.Model.GetRootAs(data, 0)
        for i in range(model.MetadataLength()):
            entry = model.Metadata(i)
            if entry.Name() == RECORD_NAME.encode():
                return json.loads(model.Buffers(entry.Buffer()).DataAsNumpy().tobytes())
    except Exception:  # noqa: BLE001 - flatbuffers reads past a cut-off end with struct, index or unicode errors
        raise ValueError("a damaged LiteRT model") from None
    return None


def export_problem(model_path):
    """Why NAME.tflite cannot stand in for the model file at model_path, in a few words; None when it can."""
    lite = export_path(model_path)
    if not lite.is_file():
        return f"{lite.name} not found"
    try:
        record = read_record(lite.read_bytes())
    except OSError as e:
        return f"{lite.name} is unreadable ({e.strerror or e})"
    except ValueError as e:
        return f"{lite.name} is {e}"
    if record is None or "sha256" not in record:
        return f"{lite.name} does not say which model it was exported from"
    if record["sha256"] != file_sha256(model_path):
        return f"{lite.name} is stale ({Path(model_path).name} changed after it was exported)"
    return None


def view_batch(faces, views):
    """[views * N, 48, 48, 1] float32: the faces, their mirror images, then both shifted by half a pixel, as
    inference.EmotionClassifier makes them."""
    x = faces.astype(np.float32)[..., None]
    if views == 1:
        return x
    batch = [x, x[:, :, ::-1]]
    if views == 4:
        padded = np.pad(x, [(0, 0), (1, 0), (1, 0), (0, 0)], mode="symmetric")
        shifted = (padded[:, :-1, :-1] + padded[:, 1:, :-1] + padded[:, :-1, 1:] + padded[:, 1:, 1:]) / 4
        batch += [shifted, shifted[:, :, ::-1]]
    return np.concatenate(batch)


def default_threads():
    """XNNPACK threads: one per core up to two (measured in benchmarks/backends.py)."""
    return max(1, min(2, os.cpu_count() or 1))


class LiteClassifier:
    """All faces of a frame in one call of a LiteRT interpreter: the same answers as inference.EmotionClassifier.

    The interpreter is resized only when the batch size changes, and used by one thread at a time.
    """

    backend = "LiteRT"

    def __init__(self, path, views=4, threads=None):
        if views not in VIEWS:
            raise ValueError(f"views must be one of {VIEWS}; received {views!r}.")
        from ai_edge_litert.interpreter import Interpreter
        from emojify.quiet import quiet_stderr
        self.path, self.views = Path(path), views
        self.threads = threads or default_threads()
        try:
            data = self.path.read_bytes()
            read_record(data)  # a file that is not a LiteRT model fails here, in words, not in the runtime
            with quiet_stderr():  # "Created TensorFlow Lite XNNPACK delegate" on every start
                self._interpreter = Interpreter(model_content=data, num_threads=self.threads)
        except (OSError, ValueError, RuntimeError) as e:
            raise ModelError(f"cannot read {self.path} ({e}); export it again with "
                             f"`python export.py {self.path.with_suffix('.h5')}`.") from None
        self._input = self._interpreter.get_input_details()[0]
        self._output = self._interpreter.get_output_details()[0]
        shape_in, shape_out = tuple(self._input["shape"]), tuple(self._output["shape"])
        if shape_in[1:] != (FACE_SIZE, FACE_SIZE, 1) or shape_out[-1] != NUM_CLASSES:
            raise ModelError(f"{self.path} takes {shape_in[1:]} and gives {shape_out[-1]} classes, not "
                             f"{FACE_SIZE}x{FACE_SIZE} grayscale faces and {NUM_CLASSES} emotions; export a model "
                             "trained by this train.py.")
        self.num_classes = NUM_CLASSES
        self._batch = None
        self._lock = threading.Lock()
        with quiet_stderr():  # allocated now, not on the first live frame
            probe = self(np.zeros((1, FACE_SIZE, FACE_SIZE), np.uint8))
        if not np.isfinite(probe).all():
            raise ModelError(f"{self.path} gives NaN or infinite answers (its model's training diverged); "
                             "re-train it with a lower --lr or pass another --model.")

    def __call__(self, faces):
        faces = np.asarray(faces, np.uint8)
        if len(faces) == 0:
            return np.zeros((0, self.num_classes), np.float32)
        x = view_batch(faces, self.views)
        with self._lock:
            if self._batch != len(x):
                self._interpreter.resize_tensor_input(self._input["index"], list(x.shape), strict=False)
                self._interpreter.allocate_tensors()
                self._batch = len(x)
            self._interpreter.set_tensor(self._input["index"], x)
            self._interpreter.invoke()
            p = self._interpreter.get_tensor(self._output["index"])
        return p.reshape(self.views, len(faces), -1).mean(axis=0)
