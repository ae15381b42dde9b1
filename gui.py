"""Emojify: the live webcam picture with a box on every face, and the emoji of the main face beside it.

    python gui.py                    # first webcam
    python gui.py --camera 1         # another webcam
    python gui.py --source clip.mp4  # a video file, played at its own frame rate

Keys (either case): Q quits; Escape leaves full screen, else quits; Space pauses (replays a finished video);
M mirrors; E puts emoji over faces; F11 full screen; S saves a snapshot; R starts and stops recording;
C calibrates to your neutral face; T shows the session summary; Ctrl+C copies the emoji; Ctrl+O opens a video.
"""
import time

STARTED = time.perf_counter()  # for the start-up figure: launch to first frame shown

import collections  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

import preflight  # noqa: E402

preflight.require(window=True)  # before tkinter, PIL and the rest

import tkinter as tk  # noqa: E402
from tkinter import filedialog, messagebox, ttk  # noqa: E402

from PIL import Image, ImageTk  # noqa: E402
from tktooltip import ToolTip  # noqa: E402

from atomic import atomic_path  # noqa: E402
from capture import list_cameras, open_source  # noqa: E402
from cli import add_views_option, main_guard, make_parser  # noqa: E402
from config import MODEL_PATH, ROOT, VERSION, VIDEO_SUFFIXES  # noqa: E402
from emotions import DISPLAY_NAMES, EMOJI_CHARS, EMOTIONS, NO_FACE, UNSURE, UNSURE_CHAR  # noqa: E402
from errors import AppError, os_reason  # noqa: E402
from live import LatestFrame, LiveSession, State  # noqa: E402
from overlay import load_emojis, shown_as  # noqa: E402
from recorder import Recorder, unfinished_recordings  # noqa: E402
from timeline import Timeline, save_summary, summary_lines  # noqa: E402
from widgets import EmotionBars, TimelineStrip, show_summary_window  # noqa: E402

# The banner over the picture in each state that is not plain running; the state's message goes under it.
BANNERS = {State.STARTING: "Starting...", State.PAUSED: "Paused", State.NO_SOURCE: "No picture",
           State.SOURCE_LOST: "Camera lost", State.ENDED: "End of video", State.ERROR: "Something went wrong",
           State.CLOSED: "Closed"}
HINTS = {State.PAUSED: "Space resumes.", State.ENDED: "Space replays it; Ctrl+O opens another video."}
CAMERA_RETRY_S = 3.0
KEYS = (("Q", "quit"), ("Escape", "leave full screen, else quit"), ("Space", "pause / resume / replay"),
        ("M", "mirror the picture"), ("E", "emoji over faces"), ("F11", "full screen"),
        ("S", "save a snapshot"), ("R", "start / stop recording"), ("C", "calibrate to your neutral face"),
        ("T", "session summary"), ("Ctrl+C", "copy the emoji"), ("Ctrl+O", "open a video file"))


class EmojifyApp:
    """The window: the picture on the left, the main face's emoji, emotion and bars on the right, a toolbar
    and a status bar. It draws what a LiveSession hands it and forwards the user's actions to it."""

    POLL_MS = 15
    STATUS_EVERY_S = 0.25
    FPS_FRAMES = 30  # the fps readout is the rate over the last this-many shown frames

    def __init__(self, root, processor, spec, exit_at_end=False, out_dir=None, about="", emoji_dir=None):
        self.root, self.processor, self.exit_at_end = root, processor, exit_at_end
        self.out_dir = Path(out_dir) if out_dir else Path.home() / "Pictures" / "Emojify"
        self.about_text = about
        self.timeline = Timeline()
        self.recorder = None
        self.stopping = None       # a thread finishing a recording, and its result when done
        self.calibration_shown = None
        self.hint_text = ""
        self.strip_at = 0.0
        self.session = None
        self.spec = None
        self.frames_shown = 0
        self.faces_now = 0
        self.faces_seen = 0
        self.emojis_shown = collections.Counter()
        self.shown_emotion = None
        self.shown_caption = ""
        self.shown_times = collections.deque(maxlen=self.FPS_FRAMES)
        self.fps = 0.0
        self.latency = 0.0
        self.first_frame_s = None
        self.last_image = None
        self.last_faces = []
        self.shown_status = None
        self.status_at = 0.0
        self.status_text = ""
        self.flash = ("", 0.0)  # a passing message for the status bar, and until when
        self.fullscreen = False
        self.saved_geometry = None
        self.emoji_px = 0
        self.emoji_sources = {}
        self.cameras = None  # indexes that open, once probed
        self.close_requested = False
        self.closed = False

        root.title("Emojify")
        root.minsize(640, 420)
        self._build_style()
        self._build_menu()
        self._build_video()
        self._build_side_panel()
        self._build_toolbar()
        self._build_status_bar()
        self._bind_keys()
        root.focus_force()
        self.set_emoji_dir(emoji_dir)
        # From here on the window keeps its size whatever the labels say; only the user resizes it.
        root.update_idletasks()
        root.geometry(f"{root.winfo_reqwidth()}x{root.winfo_reqheight()}")
        self.start_source(spec)
        self.refresh_cameras()
        for path in unfinished_recordings(self.out_dir):
            self.report(f"an earlier recording was not finished (Emojify was killed); it is kept as {path}")
        self.poll_id = root.after(self.POLL_MS, self.poll)

    # ---- building the window

    def _build_style(self):
        style = ttk.Style(self.root)
        style.theme_use("clam")
        self.bg = style.lookup("TFrame", "background")
        self.root.configure(bg=self.bg)
        style.configure("Heading.TLabel", font=("TkDefaultFont", 20, "bold"))
        style.configure("Caption.TLabel", font=("TkDefaultFont", 12))
        style.configure("Status.TLabel", padding=(8, 3))

    def _build_menu(self):
        menu = tk.Menu(self.root)
        self.file_menu = tk.Menu(menu, tearoff=False)
        self.file_menu.add_command(label="Open video...", accelerator="Ctrl+O", command=self.open_video)
        self.camera_menu = tk.Menu(self.file_menu, tearoff=False, postcommand=self.refresh_cameras)
        self.file_menu.add_cascade(label="Camera", menu=self.camera_menu)
        self.file_menu.add_command(label="Save snapshot", accelerator="S", command=self.snapshot)
        self.file_menu.add_command(label="Start recording", accelerator="R", command=self.toggle_record)
        self.file_menu.add_command(label="Session summary", accelerator="T", command=self.show_summary)
        self.file_menu.add_separator()
        self.file_menu.add_command(label="Quit", accelerator="Q", command=self.close)
        menu.add_cascade(label="File", menu=self.file_menu)
        view = tk.Menu(menu, tearoff=False)
        self.mirror_var = tk.BooleanVar(value=self.processor.mirror)
        self.emoji_var = tk.BooleanVar(value=self.processor.emoji_on_faces)
        self.fullscreen_var = tk.BooleanVar(value=False)
        view.add_checkbutton(label="Mirror", accelerator="M", variable=self.mirror_var, command=self.apply_mirror)
        view.add_checkbutton(label="Emoji over faces", accelerator="E", variable=self.emoji_var,
                             command=self.apply_emoji)
        view.add_checkbutton(label="Full screen", accelerator="F11", variable=self.fullscreen_var,
                             command=lambda: self.set_fullscreen(self.fullscreen_var.get()))
        view.add_separator()
        view.add_command(label="Emoji pictures from a folder...", command=self.choose_emoji_dir)
        view.add_command(label="Built-in emoji", command=lambda: self.set_emoji_dir(None))
        menu.add_cascade(label="View", menu=view)
        face = tk.Menu(menu, tearoff=False)
        face.add_command(label="Calibrate to my neutral face", accelerator="C", command=self.calibrate)
        face.add_command(label="Forget calibration", command=self.forget_calibration)
        face.add_command(label="Copy emoji", accelerator="Ctrl+C", command=self.copy_emoji)
        menu.add_cascade(label="Face", menu=face)
        help_menu = tk.Menu(menu, tearoff=False)
        help_menu.add_command(label="Keys", command=self.show_keys)
        help_menu.add_command(label="About Emojify", command=self.show_about)
        menu.add_cascade(label="Help", menu=help_menu)
        self.root.configure(menu=menu)
        self.menu = menu
        self.camera_var = tk.IntVar(value=-1)
        self._fill_camera_menu()

    def _build_video(self):
        w, h = self.processor.display_size
        self.video = tk.Canvas(self.root, width=w, height=h, bg=self.bg, highlightthickness=0, bd=0)
        self.video.grid(row=0, column=0, sticky="nsew", padx=(8, 0), pady=(8, 0))
        self.root.columnconfigure(0, weight=1)
        self.root.rowconfigure(0, weight=1)
        # PhotoImages live on self, or Tk would show blank images after garbage collection.
        self.photo = ImageTk.PhotoImage(Image.new("RGBA", (w, h)))
        self.picture = self.video.create_image(w // 2, h // 2, image=self.photo, anchor="center")
        self.banner_box = self.video.create_rectangle(0, 0, 0, 0, fill="#202020", outline="", state="hidden")
        self.banner = self.video.create_text(w // 2, h // 2, text="", fill="white", justify="center",
                                             font=("TkDefaultFont", 14, "bold"), width=w - 60)
        self.rec = self.video.create_text(14, 12, text="", fill="#e02020", anchor="nw",
                                          font=("TkDefaultFont", 16, "bold"))
        self.notice = self.video.create_text(w // 2, 12, text="", fill="white", anchor="n",
                                             font=("TkDefaultFont", 16, "bold"))
        self.video.bind("<Configure>", self.on_video_resize)

    def _build_side_panel(self):
        side = ttk.Frame(self.root, padding=(12, 8, 8, 0))
        side.grid(row=0, column=1, sticky="n")
        self.emoji = ttk.Label(side)
        self.emoji.pack()
        self.emotion_text = ttk.Label(side, text="", style="Heading.TLabel")
        self.emotion_text.pack(pady=(6, 0))
        self.caption = ttk.Label(side, text="", style="Caption.TLabel")
        self.caption.pack()
        self.bars = EmotionBars(side, self.bg)
        self.bars.pack(pady=(10, 0))
        ttk.Label(side, text="Last minute").pack(anchor="w", pady=(10, 0))
        self.strip = TimelineStrip(side, self.bg, window_s=self.timeline.window_s)
        self.strip.pack()
        self.hint = ttk.Label(side, text="", foreground="#b35900", wraplength=280, justify="left")
        self.hint.pack(anchor="w", pady=(8, 0))
        self.calibration_label = ttk.Label(side, text="", wraplength=280, justify="left")
        self.calibration_label.pack(anchor="w", pady=(4, 0))

    def _build_toolbar(self):
        bar = ttk.Frame(self.root, padding=(8, 6, 0, 0))
        bar.grid(row=1, column=0, columnspan=2, sticky="ew")
        self.pause_button = ttk.Button(bar, text="Pause", width=8, command=self.toggle_pause, takefocus=False)
        self.snapshot_button = ttk.Button(bar, text="Snapshot", width=9, command=self.snapshot, takefocus=False)
        mirror = ttk.Checkbutton(bar, text="Mirror", variable=self.mirror_var, command=self.apply_mirror,
                                 takefocus=False)
        emoji = ttk.Checkbutton(bar, text="Emoji on faces", variable=self.emoji_var, command=self.apply_emoji,
                                takefocus=False)
        self.record_button = ttk.Button(bar, text="Record", width=10, command=self.toggle_record, takefocus=False)
        calibrate = ttk.Button(bar, text="Calibrate", width=9, command=self.calibrate, takefocus=False)
        copy = ttk.Button(bar, text="Copy emoji", width=10, command=self.copy_emoji, takefocus=False)
        full = ttk.Button(bar, text="Full screen", width=11, command=self.toggle_fullscreen, takefocus=False)
        quit_button = ttk.Button(bar, text="Quit", width=6, command=self.close, takefocus=False)
        tips = [(self.pause_button, "Pause or resume the picture; replay a finished video (Space)"),
                (self.snapshot_button, "Save the picture as a PNG in your Pictures folder (S)"),
                (self.record_button, "Record the picture as a video, with a log of every face (R)"),
                (calibrate, "Hold a neutral face for 3 seconds: Emojify learns how your resting face looks (C)"),
                (copy, "Copy the emoji of the main face, to paste into a chat (Ctrl+C)"),
                (mirror, "Flip the picture left-right, like a mirror (M)"),
                (emoji, "Put each face's emoji over it (E)"),
                (full, "Fill the screen; Escape leaves (F11)"),
                (quit_button, "Close Emojify (Q)")]
        for widget, tip in tips:
            widget.pack(side="left", padx=(0, 6))
            # A titled tooltip, so that tools looking for the "Emojify" window never find a tooltip instead.
            ToolTip(widget, msg=tip, delay=0.5).wm_title("Emojify tooltip")

    def _build_status_bar(self):
        self.status = ttk.Label(self.root, text="", anchor="w", style="Status.TLabel", relief="sunken")
        self.status.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(6, 0))

    def _bind_keys(self):
        self.root.protocol("WM_DELETE_WINDOW", self.close)
        bindings = {"q": self.close, "m": self.toggle_mirror, "e": self.toggle_emoji, "s": self.snapshot,
                    "r": self.toggle_record, "c": self.calibrate, "t": self.show_summary}
        for key, action in bindings.items():
            for name in (key, key.upper()):  # either case: Shift or Caps Lock held
                self.root.bind(f"<KeyPress-{name}>", lambda e, a=action: a())
        self.root.bind("<space>", lambda e: self.toggle_pause())
        self.root.bind("<Escape>", lambda e: self.set_fullscreen(False) if self.fullscreen else self.close())
        self.root.bind("<F11>", lambda e: self.toggle_fullscreen())
        for name in ("<Control-o>", "<Control-O>"):
            self.root.bind(name, lambda e: self.open_video())
        for name in ("<Control-c>", "<Control-C>"):
            self.root.bind(name, lambda e: self.copy_emoji())

    # ---- the source

    def start_source(self, spec):
        """Play a camera index or a video path; replaces what played before."""
        if self.recorder is not None:
            self.stop_recording()  # a recording holds one source's picture size and frame rate
        if self.session is not None:
            self.session.close()
        is_camera = isinstance(spec, int)
        self.spec = spec
        self.processor.pipeline.reset()
        self.session = LiveSession(lambda: open_source(spec), self.processor,
                                   retry_every=CAMERA_RETRY_S if is_camera else None)
        self.latest = self.session.add_consumer(LatestFrame())
        self.session.add_consumer(self.timeline)
        self.shown_times.clear()
        self.camera_var.set(spec if is_camera else -1)
        self.label = f"camera {spec}" if is_camera else Path(str(spec)).name
        self.session.start()
        self.shown_status = None

    def replay(self):
        self.start_source(self.spec)

    def open_video(self):
        types = " ".join(f"*{s}" for s in sorted(VIDEO_SUFFIXES))
        path = filedialog.askopenfilename(parent=self.root, title="Open a video",
                                          filetypes=[("Videos", types), ("All files", "*")])
        if path:
            self.start_source(path)

    def refresh_cameras(self):
        """Probe camera indexes on a thread (opening one can take a second); the menu fills in when done."""
        def probe():
            busy = {self.spec} if isinstance(self.spec, int) and self.session.source is not None else set()
            self.cameras = sorted(set(list_cameras(skip=busy)) | busy)
        threading.Thread(target=probe, name="camera-probe", daemon=True).start()

    def _fill_camera_menu(self):
        self.camera_menu.delete(0, "end")
        if not self.cameras:
            self.camera_menu.add_command(label="looking..." if self.cameras is None else "no camera found",
                                         state="disabled")
        for index in self.cameras or ():
            self.camera_menu.add_radiobutton(label=f"Camera {index}", value=index, variable=self.camera_var,
                                             command=lambda i=index: self.start_source(i))
        self.shown_cameras = self.cameras

    # ---- user actions

    def toggle_pause(self):
        state = self.session.state
        if state is State.ENDED:
            self.replay()
        elif state is State.PAUSED:
            self.session.resume()
        else:
            self.session.pause()

    def toggle_mirror(self):
        self.mirror_var.set(not self.mirror_var.get())
        self.apply_mirror()

    def apply_mirror(self):
        self.session.set_mirror(self.mirror_var.get())

    def toggle_emoji(self):
        self.emoji_var.set(not self.emoji_var.get())
        self.apply_emoji()

    def apply_emoji(self):
        self.processor.emoji_on_faces = self.emoji_var.get()
        self.session.redraw()  # a paused picture gets the new overlay

    def toggle_fullscreen(self):
        self.set_fullscreen(not self.fullscreen)

    def set_fullscreen(self, on):
        if on == self.fullscreen:
            return
        self.fullscreen = on
        self.fullscreen_var.set(on)
        if on:
            self.saved_geometry = self.root.geometry()
            self.root.configure(menu="")  # the whole screen for the picture; the keys still work
            self.root.attributes("-fullscreen", True)
            # Without a window manager -fullscreen alone leaves the size: set it too.
            self.root.geometry(f"{self.root.winfo_screenwidth()}x{self.root.winfo_screenheight()}+0+0")
        else:
            self.root.attributes("-fullscreen", False)
            self.root.configure(menu=self.menu)
            self.root.geometry(self.saved_geometry)

    def snapshot(self):
        if self.last_image is None:
            self.say("no picture to save yet")
            return
        stem = time.strftime("emojify-%Y%m%d-%H%M%S")
        path, n = self.out_dir / f"{stem}.png", 2
        while path.exists():  # several in one second
            path, n = self.out_dir / f"{stem}-{n}.png", n + 1
        try:
            with atomic_path(path) as tmp:
                Image.fromarray(self.last_image).convert("RGB").save(tmp)
        except OSError as e:
            self.say(f"cannot save the snapshot in {self.out_dir}: {os_reason(e)}")
            return
        self.say(f"saved {path}")
        print(f"Snapshot: {path}", flush=True)

    def toggle_record(self):
        if self.recorder is not None:
            self.stop_recording()
            return
        if self.stopping is not None:
            self.say("still finishing the last recording")
            return
        source = self.session.source
        if self.session.state is not State.RUNNING or source is None:
            self.say("nothing to record: no picture is playing")
            return
        try:
            self.recorder = Recorder(self.processor, self.out_dir, fps=source.fps, source_name=self.label)
        except AppError as e:
            self.say(str(e), seconds=8.0)
            return
        self.session.add_consumer(self.recorder)
        self.record_button.configure(text="Stop (0:00)")
        self.file_menu.entryconfigure(3, label="Stop recording")
        print(f"Recording: {self.recorder.partial_path}", flush=True)

    def stop_recording(self, wait=False):
        """Finish the recording on a thread (decoding the video to check it takes a while); poll() reports."""
        recorder, self.recorder = self.recorder, None
        self.session.remove_consumer(recorder)
        self.video.itemconfigure(self.rec, text="")
        self.record_button.configure(text="Finishing...")
        self.record_button.state(["disabled"])
        self.file_menu.entryconfigure(3, label="Start recording")
        result = []
        thread = threading.Thread(target=lambda: result.append(recorder.stop()), name="recording", daemon=True)
        thread.start()
        self.stopping = (thread, result)
        if wait:
            thread.join()
            self.finish_recording()

    def finish_recording(self):
        thread, result = self.stopping
        self.stopping = None
        self.record_button.configure(text="Record")
        self.record_button.state(["!disabled"])
        done = result[0]
        if done.ok:
            self.say(f"saved {done.video}", seconds=8.0)
            print(f"Recording: {done.video} ({done.frames} frames), log {done.log}, summary {done.summary}",
                  flush=True)
        else:
            self.report(done.message)

    def calibrate(self):
        if self.session.state is not State.RUNNING:
            self.say("calibration needs the live picture running")
            return
        self.processor.calibration.start()
        self.calibration_shown = None

    def forget_calibration(self):
        self.processor.calibration.forget()
        self.processor.pipeline.reset()
        self.calibration_label.configure(text="")
        self.say("calibration forgotten")

    def show_calibration(self, now):
        calibration = self.processor.calibration
        if calibration.collecting:
            left = calibration.seconds_left(now)
            text = f"Hold a neutral face... {left:.0f}" if left > 0.5 else "Hold a neutral face..."
        else:
            text = ""
            if calibration.result is not None and calibration.result is not self.calibration_shown:
                self.calibration_shown = calibration.result
                self.calibration_label.configure(text=calibration.result.message)
                self.say(calibration.result.message, seconds=8.0)
                print(calibration.result.message.capitalize(), flush=True)
                self.processor.pipeline.reset()  # the next frames are read with the correction at once
        if text != self.video.itemcget(self.notice, "text"):
            self.video.itemconfigure(self.notice, text=text)

    def copy_emoji(self):
        if self.shown_emotion is None:
            self.say("no face in view: nothing to copy")
            return
        char = UNSURE_CHAR if self.shown_emotion == UNSURE else EMOJI_CHARS[self.shown_emotion]
        self.root.clipboard_clear()
        self.root.clipboard_append(char)
        self.say(f"copied {char} to the clipboard")

    def show_summary(self):
        """T: the session so far, printed and in a small window."""
        from plots import summary_chart
        summary = self.timeline.summary()
        lines = summary_lines(summary)
        print("\n".join(lines), flush=True)
        self.summary_window = show_summary_window(self.root, lines, summary_chart(summary))

    def show_keys(self):
        messagebox.showinfo("Emojify keys", "\n".join(f"{k}: {v}" for k, v in KEYS), parent=self.root)

    def show_about(self):
        messagebox.showinfo("About Emojify", self.about_text, parent=self.root)

    def say(self, text, seconds=5.0):
        self.flash = (text, time.perf_counter() + seconds)
        self.status_at = 0.0  # show it now

    # ---- the picture

    def on_video_resize(self, event):
        w, h = max(event.width, 32), max(event.height, 32)
        self.processor.display_size = (w, h)  # the next frame comes at this size
        self.video.coords(self.picture, w // 2, h // 2)
        self.video.coords(self.banner, w // 2, h // 2)
        self.video.itemconfigure(self.banner, width=max(w - 60, 100))
        self._place_banner_box()
        self.set_emoji_size(int(min(256, max(96, (self.root.winfo_height() - 400) * 0.6))))
        if self.session is not None:
            self.session.redraw()  # a paused picture, at the new size

    def set_emoji_size(self, px, force=False):
        if abs(px - self.emoji_px) < 12 and not force:
            return
        self.emoji_px = px
        self.emoji_photos = {e: ImageTk.PhotoImage(image.resize((px, px), Image.LANCZOS))
                             for e, image in self.emoji_sources.items()}
        self.emoji.configure(image=self.emoji_photos[self.shown_emotion or NO_FACE])

    def set_emoji_dir(self, folder):
        """Use the user's own pictures (one PNG per emotion name in folder) or, for None, the built-in emoji;
        a missing or unreadable picture is named once and the built-in one stands in for it."""
        problems = []
        emojis = load_emojis(size=256, folder=folder, on_problem=lambda name, line: problems.append((name, line)))
        for _, line in problems:
            print(f"warning: {line}", file=sys.stderr, flush=True)
        self.processor.emojis = emojis
        self.emoji_sources = {name: Image.fromarray(image[..., [2, 1, 0, 3]]) for name, image in emojis.items()}
        self.set_emoji_size(self.emoji_px or 160, force=True)
        if self.session is not None:
            self.session.redraw()
        if folder is not None:
            missing = [name for name, _ in problems]
            self.say(f"emoji pictures from {folder}" + (f"; built-in ones for {', '.join(missing)} (missing or "
                                                        "unreadable there)" if missing else ""), seconds=10.0)

    def choose_emoji_dir(self):
        folder = filedialog.askdirectory(parent=self.root, title="A folder with happy.png, sad.png, ...")
        if folder:
            self.set_emoji_dir(folder)

    def report(self, line):
        """A problem the user should know of that does not stop anything: stderr and the status bar."""
        print(f"warning: {line}", file=sys.stderr, flush=True)
        self.say(line, seconds=8.0)

    def request_close(self, *_):
        """For signal handlers: close at the next poll, from the Tk loop, never inside another callback."""
        self.close_requested = True

    def poll(self):
        if self.closed:
            return
        if self.close_requested:
            self.close()
            return
        frame = self.latest.take()
        if frame is not None:
            self.show(frame)
        status = self.session.status
        if status != self.shown_status:
            self.show_state(status)
        now = time.perf_counter()
        if now - self.status_at >= self.STATUS_EVERY_S:
            self.update_status_bar(now)
        if self.cameras != self.shown_cameras:
            self._fill_camera_menu()
        if self.recorder is not None:
            seconds = int(self.recorder.seconds)
            text = f"\u25cf REC {seconds // 60}:{seconds % 60:02d}"
            if text != self.video.itemcget(self.rec, "text"):
                cw, ch = self.processor.display_size  # the picture is centred: the indicator goes on it
                x0 = max(cw - self.photo.width(), 0) // 2 + 12
                y0 = max(ch - self.photo.height(), 0) // 2 + 8
                self.video.coords(self.rec, x0, y0)
                self.video.itemconfigure(self.rec, text=text)
                self.video.tag_raise(self.rec)
                self.record_button.configure(text=f"Stop ({seconds // 60}:{seconds % 60:02d})")
        if self.stopping is not None and not self.stopping[0].is_alive():
            self.finish_recording()
        self.show_calibration(now)
        if self.exit_at_end and status.state is State.ENDED and frame is None:
            self.close()
            return
        self.poll_id = self.root.after(self.POLL_MS, self.poll)

    def show(self, live):
        h, w = live.image.shape[:2]
        image = Image.fromarray(live.image)
        if (self.photo.width(), self.photo.height()) != (w, h):
            self.photo = ImageTk.PhotoImage(image)
            self.video.itemconfigure(self.picture, image=self.photo)
        else:
            self.photo.paste(image)  # reusing the PhotoImage is much cheaper than a new one per frame
        self.last_image, self.last_faces = live.image, live.result.faces
        now = time.perf_counter()
        self.shown_times.append(now)
        if self.first_frame_s is None:
            self.first_frame_s = now - STARTED
            self.shown_status = None  # a picture to save now: show_state enables the snapshot controls
        self.latency = 0.9 * self.latency + 0.1 * (now - live.captured) if self.frames_shown else now - live.captured
        self.frames_shown += 1
        self.faces_now = len(live.result.faces)
        main = live.result.main
        emotion = shown_as(main) if main else None
        if main:
            self.faces_seen += 1
            self.emojis_shown[emotion] += 1
        if emotion != self.shown_emotion:
            self.emoji.configure(image=self.emoji_photos[emotion or NO_FACE])
            heading = "Not sure" if emotion == UNSURE else DISPLAY_NAMES[emotion] if emotion else "No face"
            self.emotion_text.configure(text=heading)
            self.shown_emotion = emotion
        if not main:
            caption = "no face in view"
        elif emotion == UNSURE:
            first, second = sorted(range(len(main.probs)), key=lambda i: -main.probs[i])[:2]
            caption = f"{EMOTIONS[first]} {main.probs[first]:.0%} or {EMOTIONS[second]} {main.probs[second]:.0%}?"
        else:
            caption = f"confidence {main.confidence:.0%}"
        if caption != self.shown_caption:  # configure() costs a relayout even when nothing changed
            self.caption.configure(text=caption)
            self.shown_caption = caption
        self.bars.show(main.probs if main else None)
        hint = live.hint or ""
        if hint != self.hint_text:
            self.hint.configure(text=hint)
            self.hint_text = hint
        if now - self.strip_at >= 0.25:  # a minute in 280 px: a few redraws a second show every change
            self.strip_at = now
            self.strip.show(self.timeline.strip())

    def show_state(self, status):
        """Banner, controls and panel for a new state: each state shown once, in words."""
        self.shown_status = status
        state = status.state
        running = state is State.RUNNING
        title = BANNERS.get(state, "")
        if state is State.NO_SOURCE and isinstance(self.spec, int):
            title = "No camera"
        detail = status.message if state is not State.ENDED else ""
        if state is State.NO_SOURCE and self.session.retry_every:
            detail += f"\nTrying again every {self.session.retry_every:.0f} s; File > Camera lists the cameras found."
        hint = HINTS.get(state, "")
        text = "\n".join(t for t in (title, detail, hint) if t) if not running else ""
        self.video.itemconfigure(self.banner, text=text)
        self._place_banner_box()
        label = {State.PAUSED: "Resume", State.ENDED: "Replay"}.get(state, "Pause")
        can_pause = state in (State.RUNNING, State.PAUSED, State.ENDED)
        self.pause_button.configure(text=label)
        self.pause_button.state(["!disabled" if can_pause else "disabled"])
        has_picture = self.last_image is not None and state in (State.RUNNING, State.PAUSED, State.ENDED)
        self.snapshot_button.state(["!disabled" if has_picture else "disabled"])
        self.file_menu.entryconfigure("Save snapshot", state="normal" if has_picture else "disabled")
        if state in (State.NO_SOURCE, State.SOURCE_LOST, State.ERROR, State.STARTING):
            self.emoji.configure(image=self.emoji_photos[NO_FACE])
            self.emotion_text.configure(text="")
            self.caption.configure(text="")
            self.shown_caption = ""
            self.bars.show(None)
            self.shown_emotion = None
        if state is State.SOURCE_LOST:
            print(f"warning: {status.message}", file=sys.stderr, flush=True)
        self.status_at = 0.0

    def _place_banner_box(self):
        shown = bool(self.video.itemcget(self.banner, "text"))
        if shown:
            x0, y0, x1, y1 = self.video.bbox(self.banner)
            self.video.coords(self.banner_box, x0 - 16, y0 - 12, x1 + 16, y1 + 12)
            self.video.tag_raise(self.banner_box)
            self.video.tag_raise(self.banner)
        self.video.itemconfigure(self.banner_box, state="normal" if shown else "hidden")

    def update_status_bar(self, now):
        self.status_at = now
        times = self.shown_times
        recent = len(times) >= 2 and now - times[-1] < 1.0
        self.fps = (len(times) - 1) / (times[-1] - times[0]) if recent and times[-1] > times[0] else 0.0
        parts = [self.label]
        if self.session.state is State.RUNNING and self.frames_shown:
            n = self.faces_now
            parts += [f"{self.fps:4.1f} fps", f"latency {self.latency * 1000:3.0f} ms",
                      f"{n} face{'s' if n != 1 else ''}"]
        message, until = self.flash
        if message and now < until:
            parts.append(message)
        text = "  |  ".join(parts)
        if text != self.status_text:
            self.status.configure(text=text)
            self.status_text = text

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.update_status_bar(time.perf_counter())  # the summary's fps is the one last shown
        if self.recorder is not None:
            self.stop_recording(wait=True)
        elif self.stopping is not None:
            self.stopping[0].join()
            self.finish_recording()
        self.session.close()
        self.root.after_cancel(self.poll_id)
        self.root.destroy()

    def summary(self):
        top = self.emojis_shown.most_common(1)[0][0] if self.emojis_shown else "none"
        first = f"first after {self.first_frame_s:.1f} s" if self.first_frame_s is not None else "none"
        w, h = self.processor.display_size
        return (f"Shown {self.frames_shown} frames ({self.fps:.1f} fps at the end; {first}); "
                f"a face in {self.faces_seen}; most shown emoji: {top}; picture area {w}x{h}")


def exit_on_display_loss(app, display):
    """Xlib ends the process when the X connection is lost (its own line, exit 1, nothing of ours): say why,
    release the camera and print the summary first. Returns the handler, which must be kept referenced."""
    import ctypes
    try:
        xlib = ctypes.CDLL("libX11.so.6")  # the library Tk already loaded: the same handler table
    except OSError:
        return None

    @ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_void_p)
    def handler(_display):
        app.session.close()  # no Tk call here: the connection is gone
        print(app.summary(), flush=True)
        print(f"error: lost the connection to the display {display}; Emojify closed.", file=sys.stderr, flush=True)
        os._exit(1)  # Xlib exits anyway when a handler returns; this skips the Tk teardown that would need X

    xlib.XSetIOErrorHandler(handler)
    return handler


def about_text(model_path, views):
    """Help > About: the version and what the model is known to score."""
    lines = [f"Emojify {VERSION}", "Live emotion recognition with emoji.", "", f"Model: {model_path}"]
    results = ROOT / "docs" / "results" / "fer2013_test.json"
    if Path(model_path).resolve() == MODEL_PATH and results.is_file():
        report = json.loads(results.read_text())
        lines.append(f"{report['accuracy']:.1%} on the {report['n']:,} FER-2013 PublicTest faces "
                     f"({report['views']} views per face, as predict.py and evaluate.py classify).")
    else:
        lines.append("Accuracy: measure it with `python evaluate.py DATA --model PATH`.")
    lines.append(f"The window classifies {views} view{'s' if views > 1 else ''} per frame and averages each face "
                 "over frames.")
    return "\n".join(lines)


def parse_size(text, parser):
    try:
        size = tuple(int(v) for v in text.lower().split("x"))
        if len(size) == 2 and min(size) >= 64:
            return size
    except ValueError:
        pass
    parser.error(f"--size takes WIDTHxHEIGHT, at least 64x64, e.g. 800x600; received {text!r}")


def parse_args(argv):
    p = make_parser(__doc__)
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="webcam index")
    src.add_argument("--source", help="a video file (or synth:640x480 for a test pattern) instead of a webcam")
    p.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model")
    p.add_argument("--exit-at-end", action="store_true", help="close the window when a video file ends")
    p.add_argument("--mirror", choices=("on", "off", "auto"), default="auto",
                   help="flip the picture like a mirror (auto: on for webcams, off for files)")
    p.add_argument("--emoji", choices=("on", "off"), default="off", help="emoji over faces")
    add_views_option(p, default=1, why=": the picture already averages each face over consecutive frames")
    p.add_argument("--size", default="640x480", help="picture area at start, WxH")
    p.add_argument("--out-dir", type=Path, default=Path.home() / "Pictures" / "Emojify",
                   help="where snapshots and recordings go")
    p.add_argument("--emoji-dir", type=Path, metavar="DIR",
                   help="your own pictures instead of the built-in emoji: one PNG per emotion (happy.png, ...)")
    p.add_argument("--summary", type=Path, metavar="PATH",
                   help="save the session summary here as JSON (and beside it as a PNG chart) on exit")
    args = p.parse_args(argv)
    args.size = parse_size(args.size, p)
    if args.emoji_dir is not None and not args.emoji_dir.is_dir():
        p.error(f"--emoji-dir takes a folder of PNGs named after the emotions; received {str(args.emoji_dir)!r}")
    if args.summary is not None:
        if args.summary.suffix.lower() != ".json":
            p.error(f"--summary takes a .json path (the chart goes beside it as .png); received {str(args.summary)!r}")
        if args.source is not None and args.summary.resolve() == Path(args.source).resolve():
            p.error(f"--summary {args.summary} is the video being played; give another file")
        if not args.summary.resolve().parent.is_dir():
            p.error(f"--summary: folder {args.summary.parent} does not exist")
    return args


@main_guard
def main(argv=None):
    args = parse_args(argv)
    # One frame at a time needs no thread pools: theirs spin on the idle core between frames, which costs a
    # laptop more CPU than their parallelism saves (benchmarks/window_cpu.py).
    os.environ.setdefault("TF_NUM_INTRAOP_THREADS", "1")
    os.environ.setdefault("TF_NUM_INTEROP_THREADS", "1")
    import cv2
    cv2.setNumThreads(1)
    from faces import FaceDetector
    from inference import load_model
    from live import build_live_processor

    spec = args.source if args.source is not None else args.camera
    is_file = args.source is not None and not args.source.startswith("synth:")
    if is_file:  # a bad file is a mistake on the command line: say so before any window opens
        open_source(spec).release()
    FaceDetector()  # the same for a missing face-detector file
    model = load_model(args.model)
    try:
        root = tk.Tk(className="Emojify")
    except tk.TclError as e:
        raise AppError(f"cannot open a window ({e}); run Emojify on a desktop session with a display.") from None
    root.withdraw()  # shown once Ctrl+C and SIGTERM close it cleanly (below)
    # The picture area never starts larger than the screen leaves room for.
    w, h = args.size
    scale = min(1.0, (root.winfo_screenwidth() - 340) / w, (root.winfo_screenheight() - 160) / h)
    size = (max(64, int(w * scale)), max(64, int(h * scale)))
    mirror = {"on": True, "off": False, "auto": not is_file}[args.mirror]
    processor = build_live_processor(model, size, mirror, views=args.views)
    processor.emoji_on_faces = args.emoji == "on"
    app = EmojifyApp(root, processor, spec if args.source is not None else args.camera,
                     exit_at_end=args.exit_at_end, out_dir=args.out_dir, about=about_text(args.model, args.views),
                     emoji_dir=args.emoji_dir)
    # Ctrl+C in the terminal and SIGTERM close the window like Q: a KeyboardInterrupt raised inside a Tk
    # callback would kill that callback and leave a frozen window.
    signal.signal(signal.SIGINT, app.request_close)
    signal.signal(signal.SIGTERM, app.request_close)
    app.on_display_loss = exit_on_display_loss(app, os.environ.get("DISPLAY", ""))  # referenced: Xlib calls it
    root.deiconify()
    root.mainloop()
    print(app.summary())
    summary = app.timeline.summary()
    print("\n".join(summary_lines(summary)), flush=True)
    if args.summary is not None:
        try:
            save_summary(summary, args.summary, args.summary.with_suffix(".png"))
            print(f"Summary: {args.summary} and {args.summary.with_suffix('.png')}")
        except OSError as e:
            print(f"error: cannot write the summary {args.summary}: {os_reason(e)}", file=sys.stderr)
            return 1
    if app.session.state is State.NO_SOURCE:
        print(f"error: {app.session.status.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
