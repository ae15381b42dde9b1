"""Emojify: the live webcam picture with a box on every face, and the emoji of the main face beside it.

    python gui.py                    # first webcam
    python gui.py --camera 1         # another webcam
    python gui.py --source clip.mp4  # a video file, played at its own frame rate

Keys: Q or Escape quits, Space pauses, M mirrors.
"""
import time

STARTED = time.perf_counter()  # for the start-up figure: launch to first frame shown

import argparse  # noqa: E402
import sys  # noqa: E402
import tkinter as tk  # noqa: E402
from pathlib import Path  # noqa: E402
from tkinter import ttk  # noqa: E402

from PIL import Image, ImageTk  # noqa: E402
from tktooltip import ToolTip  # noqa: E402

from cli import add_views_option, main_guard  # noqa: E402
from config import MODEL_PATH  # noqa: E402
from emotions import DISPLAY_NAMES, EMOTIONS, NO_FACE, emoji_path  # noqa: E402
from errors import AppError  # noqa: E402
from live import LatestFrame, State  # noqa: E402


class EmojifyApp:
    """The window: video on the left, emoji, emotion, confidence and probability bars on the right.

    It draws the frames a LiveSession hands it and forwards the user's actions to that session.
    """

    POLL_MS = 10
    EMOJI_SIZE = 200

    def __init__(self, root, session, source_label, exit_at_end=False):
        self.root, self.session, self.exit_at_end = root, session, exit_at_end
        self.source_label = source_label
        self.latest = session.add_consumer(LatestFrame())
        self.frames_shown = 0
        self.faces_now = 0
        self.faces_seen = 0
        self.emojis_shown = {}
        self.shown_emotion = None
        self.fps = 0.0
        self.latency = 0.0
        self.last_shown = None
        self.first_frame_s = None
        self.reported = None
        self.closed = False

        root.title("Emojify")
        root.configure(padx=8, pady=8)
        self._build_keys()
        self._build_video()
        self._build_side_panel()
        self._build_controls()
        self._build_status_bar()
        root.focus_force()
        session.start()
        root.after(self.POLL_MS, self.poll)

    def _build_keys(self):
        self.root.protocol("WM_DELETE_WINDOW", self.close)
        for key in ("<KeyPress-q>", "<KeyPress-Q>", "<Escape>"):
            self.root.bind(key, lambda e: self.close())
        self.root.bind("<space>", lambda e: self.toggle_pause())
        self.root.bind("<KeyPress-m>", lambda e: self.toggle_mirror())

    def _build_video(self):
        w, h = self.session.processor.display_size
        self.video = tk.Label(self.root, bg="black", width=w, height=h)
        self.video.grid(row=0, column=0, rowspan=2, sticky="nsew")
        self.photo = ImageTk.PhotoImage(Image.new("RGB", (w, h)))
        self.video.configure(image=self.photo)

    def _build_side_panel(self):
        size = self.EMOJI_SIZE
        side = ttk.Frame(self.root, padding=(12, 0, 0, 0))
        side.grid(row=0, column=1, sticky="n")
        # PhotoImages live on self, or Tk would show blank images after garbage collection.
        self.emoji_photos = {e: ImageTk.PhotoImage(Image.open(emoji_path(e)).resize(
            (size, size), Image.LANCZOS)) for e in (*EMOTIONS, NO_FACE)}
        self.emoji = ttk.Label(side, image=self.emoji_photos[NO_FACE])
        self.emoji.pack()
        self.emotion_text = ttk.Label(side, text="No face", font=("TkDefaultFont", 20, "bold"))
        self.emotion_text.pack(pady=(8, 0))
        self.confidence_text = ttk.Label(side, text="looking for a face...", font=("TkDefaultFont", 12))
        self.confidence_text.pack()
        self.bars = tk.Canvas(side, width=size + 40, height=22 * len(EMOTIONS), highlightthickness=0)
        self.bars.pack(pady=(10, 0))
        self.bar_items = []
        for i, e in enumerate(EMOTIONS):
            self.bars.create_text(0, 22 * i + 10, text=DISPLAY_NAMES[e], anchor="w")
            self.bar_items.append(self.bars.create_rectangle(80, 22 * i + 4, 80, 22 * i + 17, fill="#4a90d9",
                                                             width=0))

    def _build_controls(self):
        controls = ttk.Frame(self.root, padding=(12, 0, 0, 0))
        controls.grid(row=1, column=1, sticky="s")
        self.pause_button = ttk.Button(controls, text="Pause", command=self.toggle_pause, takefocus=False)
        self.pause_button.pack(fill="x")
        ToolTip(self.pause_button, msg="Freeze the picture (Space)", delay=0.4)
        self.mirror_var = tk.BooleanVar(value=self.session.processor.mirror)
        mirror = ttk.Checkbutton(controls, text="Mirror", variable=self.mirror_var, command=self.apply_mirror,
                                 takefocus=False)
        mirror.pack(fill="x", pady=4)
        ToolTip(mirror, msg="Flip the picture left-right, like a mirror (M)", delay=0.4)
        quit_button = ttk.Button(controls, text="Quit", command=self.close, takefocus=False)
        quit_button.pack(fill="x")
        ToolTip(quit_button, msg="Close Emojify (Q or Esc)", delay=0.4)

    def _build_status_bar(self):
        self.status = ttk.Label(self.root, text=f"{self.source_label}: starting...", anchor="w")
        self.status.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(6, 0))

    def toggle_pause(self):
        if self.session.state is State.PAUSED:
            self.session.resume()
        else:
            self.session.pause()
        paused = self.session.state is State.PAUSED
        self.pause_button.configure(text="Resume" if paused else "Pause")

    def toggle_mirror(self):
        self.mirror_var.set(not self.mirror_var.get())
        self.apply_mirror()

    def apply_mirror(self):
        self.session.set_mirror(self.mirror_var.get())

    def poll(self):
        if self.closed:
            return
        frame = self.latest.take()
        if frame is not None:
            self.show(frame)
        self.update_status()
        if self.exit_at_end and self.session.state is State.ENDED and frame is None:
            self.close()
            return
        self.root.after(self.POLL_MS, self.poll)

    def show(self, live):
        h, w = live.image.shape[:2]
        image = Image.fromarray(live.image)
        if (self.photo.width(), self.photo.height()) != (w, h):
            self.photo = ImageTk.PhotoImage(image)
            self.video.configure(image=self.photo)
        else:
            self.photo.paste(image)  # reusing the PhotoImage is much cheaper than a new one per frame
        now = time.perf_counter()
        if self.last_shown is not None:
            rate = 1.0 / max(now - self.last_shown, 1e-6)
            self.fps = rate if self.frames_shown < 3 else 0.9 * self.fps + 0.1 * rate
        self.last_shown = now
        if self.first_frame_s is None:
            self.first_frame_s = now - STARTED
        self.latency = 0.9 * self.latency + 0.1 * (now - live.captured) if self.frames_shown else now - live.captured
        self.frames_shown += 1
        self.faces_now = len(live.result.faces)
        main = live.result.main
        emotion = main.emotion if main else None
        if main:
            self.faces_seen += 1
            self.emojis_shown[emotion] = self.emojis_shown.get(emotion, 0) + 1
            self.confidence_text.configure(text=f"confidence {main.confidence:.0%}")
        if emotion != self.shown_emotion:
            self.emoji.configure(image=self.emoji_photos[emotion or NO_FACE])
            self.emotion_text.configure(text=DISPLAY_NAMES[emotion] if emotion else "No face")
            if not main:
                self.confidence_text.configure(text="no face in view")
            self.shown_emotion = emotion
        for i, item in enumerate(self.bar_items):
            p = float(main.probs[i]) if main else 0.0
            self.bars.coords(item, 80, 22 * i + 4, 80 + p * (self.EMOJI_SIZE - 40), 22 * i + 17)

    def update_status(self):
        status = self.session.status
        name = self.session.source_name
        if status.state is State.SOURCE_LOST and self.reported is not status:
            print(f"warning: {status.message}", file=sys.stderr, flush=True)
            self.reported = status
        if status.state is State.NO_SOURCE:
            text = status.message
        elif status.message:
            text = f"{name}: {status.message}"
        elif status.state is State.PAUSED:
            text = f"{name}: paused"
        elif self.frames_shown:
            n = self.faces_now
            text = (f"{name}  |  {self.fps:4.1f} fps  |  latency {self.latency * 1000:3.0f} ms  |  "
                    f"{n} face{'s' if n != 1 else ''}")
        else:
            text = f"{self.source_label}: starting..."
        if self.status.cget("text") != text:
            self.status.configure(text=text)
        # Problems with the source also go over the picture, where the user is looking.
        problem = status.state in (State.NO_SOURCE, State.SOURCE_LOST, State.ERROR)
        overlay = status.message if problem else ""
        if self.video.cget("text") != overlay:
            self.video.configure(text=overlay, compound="center", fg="white", wraplength=400,
                                 font=("TkDefaultFont", 14, "bold"))

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.session.close()
        self.root.destroy()

    def summary(self):
        top = max(self.emojis_shown, key=self.emojis_shown.get) if self.emojis_shown else "none"
        first = f"first after {self.first_frame_s:.1f} s" if self.first_frame_s is not None else "none"
        return (f"Shown {self.frames_shown} frames ({self.fps:.1f} fps at the end; {first}); "
                f"a face in {self.faces_seen}; most shown emoji: {top}")


def parse_args(argv):
    p = argparse.ArgumentParser(description="Live emotion recognition with emoji.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="webcam index (default 0)")
    src.add_argument("--source", help="a video file (or synth:640x480 for a test pattern) instead of a webcam")
    p.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model (default: model.h5)")
    p.add_argument("--exit-at-end", action="store_true", help="close the window when a video file ends")
    p.add_argument("--mirror", choices=("on", "off", "auto"), default="auto",
                   help="flip the picture like a mirror (auto: on for webcams, off for files)")
    add_views_option(p, default=1, why=": the picture already averages each face over consecutive frames")
    p.add_argument("--size", default="640x480", help="video area in pixels, WxH (default 640x480)")
    args = p.parse_args(argv)
    try:
        args.size = tuple(int(v) for v in args.size.lower().split("x"))
        assert len(args.size) == 2 and min(args.size) >= 64
    except (ValueError, AssertionError):
        p.error(f"--size takes WIDTHxHEIGHT, e.g. 800x600; received {args.size!r}")
    return args


@main_guard
def main(argv=None):
    args = parse_args(argv)
    from capture import open_source
    from faces import FaceDetector
    from inference import load_model
    from live import LiveSession, build_live_processor

    spec = args.source if args.source is not None else args.camera
    is_file = args.source is not None and not args.source.startswith("synth:")
    if is_file:  # a bad file is a mistake on the command line: say so before any window opens
        open_source(spec).release()
    FaceDetector()  # the same for a missing face-detector file
    model = load_model(args.model)
    try:
        root = tk.Tk()
    except tk.TclError as e:
        raise AppError(f"cannot open a window ({e}); run Emojify on a desktop session with a display.") from None
    mirror = {"on": True, "off": False, "auto": not is_file}[args.mirror]
    session = LiveSession(lambda: open_source(spec), build_live_processor(model, args.size, mirror,
                                                                          views=args.views))
    label = args.source if args.source is not None else f"camera {args.camera}"
    app = EmojifyApp(root, session, label, exit_at_end=args.exit_at_end)
    try:
        root.mainloop()
    except KeyboardInterrupt:
        app.close()
    print(app.summary())
    if session.state is State.NO_SOURCE:
        print(f"error: {session.status.message}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
