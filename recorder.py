"""Recording a live session: the annotated picture as a WebM video that web browsers play, a JSON-lines log
of every face (the fields of predict.py's records, plus face id), and a summary of the recording.

    recorder = Recorder(processor, folder, fps=source.fps)
    session.add_consumer(recorder)       # frames go to a writer thread; the live loop never waits on it
    ...
    session.remove_consumer(recorder); result = recorder.stop()

While recording, the video is NAME.partial.webm: a process killed then leaves it under that name (playable up
to where it stopped) and a later start reports it (unfinished_recordings); the log is written a whole line
at a time, so it stays readable whatever happens.
"""
import json
import queue
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from atomic import LineFile
from capture import WEB_VIDEO_SUFFIX, VideoWriter
from errors import OutputError, os_reason
from faces import face_records
from overlay import draw_faces
from timeline import Timeline, save_summary

PARTIAL = ".partial"


def unfinished_recordings(folder):
    """Videos a killed session left unfinished in folder."""
    folder = Path(folder)
    return sorted(folder.glob(f"*{PARTIAL}{WEB_VIDEO_SUFFIX}")) if folder.is_dir() else []


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

    QUEUE = 90  # frames waiting for the writer (3 s at 30 fps); beyond that, frames are dropped and counted

    def __init__(self, processor, folder, fps=30.0, source_name="camera", stem=None):
        self.processor, self.fps, self.source_name = processor, float(fps), source_name
        self.folder = Path(folder)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            stem = free_stem(self.folder, stem or time.strftime("emojify-%Y%m%d-%H%M%S"))
            self.video_path = self.folder / f"{stem}{WEB_VIDEO_SUFFIX}"
            self.partial_path = self.folder / f"{stem}{PARTIAL}{WEB_VIDEO_SUFFIX}"
            self.log_path = self.folder / f"{stem}.jsonl"
            self.summary_path = self.folder / f"{stem}.summary.json"
            self.log = LineFile(self.log_path)
        except OSError as e:
            raise OutputError(f"cannot record in {self.folder}: {os_reason(e)}") from None
        self.timeline = Timeline()
        self.writer = None
        self.frames = self.dropped = self.received = 0
        self.error = None
        self.started = None
        self._queue = queue.Queue(self.QUEUE)
        self._thread = threading.Thread(target=self._write_loop, name="recorder", daemon=True)
        self._thread.start()

    @property
    def seconds(self):
        return 0.0 if self.started is None else time.perf_counter() - self.started

    def __call__(self, live):
        if self.started is None:
            self.started = time.perf_counter()
        self.received += 1
        emojis = self.processor.emojis if self.processor.emoji_on_faces else None
        try:
            self._queue.put_nowait((live, emojis))
        except queue.Full:  # the disk or the encoder cannot keep up: the picture must not wait for them
            self.dropped += 1

    def _write_loop(self):
        first = None
        while True:
            item = self._queue.get()
            if item is None:
                return
            if self.error is not None:
                continue
            live, emojis = item
            try:
                first = live.captured if first is None else first
                t = live.captured - first
                self.timeline(live)
                due = min(max(int(t * self.fps) + 1 - self.frames, 0), int(self.fps))  # 0 skips, 2+ repeats
                index = self.frames if due else self.frames - 1  # the video frame that shows these faces
                for record in face_records(self.source_name, index, t, live.result.faces):
                    self.log.write(json.dumps(record, allow_nan=False) + "\n")
                if not due:
                    continue
                frame = draw_faces(live.source.copy(), live.result.faces, emojis, cover=True)
                if self.writer is None:
                    self.writer = VideoWriter(self.partial_path, self.fps, (frame.shape[1], frame.shape[0]))
                for _ in range(due):
                    self.writer.write(frame)
                    self.frames += 1
            except OSError as e:
                self.error = f"recording stopped: cannot write in {self.folder}: {os_reason(e)}"
            except Exception as e:  # noqa: BLE001 - reported by stop(); the live picture goes on
                self.error = f"recording stopped: {type(e).__name__}: {e}"

    def stop(self):
        """Finish the video and the log (wait for the writer); returns a RecordingResult. Slow for a long
        recording (the video is decoded again to check it): call it off the UI thread."""
        self._queue.put(None)
        self._thread.join()
        self.log.close()
        summary = self.timeline.summary()
        try:
            save_summary(summary, self.summary_path, self.summary_path.with_suffix(".png"))
        except OSError as e:
            self.error = self.error or f"cannot write the summary {self.summary_path}: {os_reason(e)}"
        if self.writer is None:
            self.partial_path.unlink(missing_ok=True)
            return RecordingResult(False, self.error or "nothing was recorded (no frame arrived)", None,
                                   self.log_path, self.summary_path, 0)
        whole = self.writer.finish()
        if whole and self.error is None:
            self.partial_path.replace(self.video_path)
            dropped = f"; {self.dropped} frame(s) dropped" if self.dropped else ""
            return RecordingResult(True, f"recorded {self.video_path.name} ({self.frames / self.fps:.0f} s{dropped})",
                                   self.video_path, self.log_path, self.summary_path, self.frames)
        why = self.error or "the video could not be written completely (is the disk full?)"
        return RecordingResult(False, f"{why}; what was written is kept as {self.partial_path}", self.partial_path,
                               self.log_path, self.summary_path, self.frames)
