"""Recording a live session: the annotated picture as a WebM video that web browsers play, a JSON-lines log
of every face (the fields of predict.py's records, plus face id), and a summary of the recording.

    recorder = Recorder(folder, fps=source.fps)
    session.add_consumer(recorder)       # frames go to a writer thread; the live loop never waits on it
    ...
    session.remove_consumer(recorder); result = recorder.stop()

While recording, the video goes a second at a time into NAME.partial/, each piece a whole WebM file the
moment it is full, and stop() joins them into NAME.webm: a process killed while recording loses at most the
last second, and a later start makes NAME.webm of what is there (unfinished_recordings, recover). The log is
written a whole line at a time, so it stays readable whatever happens.
"""
import queue
import shutil
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from emojify.atomic import LineFile
from emojify.capture import WEB_VIDEO_SUFFIX, VideoWriter
from emojify.errors import AppError, OutputError, os_reason
from emojify.records import face_records, json_line
from emojify.overlay import draw_faces
from emojify.timeline import Timeline, save_summary

PARTIAL = ".partial"


def unfinished_recordings(folder):
    """The pieces folders a killed session left in folder (see recover)."""
    folder = Path(folder)
    return sorted(p for p in folder.glob(f"*{PARTIAL}") if p.is_dir()) if folder.is_dir() else []


class PieceWriter:
    """Frames to WebM pieces of `seconds` each in a folder; a piece is closed, and so playable, as soon as it is
    full, so a process killed while writing loses at most the piece it was writing."""

    def __init__(self, folder, fps, size, seconds=1.0):
        self.folder, self.fps, self.size = Path(folder), fps, size
        self.per_piece = max(1, round(fps * seconds))
        self.folder.mkdir(parents=True, exist_ok=True)
        self.current, self.in_piece, self.pieces = None, 0, 0

    def write(self, frame):
        if self.current is None:
            self.pieces += 1
            self.current = VideoWriter(self.folder / f"{self.pieces:06d}{WEB_VIDEO_SUFFIX}", self.fps, self.size)
        self.current.write(frame)
        self.in_piece += 1
        if self.in_piece == self.per_piece:
            self.close()

    def close(self):
        if self.current is not None:
            self.current.writer.release()
        self.current, self.in_piece = None, 0


def join_pieces(folder, out, fps):
    """One video at out (written whole or not at all) of the pieces in folder, in order, as far as each decodes
    (the last piece of a killed recording may be cut short); returns (frames, whole), whole when out decodes
    to every frame written. The pieces folder is removed once out is whole."""
    from emojify.atomic import partial_path
    from emojify.capture import open_source
    writer, frames, tmp = None, 0, partial_path(out)
    for piece in sorted(Path(folder).glob(f"*{WEB_VIDEO_SUFFIX}")):
        try:
            source = open_source(str(piece))
        except AppError:  # a piece killed before its first frame was written
            continue
        while True:
            ok, frame = source.read()
            if not ok:
                break
            if writer is None:
                writer = VideoWriter(tmp, fps, (frame.shape[1], frame.shape[0]))
            writer.write(frame)
            frames += 1
        source.release()
    whole = writer is not None and writer.finish()
    if whole:
        tmp.replace(out)
        shutil.rmtree(folder, ignore_errors=True)
    else:
        tmp.unlink(missing_ok=True)
    return frames, whole


def recover(folder, fps=30.0):
    """The video of an unfinished recording's pieces folder (NAME.partial) as NAME.webm beside it, or None if
    none of it decodes; slow for a long recording (every piece is decoded and encoded again)."""
    folder = Path(folder)
    out = folder.with_name(folder.name[:-len(PARTIAL)] + WEB_VIDEO_SUFFIX)
    if out.exists():
        out = folder.with_name(free_stem(folder.parent, out.stem) + WEB_VIDEO_SUFFIX)
    frames, whole = join_pieces(folder, out, fps)
    return out if whole and frames else None


def free_stem(folder, stem):
    """stem, or stem-2, stem-3, ...: the first for which no recording file exists yet."""
    n, candidate = 2, stem
    while any(Path(folder).glob(f"{candidate}.*")):
        candidate, n = f"{stem}-{n}", n + 1
    return candidate


@dataclass
class RecordingResult:
    ok: bool
    message: str           # one line for the user
    video: Path = None
    log: Path = None
    summary: Path = None
    frames: int = 0


class Recorder:
    """A live-session consumer. Frames are written at a steady `fps` whatever rate they arrive at (a frame is
    repeated or skipped by its capture time), so the video plays in real time."""

    QUEUE = 60  # frames waiting for the writer (2 s at 30 fps); beyond that, frames are dropped and counted

    def __init__(self, folder, fps=30.0, source_name="camera", stem=None):
        self.fps, self.source_name = float(fps), source_name
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = free_stem(self.folder, stem or time.strftime("emojify-%Y%m%d-%H%M%S"))
            self.video_path = self.folder / f"{stem}{WEB_VIDEO_SUFFIX}"
            self.partial_path = self.folder / f"{stem}{PARTIAL}"  # the pieces, until stop() joins them
            self.log_path = self.folder / f"{stem}.jsonl"
            self.summary_path = self.folder / f"{stem}.summary.json"
            self.log = LineFile(self.log_path)
        except OSError as e:
            raise OutputError(f"cannot record in {self.folder}: {os_reason(e)}") from None
        self.timeline = Timeline()
        self.writer = None
        self.frames = self.dropped = self.received = self.assigned = self._owed = 0
        self._unqueued = None  # the last picture dropped from the queue
        self.error = None
        self.started = self.first = None
        self._queue = queue.Queue(self.QUEUE)
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    @property
    def seconds(self):
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def __call__(self, live):
        """On the processing thread: the picture's place in the video, its log lines and statistics now; the
        drawing and encoding on the writer thread."""
        if live.redraw:  # the paused picture shown again: not a new moment of the recording
            return
        if self.started is None:
            self.started, self.first = time.perf_counter(), live.captured
        self.received += 1
        t = live.captured - self.first
        # Video frames for this picture: as many as keep the video on the clock, one if it is early by less
        # than a frame (arrival jitter), none if it comes much faster than fps.
        behind = round(t * self.fps) + 1 - self.assigned
        n = min(behind, int(self.fps)) if behind > 0 else 1 if behind > -1 else 0
        index = self.assigned if n else self.assigned - 1  # the video frame that shows these faces
        self.assigned += n
        self.timeline(live)
        if self.error is None:
            try:
                for record in face_records(self.source_name, index, t, live.result.faces):
                    self.log.write(json_line(record))
            except OSError as e:
                self.error = f"recording stopped: cannot write {self.log_path}: {os_reason(e)}"
        if not n:
            return
        try:  # the picture itself is not queued: only what the writer draws from
            self._queue.put_nowait((live.source, live.result.faces, n + self._owed, live.emojis))
            self._owed = 0
        except queue.Full:  # the disk or the encoder cannot keep up: the picture must not wait for them; its
            self.dropped += 1  # frames go to the next picture queued (or to this one at the end: stop), so the
            self._owed += n    # video stays on the clock
            self._unqueued = (live.source, live.result.faces, live.emojis)

    def _write_loop(self):
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            source, faces, n, emojis = item
            try:
                frame = draw_faces(source.copy(), faces, emojis, cover=True)
                if self.writer is None:
                    self.writer = PieceWriter(self.partial_path, self.fps, (frame.shape[1], frame.shape[0]))
                for _ in range(n):
                    self.writer.write(frame)
                    self.frames += 1
            except OSError as e:
                self.error = f"recording stopped: cannot write in {self.folder}: {os_reason(e)}"
            except Exception as e:  # noqa: BLE001 - reported by stop(); the live picture goes on
                self.error = f"recording stopped: {type(e).__name__}: {e}"

    def stop(self):
        """Finish the video and the log (wait for the writer); returns a RecordingResult. Slow for a long
        recording (the video is decoded again to check it): call it off the UI thread."""
        if self._owed and self._unqueued is not None:  # the video's last frames, which no queued picture took
            source, faces, emojis = self._unqueued
            self._queue.put((source, faces, self._owed, emojis))
        self._queue.put(None)
        self._thread.join()
        self.log.close()
        summary = self.timeline.summary()
        try:
            save_summary(summary, self.summary_path, self.summary_path.with_suffix(".png"))
        except OSError as e:
            self.error = self.error or f"cannot write the summary {self.summary_path}: {os_reason(e)}"
        if self.writer is None:
            shutil.rmtree(self.partial_path, ignore_errors=True)
            return RecordingResult(False, self.error or "nothing was recorded (no frame arrived)", None,
                                   self.log_path, self.summary_path, 0)
        self.writer.close()
        self.frames, whole = join_pieces(self.partial_path, self.video_path, self.fps)
        if whole and self.error is None:
            dropped = f"; {self.dropped} frame(s) dropped" if self.dropped else ""
            return RecordingResult(True, f"recorded {self.video_path.name} ({self.frames / self.fps:.0f} s{dropped})",
                                   self.video_path, self.log_path, self.summary_path, self.frames)
        why = self.error or "the video could not be written completely (is the disk full?)"
        return RecordingResult(False, f"{why}; what was written is kept as {self.partial_path}", self.partial_path,
                               self.log_path, self.summary_path, self.frames)
