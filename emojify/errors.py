"""The errors a user can fix. Every script prints one as a single `error: ...` line and exits 2
(cli.main_guard); any other exception is a bug and keeps its traceback."""


class AppError(Exception):
    """A problem with the user's input or files; the message says what and what to do."""


class ModelError(AppError):
    """The model file is missing, unreadable or does not fit emotions.py."""


class ResourceError(AppError):
    """A file that ships with the app (face detector, emoji images) is missing or unreadable."""


class SourceError(AppError):
    """A camera or video that cannot be opened or read."""


class DatasetError(AppError, ValueError):
    """The data is missing or not in a layout we can read."""


class InputError(AppError):
    """One input (an image, a video, face boxes) that cannot be analysed; the message names it and says why."""


class OutputError(AppError):
    """An output path that cannot be written, or that would overwrite an input."""


def os_reason(error):
    """The reason of an OSError in a few words ("No space left on device"), also for h5py's long messages."""
    import os
    import re
    if error.errno:
        return os.strerror(error.errno)
    found = re.search(r"errno = (\d+)", str(error))
    return os.strerror(int(found.group(1))) if found else str(error).splitlines()[0] if str(error) else "failed"
