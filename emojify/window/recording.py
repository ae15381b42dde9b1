"""Snapshots and recordings: S saves the picture as a PNG; R records the session (recorder.Recorder) until R
again, and the recording is finished on a thread (checking the video takes a while) while the window goes on."""
import threading
import time

from PIL import Image

from emojify.atomic import atomic_path
from emojify.errors import AppError, os_reason
from emojify.live import State
from emojify.recorder import Recorder, recover, unfinished_recordings


def free_snapshot_path(folder):
    stem = time.strftime("emojify-%Y%m%d-%H%M%S")
    path, n = folder / f"{stem}.png", 2
    while path.exists():  # several in one second
        path, n = folder / f"{stem}-{n}.png", n + 1
    return path


class Recording:
    """session: the LiveSession; say(text, seconds) and report(line) reach the user; show(button_text,
    recording, enabled) and set_rec(text) update the Record control and the picture's REC marker."""

    def __init__(self, session, out_dir, say, report, show, set_rec):
        self.session, self.out_dir = session, out_dir
        self.say, self.report, self.show, self.set_rec = say, report, show, set_rec
        self.recorder = None
        self.stopping = None  # (thread finishing a recording, [its result]) until poll() reports it
        self.recovering = None  # (thread joining what a killed Emojify recorded, [(pieces, video or None)])

    @property
    def busy(self):
        return self.recorder is not None or self.stopping is not None

    def snapshot(self, image):
        """Save image (RGBA, the picture as shown) as a PNG in out_dir."""
        if image is None:
            self.say("no picture to save yet")
            return
        path = free_snapshot_path(self.out_dir)
        try:
            with atomic_path(path) as tmp:
                Image.fromarray(image).convert("RGB").save(tmp)
        except OSError as e:
            self.say(f"cannot save the snapshot in {self.out_dir}: {os_reason(e)}")
            return
        self.say(f"saved {path}")
        print(f"Snapshot: {path}", flush=True)

    def toggle(self, source_name):
        if self.recorder is not None:
            self.stop()
            return
        if self.stopping is not None:
            self.say("still finishing the last recording")
            return
        source = self.session.source
        if self.session.state is not State.RUNNING or source is None:
            self.say("nothing to record: no picture is playing")
            return
        try:
            self.recorder = Recorder(self.out_dir, fps=source.fps, source_name=source_name)
        except AppError as e:
            self.say(str(e), seconds=8.0)
            return
        self.session.add_consumer(self.recorder)
        self.show("Stop (0:00)", True)
        print(f"Recording: {self.recorder.partial_path}", flush=True)

    def stop(self, wait=False):
        """Finish the recording on a thread; poll() reports it (at once with wait=True)."""
        recorder, self.recorder = self.recorder, None
        self.session.remove_consumer(recorder)
        self.set_rec("")
        self.show("Finishing...", False, enabled=False)
        result = []
        thread = threading.Thread(target=lambda: result.append(recorder.stop()), name="recording", daemon=True)
        thread.start()
        self.stopping = (thread, result)
        if wait:
            thread.join()
            self._finished()

    def recover_unfinished(self):
        """Recordings a killed Emojify left (their pieces): each made into its video on a thread; poll() says."""
        folders = unfinished_recordings(self.out_dir)
        if folders:
            done = []
            thread = threading.Thread(target=lambda: done.extend((f, recover(f)) for f in folders),
                                      name="recovering", daemon=True)
            thread.start()
            self.recovering = (thread, done)

    def _recovered(self):
        for folder, video in self.recovering[1]:
            self.report(f"an earlier recording was not finished (Emojify was killed); its video up to the last "
                        f"second is kept as {video}" if video else
                        f"an earlier recording was not finished (Emojify was killed); none of its video could be "
                        f"read (its pieces are in {folder})")
        self.recovering = None

    def poll(self):
        """From the Tk loop: the REC timer, and the report of a recording that finished."""
        if self.recovering is not None and not self.recovering[0].is_alive():
            self._recovered()
        if self.recorder is not None:
            seconds = int(self.recorder.seconds)
            clock = f"{seconds // 60}:{seconds % 60:02d}"
            self.set_rec(f"\u25cf REC {clock}")
            self.show(f"Stop ({clock})", True)
        if self.stopping is not None and not self.stopping[0].is_alive():
            self._finished()

    def _finished(self):
        _, result = self.stopping
        self.stopping = None
        self.show("Record", False)
        done = result[0]
        if done.ok:
            self.say(f"saved {done.video}", seconds=8.0)
            print(f"Recording: {done.video} ({done.frames} frames), log {done.log}, summary {done.summary}",
                  flush=True)
        else:
            self.report(done.message)

    def close(self):
        """Finish whatever is recording, finishing or being recovered, waiting for it."""
        if self.recovering is not None:
            self.recovering[0].join()
            self._recovered()
        if self.recorder is not None:
            self.stop(wait=True)
        elif self.stopping is not None:
            self.stopping[0].join()
            self._finished()
