"""Export a trained Keras model to LiteRT (NAME.tflite beside NAME.h5) with TensorFlow's converter.

The export records the SHA-256 of the model file it came from (lite.RECORD_NAME), so that lite.export_problem
can tell when a model changed after its export. Float32: weights quantized to int8 ran faster on one of our
machines but lost accuracy (docs/BENCHMARKS.md, "LiteRT").
"""
import contextlib
import io
import json
import shutil
from pathlib import Path

from emojify.atomic import atomic_path, save_model
from emojify.lite import RECORD_NAME, export_path, file_sha256


def tflite_bytes(model):
    """The model converted to a LiteRT flatbuffer (float32), batch size left open."""
    from emojify.inference import import_tensorflow
    from emojify.quiet import quiet_stderr
    tf = import_tensorflow()
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    with quiet_stderr(), contextlib.redirect_stdout(io.StringIO()):  # the converter lists every tensor it saved
        return converter.convert()


def with_record(data, record):
    """The flatbuffer with a metadata entry RECORD_NAME holding record as JSON."""
    import flatbuffers
    try:
        from ai_edge_litert import schema_py_generated as schema
    except ImportError:
        from tensorflow.lite.python import schema_py_generated as schema
    model = schema.ModelT.InitFromPackedBuf(data, 0)
    buffer = schema.BufferT()
    buffer.data = list(json.dumps(record, sort_keys=True).encode())
    model.buffers.append(buffer)
    entry = schema.MetadataT()
    entry.name, entry.buffer = RECORD_NAME, len(model.buffers) - 1
    model.metadata = [m for m in (model.metadata or []) if m.name != RECORD_NAME.encode()] + [entry]
    builder = flatbuffers.Builder(len(data) + 1024)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def export_model(model_path, model=None, out=None):
    """Write the LiteRT export of the model file at model_path (loaded unless model is given) to out
    (default NAME.tflite beside it), whole or not at all. Returns the path written."""
    from emojify.inference import load_model
    model_path = Path(model_path)
    model = load_model(model_path) if model is None else model
    out = Path(out) if out else export_path(model_path)
    data = with_record(tflite_bytes(model), {"source": model_path.name, "sha256": file_sha256(model_path)})
    with atomic_path(out) as tmp:
        Path(tmp).write_bytes(data)
    return out


def save_with_export(model, path, **kwargs):
    """Save a Keras model (atomic.save_model) and its LiteRT export beside it."""
    save_model(model, path, **kwargs)
    return export_model(path, model)


def back_up(path):
    """Copy a model file about to be replaced to NAME.backup.SUFFIX, its export with it (NAME.backup.tflite
    stays the export of NAME.backup.h5). Returns the backup's path."""
    path = Path(path)
    backup = path.with_name(f"{path.stem}.backup{path.suffix}")
    for old, kept in ((path, backup), (export_path(path), export_path(backup))):
        if old.is_file():
            with atomic_path(kept) as tmp:
                shutil.copy2(old, tmp)
    return backup
