"""Keeping libraries' own chatter (TensorFlow's start-up notices, FFmpeg's codec remarks, OpenCV's log) off
the user's terminal, where our one-line messages go."""
import contextlib
import os


@contextlib.contextmanager
def quiet_stderr():
    """Send what C libraries write to file descriptor 2 to /dev/null for the duration of the block."""
    saved, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


@contextlib.contextmanager
def quiet_opencv():
    """Silence OpenCV's own log (e.g. "can't open file") for the block: callers report failures themselves."""
    import cv2
    level = cv2.utils.logging.getLogLevel()
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_SILENT)
    try:
        yield
    finally:
        cv2.utils.logging.setLogLevel(level)
