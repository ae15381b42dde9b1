"""Files written whole or not at all: write to a temporary name beside the target, then rename; logs written
a whole line at a time."""
import contextlib
import os
import sys
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


class LineFile:
    """A log written a line at a time, each line whole or not at all: a killed process leaves every line
    written before, and a failed write (a full disk) is cut back to the last whole line and raises OSError.
    "-" writes to standard output."""

    def __init__(self, path, truncate=True):
        """truncate=False opens an existing file without emptying it yet (truncate() does): for a caller that
        opens several and must leave them all as they were when one fails to open."""
        self.path = str(path)
        self.file = None
        if self.path != "-":
            self.file = os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | (os.O_TRUNC if truncate else 0), 0o666),
                                  "wb", buffering=0)
        self.size = self.lines = 0

    def truncate(self):
        if self.file is not None:
            self.file.truncate(0)
            self.file.seek(0)

    def write(self, line):
        if self.file is None:
            sys.stdout.write(line)
            sys.stdout.flush()
            return
        encoded = line.encode("utf-8")
        data = memoryview(encoded)
        try:
            while data:
                data = data[self.file.write(data):]
        except OSError:
            with contextlib.suppress(OSError):
                self.file.truncate(self.size)
            raise
        self.size += len(encoded)
        self.lines += 1

    def close(self):
        if self.file is not None:
            self.file.close()
