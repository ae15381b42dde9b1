"""The window: it assembles the parts (controls, picture, panel, recording, calibrating, status bar) over one
LiveSession, polls the session's newest frame from the Tk loop and forwards the user's actions to the session.

    app = open_window(root, processor, spec)   # spec: a camera index or a video path
    root.mainloop()
"""
import collections
import sys
import threading
import time
from pathlib import Path
from tkinter import filedialog, messagebox, ttk

from emojify.capture import list_cameras, open_source
from emojify.config import VIDEO_SUFFIXES
from emojify.live import LatestFrame, LiveSession, State
from emojify.timeline import Timeline, summary_lines
from emojify.window.avatars import Avatars
from emojify.window.calibrating import Calibrating
from emojify.window.controls import KEYS, Controls
from emojify.window.panel import Panel
from emojify.window.picture import Picture, banner_text
from emojify.window.recording import Recording
from emojify.window.statusbar import StatusBar
from emojify.window.view import WindowView, view_of

CAMERA_RETRY_S = 3.0
POLL_MS = 15


def opener(spec):
    """(open_source callable, retry_every) for a camera index (retried until one is plugged in) or a path."""
    return (lambda: open_source(spec)), (CAMERA_RETRY_S if isinstance(spec, int) else None)


def open_window(root, processor, spec, **options):
    """An EmojifyApp in root playing spec through a live processor (build_live_processor)."""
    source, retry_every = opener(spec)
    return EmojifyApp(root, LiveSession(source, processor, retry_every=retry_every), spec, **options)


def apply_style(root):
    """The window's look; returns its background colour."""
    style = ttk.Style(root)
    style.theme_use("clam")
    style.configure("Heading.TLabel", font=("TkDefaultFont", 20, "bold"))
    style.configure("Caption.TLabel", font=("TkDefaultFont", 12))
    style.configure("Status.TLabel", padding=(8, 3))
    bg = style.lookup("TFrame", "background")
    root.configure(bg=bg)
    return bg


class EmojifyApp:
    """The picture on the left, the main face's emoji, emotion and bars on the right, a toolbar and a status
    bar. It draws what the LiveSession hands it and forwards the user's actions to the session."""

    def __init__(self, root, session, spec, exit_at_end=False, out_dir=None, about="", emoji_dir=None,
                 started=None):
        self.root, self.session, self.exit_at_end, self.about = root, session, exit_at_end, about
        self.started = time.perf_counter() if started is None else started  # for the time to the first frame
        self.out_dir = Path(out_dir) if out_dir else Path.home() / "Pictures" / "Emojify"
        self.timeline = Timeline()
        self.latest = session.add_consumer(LatestFrame())
        session.add_consumer(self.timeline)
        self.spec = self.label = self.shown_status = self.last = self.first_frame_s = self.summary_window = None
        self.cameras = None  # indexes that open, once probed
        self.faces_seen = self.frames_shown = 0
        self.emojis_shown = collections.Counter()
        self.close_requested = self.closed = False
        self.last_view = None
        root.title("Emojify")
        root.minsize(640, 420)
        bg = apply_style(root)
        self.controls = Controls(root, self._commands(), mirror=session.mirror, emoji=session.emoji_on_faces)
        self.picture = Picture(root, session.display_size, bg, self._resized)
        self.panel = Panel(root, bg, self.timeline.window_s)
        self.status = StatusBar(root)
        self.recording = Recording(session, self.out_dir, self.status.say, self.report,
                                   self.controls.show_recording, self.picture.set_rec)
        self.calibrating = Calibrating(session, self.picture.set_notice, self.panel.set_calibration,
                                       self.status.say)
        self.avatars = Avatars(root, session, self.panel.set_emojis, self.status.say)
        root.focus_force()
        self.avatars.use(emoji_dir)
        root.update_idletasks()  # from here on the window keeps its size; only the user resizes it
        root.geometry(f"{root.winfo_reqwidth()}x{root.winfo_reqheight()}")
        self.play(spec, first=True)
        self.refresh_cameras()
        self.recording.recover_unfinished()
        self.poll_id = root.after(POLL_MS, self.poll)

    def _commands(self):
        s, c = self.session, lambda: self.controls
        return {
            "open_video": self.open_video, "refresh_cameras": self.refresh_cameras, "play_camera": self.play,
            "snapshot": lambda: self.recording.snapshot(self.last.image if self.last else None),
            "toggle_record": lambda: self.recording.toggle(self.label), "show_summary": self.show_summary,
            "quit": self.close, "toggle_pause": self.toggle_pause,
            "apply_mirror": lambda: s.set_mirror(c().mirror_var.get()),
            "toggle_mirror": lambda: s.set_mirror(c().flip("mirror_var")),
            "apply_emoji": lambda: s.set_emoji_on_faces(c().emoji_var.get()),
            "toggle_emoji": lambda: s.set_emoji_on_faces(c().flip("emoji_var")),
            "set_fullscreen": self.set_fullscreen,
            "toggle_fullscreen": lambda: self.set_fullscreen(not self.fullscreen),
            "escape": lambda: self.set_fullscreen(False) if self.fullscreen else self.close(),
            "choose_emoji_dir": lambda: self.avatars.choose(), "builtin_emoji": lambda: self.avatars.use(None),
            "calibrate": lambda: self.calibrating.start(), "forget_calibration": lambda: self.calibrating.forget(),
            "copy_emoji": lambda: self.panel.copy_emoji(self.root, self.status.say, time.perf_counter()),
            "show_keys": lambda: messagebox.showinfo("Emojify keys", "\n".join(f"{k}: {v}" for k, v in KEYS),
                                                     parent=self.root),
            "show_about": lambda: messagebox.showinfo("About Emojify", self.about, parent=self.root),
        }

    fullscreen = property(lambda self: self.picture.fullscreen)

    def set_fullscreen(self, on):
        self.picture.set_fullscreen(on, self.controls.show_menu)
        self.controls.fullscreen_var.set(self.picture.fullscreen)

    def play(self, spec, first=False):
        """Play a camera index or a video path; replaces what played before (a recording is finished)."""
        if self.recording.recorder is not None:
            self.recording.stop()  # a recording holds one source's picture size and frame rate
        self.spec, self.shown_status = spec, None
        is_camera = isinstance(spec, int)
        self.label = f"camera {spec}" if is_camera else Path(str(spec)).name
        self.status.restart()
        self.controls.fill_cameras(self.cameras, spec if is_camera else -1)
        if first:
            self.session.start()
        else:
            self.session.restart(*opener(spec))

    def open_video(self):
        types = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        path = filedialog.askopenfilename(parent=self.root, title="Open a video",
                                          filetypes=[("Videos", types), ("All files", "*")])
        if path:
            self.play(path)

    def refresh_cameras(self):
        """Probe camera indexes on a thread (opening one can take a second); the menu fills in when done."""
        def probe():
            busy = {self.spec} if isinstance(self.spec, int) and self.session.source is not None else set()
            self.cameras = sorted(set(list_cameras(skip=busy)) | busy)
        threading.Thread(target=probe, name="camera-probe", daemon=True).start()

    def toggle_pause(self):
        state = self.session.state
        if state is State.ENDED:
            self.play(self.spec)
        elif state is State.PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    def _resized(self, size):
        self.session.set_display_size(size)  # the next frame comes at this size
        self.panel.set_size(int(min(256, max(96, (self.root.winfo_height() - 400) * 0.6))))

    def show_summary(self):
        """T: the session so far, printed and in a small window."""
        from emojify.plots import summary_chart
        from emojify.window.widgets import show_summary_window
        summary = self.timeline.summary()
        lines = summary_lines(summary)
        print("\n".join(lines), flush=True)
        self.summary_window = show_summary_window(self.root, lines, summary_chart(summary, most=8))

    def report(self, line):
        """A problem the user should know of that does not stop anything: stderr and the status bar."""
        print(f"warning: {line}", file=sys.stderr, flush=True)
        self.status.say(line, seconds=8.0)

    def request_close(self, *_):
        """For signal handlers: close at the next poll, from the Tk loop, never inside another callback."""
        self.close_requested = True

    def poll(self):
        if self.closed:
            return
        if self.close_requested:
            self.close()
            return
        frame, now = self.latest.take(), time.perf_counter()
        if frame is not None:
            self.show(frame, now)
        status = self.session.status
        if status != self.shown_status:
            self.show_state(status)
        self.status.update(now, self.label, status.state is State.RUNNING)
        if self.cameras != self.controls.cameras_shown:
            self.controls.fill_cameras(self.cameras, self.spec if isinstance(self.spec, int) else -1)
        self.recording.poll()
        self.calibrating.poll(now)
        if self.exit_at_end and status.state is State.ENDED and frame is None:
            self.close()
            return
        self.poll_id = self.root.after(POLL_MS, self.poll)

    def show(self, live, now):
        self.picture.show(live.image)
        if self.first_frame_s is None:
            self.first_frame_s = now - self.started
            self.shown_status = None  # a picture to save now: show_state enables the snapshot controls
        self.last = live
        self.frames_shown += 1
        self.status.frame_shown(now, live.captured, len(live.result.faces))
        self.panel.show(live.result.faces, live.hint, self.timeline.strip, now)
        if live.result.faces:
            self.faces_seen += 1
            self.emojis_shown[self.panel.shown] += 1

    def show_state(self, status):
        """Banner, controls and panel for a new state: each state shown once, in words."""
        self.shown_status, state = status, status.state
        self.picture.set_banner(banner_text(status, self.spec, self.session.retry_every))
        has_picture = self.last is not None and state in (State.RUNNING, State.PAUSED, State.ENDED)
        self.controls.show_state(state in (State.RUNNING, State.PAUSED, State.ENDED),
                                 {State.PAUSED: "Resume", State.ENDED: "Replay"}.get(state, "Pause"), has_picture,
                                 state is State.RUNNING)
        if state in (State.NO_SOURCE, State.SOURCE_LOST, State.ERROR, State.STARTING):
            self.panel.clear()
        if state is State.SOURCE_LOST:
            print(f"warning: {status.message}", file=sys.stderr, flush=True)
        self.status.at = 0.0

    def close(self):
        """Quit: a recording finished, the session's threads stopped, the camera released, the window gone."""
        if self.closed:
            return
        self.closed = True
        self.status.update(time.perf_counter(), self.label, self.session.state is State.RUNNING, force=True)
        self.recording.close()
        self.session.close()
        self.last_view = view_of(self)
        for part in (self.picture, self.panel, self.controls):
            part.release()
        self.root.after_cancel(self.poll_id)
        self.root.destroy()

    def view(self) -> WindowView:
        """What the window shows now (once closed: what it showed last), for tests and tools (view.py)."""
        return self.last_view if self.closed else view_of(self)

    def summary(self):
        top = self.emojis_shown.most_common(1)[0][0] if self.emojis_shown else "none"
        first = f"first after {self.first_frame_s:.1f} s" if self.first_frame_s is not None else "none"
        w, h = self.session.display_size
        return (f"Shown {self.frames_shown} frames ({self.status.fps:.1f} fps at the end; {first}); "
                f"a face in {self.faces_seen}; most shown emoji: {top}; picture area {w}x{h}")
