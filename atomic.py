"""Files written whole or not at all: write to a temporary name beside the target, then rename."""
import contextlib
import os
from pathlib import Path


def partial_path(path):
    """The temporary name for `path`: hidden, beside it, same suffix (Keras and OpenCV pick formats by suffix)."""
    path = Path(path)
    return path.with_name(f".{path.stem}.partial{path.suffix}")


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path to write; it replaces `path` on success and is removed on error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = partial_path(path)
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path, text):
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def save_array(path, array):
    import numpy as np
    with atomic_path(path) as tmp, open(tmp, "wb") as f:
        np.save(f, array, allow_pickle=False)


def save_model(model, path, **kwargs):
    with atomic_path(path) as tmp:
        model.save(tmp, **kwargs)
