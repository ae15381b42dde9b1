"""Video sources: open_source() turns "0", a camera index, a video file path or a synthetic spec into an
object with read() -> (ok, frame), fps, is_live and release(); callers never care which.

    open_source(0)                # first webcam
    open_source("clip.mp4")       # a video file
    open_source("synth:640x480")  # moving test pattern, no camera needed
"""
import os
import sys
import threading
import time
from pathlib import Path

# FFmpeg would print its own complaints (e.g. "moov atom not found") next to our one-line errors.
os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from emojify.errors import SourceError  # noqa: E402  (callers catch it as capture.SourceError too)
from emojify.quiet import quiet_opencv, quiet_stderr  # noqa: E402


class VideoSource:
    """A cv2.VideoCapture for a camera or a file."""

    def __init__(self, cap, name, is_live, first=None):
        self.cap, self.name, self.is_live = cap, name, is_live
        self.first = first  # a file's first frame, read when it was opened: handed out by the first read()
        fps = cap.get(cv2.CAP_PROP_FPS)
        self.fps = fps if 1 <= fps <= 240 else 30.0
        count = int(cap.get(cv2.CAP_PROP_FRAME_COUNT))
        self.frame_count = count if count > 0 and not is_live else None

    def read(self):
        if self.first is not None:
            frame, self.first = self.first, None
            return True, frame
        return self.cap.read()

    def release(self):
        self.cap.release()


class SyntheticSource:
    """A test pattern with a moving square: a stand-in camera for demos and tests."""

    is_live = True

    def __init__(self, width=640, height=480, fps=30.0, frames=None):
        self.name = f"synth:{width}x{height}"
        self.width, self.height, self.fps, self.frames = width, height, fps, frames
        self.index = 0
        ramp = np.linspace(40, 200, width, dtype=np.uint8)
        self.background = np.repeat(np.tile(ramp, (height, 1))[..., None], 3, axis=2)

    def read(self):
        if self.frames is not None and self.index >= self.frames:
            return False, None
        frame = self.background.copy()
        side = self.height // 4
        x = int((self.width - side) * (0.5 + 0.5 * np.sin(self.index / 15)))
        cv2.rectangle(frame, (x, self.height // 3), (x + side, self.height // 3 + side), (30, 160, 240), -1)
        self.index += 1
        return True, frame

    def release(self):
        pass


class PushSource:
    """Frames handed over one by one from outside (a browser's camera stream): push() from the producer,
    read() from the live session's grabber, which waits up to `timeout` seconds for the next one."""

    is_live = True
    frame_count = None

    def __init__(self, name="browser camera", fps=30.0, timeout=1.0):
        self.name, self.fps, self.timeout = name, fps, timeout
        self._slot = threading.Condition()
        self._frame = None
        self._closed = False

    def push(self, frame):
        with self._slot:
            self._frame = frame
            self._slot.notify()

    def read(self):
        with self._slot:
            if self._frame is None and not self._closed:
                self._slot.wait(self.timeout)
            frame, self._frame = self._frame, None
        return frame is not None, frame

    def release(self):
        with self._slot:
            self._closed = True
            self._slot.notify_all()


def _quiet_capture(target):
    """cv2.VideoCapture(target) without OpenCV's own log lines: failures get our message instead."""
    with quiet_opencv():
        return cv2.VideoCapture(target)


def open_source(spec):
    """Open a camera index (int or digit string), a video file path or 'synth:WxH[:frames]'."""
    if isinstance(spec, int) or (isinstance(spec, str) and spec.strip().isdigit()):
        index = int(spec)
        cap = _quiet_capture(index)
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"no webcam at index {index}: plug one in, close other apps using it, "
                              f"or try --camera {1 if index == 0 else 0} (or --source FILE for a video).")
        return VideoSource(cap, f"camera {index}", is_live=True)
    spec = str(spec)
    if spec.startswith("synth:"):
        parts = spec[6:].split(":")
        try:
            w, h = (int(v) for v in parts[0].lower().split("x"))
            frames = int(parts[1]) if len(parts) > 1 else None
            if min(w, h) < 16 or max(w, h) > 8192 or (frames is not None and frames < 1):
                raise ValueError
        except ValueError:
            raise SourceError(f"bad synthetic source {spec!r}; use synth:WIDTHxHEIGHT[:FRAMES], 16 to 8192 "
                              "pixels a side, e.g. synth:640x480") from None
        return SyntheticSource(w, h, frames=frames)
    path = Path(spec)
    if not path.is_file():
        raise SourceError(f"video file {path} not found; check the path given to --source.")
    cap = _quiet_capture(str(path))
    ok, first = cap.isOpened(), None
    if ok:  # the first frame proves the file decodes; it is kept, not sought back to (a one-frame video can't)
        ok, first = cap.read()
        ok = ok and first is not None
    if not ok:
        cap.release()
        raise SourceError(f"{path} is not a video OpenCV can read; convert it to MP4 (H.264) or AVI.")
    return VideoSource(cap, path.name, is_live=False, first=first)


def list_cameras(max_index=10, skip=()):
    """Indexes of the webcams that open (those in skip are not tried); on Linux only /dev/videoN are tried."""
    if sys.platform.startswith("linux"):
        candidates = sorted(int(p.name[5:]) for p in Path("/dev").glob("video*") if p.name[5:].isdigit())
    else:
        candidates = range(max_index)
    found = []
    for index in candidates:
        if index in skip:
            continue
        cap = _quiet_capture(index)
        if cap.isOpened():
            found.append(index)
        cap.release()
    return found


WEB_VIDEO_SUFFIX = ".webm"  # VP8 in WebM: OpenCV's wheels encode it, and every web browser plays it


class VideoWriter:
    """Frames to a VP8 WebM file that web browsers play; finish() checks the file by decoding it again."""

    MIN_SIDE = 8  # VP8 writes nothing decodable for smaller pictures

    def __init__(self, path, fps, size):
        self.path, self.frames = Path(path), 0
        if min(size) < self.MIN_SIDE:
            raise SourceError(f"{size[0]}x{size[1]} pictures are too small for a video (at least "
                              f"{self.MIN_SIDE}x{self.MIN_SIDE})")
        with quiet_stderr():  # FFmpeg remarks on the VP80 tag, then uses it: nothing for the user
            self.writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"VP80"), fps, tuple(size))
        if not self.writer.isOpened():
            raise SourceError(f"cannot write video {path}: OpenCV has no VP8 encoder here.")

    def write(self, frame):
        with quiet_opencv():  # a failed write (a full disk) is logged per frame; finish() reports it once
            self.writer.write(frame)
        self.frames += 1

    def finish(self):
        """Close the file and decode it again: True if every frame written is there."""
        self.writer.release()
        cap = _quiet_capture(str(self.path))
        found = 0
        while cap.grab():  # counting by decoding: a truncated file has no trustworthy frame count
            found += 1
        cap.release()
        return found == self.frames


class Pacer:
    """Sleeps so a file plays at its own frame rate instead of as fast as it decodes."""

    def __init__(self, fps):
        self.period = 1.0 / fps
        self.next = None

    def wait(self):
        now = time.perf_counter()
        if self.next is None or now - self.next > 0.5:  # first frame, or fell far behind: restart the clock
            self.next = now
        elif self.next > now:
            time.sleep(self.next - now)
        self.next += self.period

    def reset(self):
        self.next = None
