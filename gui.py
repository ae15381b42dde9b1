"""Emojify: the live webcam picture with a box on every face, and the emoji of the main face beside it.

    python gui.py                    # first webcam
    python gui.py --camera 1         # another webcam
    python gui.py --source clip.mp4  # a video file, played at its own frame rate

Keys: Q or Escape quits, Space pauses, M mirrors.
"""
import time

STARTED = time.perf_counter()  # for the start-up figure: launch to first frame shown

import argparse  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402
import threading  # noqa: E402
from pathlib import Path  # noqa: E402

HERE = Path(__file__).resolve().parent
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


class Worker:
    """Two threads off the Tk thread: a grabber that keeps only the newest frame (paced to the file's frame
    rate for videos), and a processor that runs LiveProcessor on it. The Tk thread polls `latest`."""

    def __init__(self, open_source, processor):
        self.open_source = open_source  # called on the grabber thread: opening a camera can take seconds
        self.processor = processor
        self.source = None
        self.stop = threading.Event()
        self.paused = threading.Event()
        self.fresh = threading.Condition()
        self.frame = None               # (frame, captured time), newest wins
        self.latest = None              # newest LiveFrame for the Tk thread
        self.message = None             # text for the status bar (errors, end of video)
        self.ended = False              # a video reached its end and its last frame was processed
        self.error = None               # the source could not be opened
        self.threads = [threading.Thread(target=self._grab, name="grabber", daemon=True),
                        threading.Thread(target=self._process, name="processor", daemon=True)]

    def start(self):
        for t in self.threads:
            t.start()

    def _grab(self):
        from capture import Pacer, SourceError
        try:
            self.source = self.open_source()
        except SourceError as e:
            self.error = self.message = str(e)
            return
        pacer = None if self.source.is_live else Pacer(self.source.fps)
        failures = 0
        while not self.stop.is_set():
            if self.paused.is_set():
                if pacer:
                    pacer.reset()
                time.sleep(0.03)
                continue
            if pacer:
                pacer.wait()
            ok, frame = self.source.read()
            if not ok or frame is None:
                if not self.source.is_live:
                    with self.fresh:
                        self.frame = "end"
                        self.fresh.notify()
                    return
                failures += 1
                if failures == 30:
                    self.message = (f"{self.source.name} stopped sending frames: check the cable, "
                                    "or close other apps using it; still retrying.")
                    print(f"warning: {self.message}", file=sys.stderr, flush=True)
                time.sleep(0.03)
                continue
            if failures >= 30:
                self.message = None
            failures = 0
            with self.fresh:
                self.frame = (frame, time.perf_counter())
                self.fresh.notify()

    def _process(self):
        while not self.stop.is_set():
            with self.fresh:
                if self.frame is None:
                    self.fresh.wait(0.1)
                item, self.frame = self.frame, None
            if item is None:
                if self.error:
                    return
                continue
            if item == "end":
                self.ended = True
                self.message = "end of video"
                return
            self.latest = self.processor(*item)

    def close(self):
        self.stop.set()
        with self.fresh:
            self.fresh.notify_all()
        for t in self.threads:
            if t.is_alive():
                t.join(timeout=2)
        if self.source is not None:
            self.source.release()


class EmojifyApp:
    """The window: video on the left, emoji, emotion, confidence and probability bars on the right."""

    POLL_MS = 10
    EMOJI_SIZE = 200

    def __init__(self, root, worker, source_label, exit_at_end=False):
        import tkinter as tk
        from tkinter import ttk

        from PIL import Image, ImageTk
        from tktooltip import ToolTip

        from emotions import DISPLAY_NAMES, EMOTIONS, NO_FACE, emoji_path

        self.root, self.worker, self.exit_at_end = root, worker, exit_at_end
        self.ImageTk, self.Image = ImageTk, Image
        self.names, self.no_face = DISPLAY_NAMES, NO_FACE
        self.frames_shown = 0
        self.faces_now = 0
        self.faces_seen = 0
        self.emojis_shown = {}
        self.shown_emotion = None
        self.fps = 0.0
        self.latency = 0.0
        self.last_shown = None
        self.first_frame_s = None
        self.closed = False

        root.title("Emojify")
        root.configure(padx=8, pady=8)
        root.protocol("WM_DELETE_WINDOW", self.close)
        for key in ("<KeyPress-q>", "<KeyPress-Q>", "<Escape>"):
            root.bind(key, lambda e: self.close())
        root.bind("<space>", lambda e: self.toggle_pause())
        root.bind("<KeyPress-m>", lambda e: self.toggle_mirror())

        w, h = worker.processor.display_size
        self.video = tk.Label(root, bg="black", width=w, height=h)
        self.video.grid(row=0, column=0, rowspan=2, sticky="nsew")
        self.photo = ImageTk.PhotoImage(Image.new("RGB", (w, h)))
        self.video.configure(image=self.photo)

        side = ttk.Frame(root, padding=(12, 0, 0, 0))
        side.grid(row=0, column=1, sticky="n")
        # PhotoImages live on self, or Tk would show blank images after garbage collection.
        self.emoji_photos = {e: ImageTk.PhotoImage(Image.open(emoji_path(e)).resize(
            (self.EMOJI_SIZE, self.EMOJI_SIZE), Image.LANCZOS)) for e in (*EMOTIONS, NO_FACE)}
        self.emoji = ttk.Label(side, image=self.emoji_photos[NO_FACE])
        self.emoji.pack()
        self.emotion_text = ttk.Label(side, text="No face", font=("TkDefaultFont", 20, "bold"))
        self.emotion_text.pack(pady=(8, 0))
        self.confidence_text = ttk.Label(side, text="looking for a face...", font=("TkDefaultFont", 12))
        self.confidence_text.pack()
        self.bars = tk.Canvas(side, width=self.EMOJI_SIZE + 40, height=22 * len(EMOTIONS), highlightthickness=0)
        self.bars.pack(pady=(10, 0))
        self.bar_items = []
        for i, e in enumerate(EMOTIONS):
            self.bars.create_text(0, 22 * i + 10, text=DISPLAY_NAMES[e], anchor="w")
            self.bar_items.append(self.bars.create_rectangle(80, 22 * i + 4, 80, 22 * i + 17, fill="#4a90d9",
                                                             width=0))

        controls = ttk.Frame(root, padding=(12, 0, 0, 0))
        controls.grid(row=1, column=1, sticky="s")
        self.pause_button = ttk.Button(controls, text="Pause", command=self.toggle_pause, takefocus=False)
        self.pause_button.pack(fill="x")
        ToolTip(self.pause_button, msg="Freeze the picture (Space)", delay=0.4)
        self.mirror_var = tk.BooleanVar(value=worker.processor.mirror)
        mirror = ttk.Checkbutton(controls, text="Mirror", variable=self.mirror_var, command=self.apply_mirror,
                                 takefocus=False)
        mirror.pack(fill="x", pady=4)
        ToolTip(mirror, msg="Flip the picture left-right, like a mirror (M)", delay=0.4)
        quit_button = ttk.Button(controls, text="Quit", command=self.close, takefocus=False)
        quit_button.pack(fill="x")
        ToolTip(quit_button, msg="Close Emojify (Q or Esc)", delay=0.4)

        self.status = ttk.Label(root, text=f"{source_label}: starting...", anchor="w")
        self.status.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        root.focus_force()
        self.worker.start()
        self.root.after(self.POLL_MS, self.poll)

    def toggle_pause(self):
        if self.worker.paused.is_set():
            self.worker.paused.clear()
            self.pause_button.configure(text="Pause")
        else:
            self.worker.paused.set()
            self.pause_button.configure(text="Resume")

    def toggle_mirror(self):
        self.mirror_var.set(not self.mirror_var.get())
        self.apply_mirror()

    def apply_mirror(self):
        self.worker.processor.mirror = bool(self.mirror_var.get())
        self.worker.processor.pipeline.reset()

    def poll(self):
        if self.closed:
            return
        frame, self.worker.latest = self.worker.latest, None
        if frame is not None:
            self.show(frame)
        self.update_status()
        if self.worker.ended and self.worker.latest is None and self.exit_at_end:
            self.close()
            return
        self.root.after(self.POLL_MS, self.poll)

    def show(self, live):
        h, w = live.image.shape[:2]
        image = self.Image.fromarray(live.image)
        if (self.photo.width(), self.photo.height()) != (w, h):
            self.photo = self.ImageTk.PhotoImage(image)
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
            self.emoji.configure(image=self.emoji_photos[emotion or self.no_face])
            self.emotion_text.configure(text=self.names[emotion] if emotion else "No face")
            if not main:
                self.confidence_text.configure(text="no face in view")
            self.shown_emotion = emotion
        for i, item in enumerate(self.bar_items):
            p = float(main.probs[i]) if main else 0.0
            self.bars.coords(item, 80, 22 * i + 4, 80 + p * (self.EMOJI_SIZE - 40), 22 * i + 17)

    def update_status(self):
        w = self.worker
        name = w.source.name if w.source else "source"
        if w.message:
            text = f"{name}: {w.message}" if not w.error else w.message
        elif w.paused.is_set():
            text = f"{name}: paused"
        elif self.frames_shown:
            n = self.faces_now
            text = (f"{name}  |  {self.fps:4.1f} fps  |  latency {self.latency * 1000:3.0f} ms  |  "
                    f"{n} face{'s' if n != 1 else ''}")
        else:
            text = f"{name}: starting..."
        if self.status.cget("text") != text:
            self.status.configure(text=text)
        # Problems with the source also go over the picture, where the user is looking.
        overlay = w.message if w.message and w.message != "end of video" or w.error else ""
        if self.video.cget("text") != overlay:
            self.video.configure(text=overlay, compound="center", fg="white", wraplength=400,
                                 font=("TkDefaultFont", 14, "bold"))

    def close(self):
        if self.closed:
            return
        self.closed = True
        self.worker.close()
        self.root.destroy()

    def summary(self):
        top = max(self.emojis_shown, key=self.emojis_shown.get) if self.emojis_shown else "none"
        first = f"first after {self.first_frame_s:.1f} s" if self.first_frame_s is not None else "none"
        return (f"Shown {self.frames_shown} frames ({self.fps:.1f} fps at the end; {first}); "
                f"a face in {self.faces_seen}; most shown emoji: {top}")


def parse_args(argv):
    from pipeline import add_views_option
    p = argparse.ArgumentParser(description="Live emotion recognition with emoji.")
    src = p.add_mutually_exclusive_group()
    src.add_argument("--camera", type=int, default=0, help="webcam index (default 0)")
    src.add_argument("--source", help="a video file (or synth:640x480 for a test pattern) instead of a webcam")
    p.add_argument("--model", type=Path, default=HERE / "model.h5", help="trained model (default: model.h5)")
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


def main(argv=None):
    args = parse_args(argv)
    import tkinter as tk

    from capture import SourceError, open_source
    from live import build_live_processor
    from pipeline import ModelError, load_model

    spec = args.source if args.source is not None else args.camera
    is_file = args.source is not None and not args.source.startswith("synth:")
    if is_file:  # a bad file is a mistake on the command line: say so before any window opens
        try:
            open_source(spec).release()
        except SourceError as e:
            print(f"error: {e}", file=sys.stderr)
            return 2
    try:
        root = tk.Tk()
    except tk.TclError as e:
        print(f"error: cannot open a window ({e}); run Emojify on a desktop session with a display.",
              file=sys.stderr)
        return 2
    root.withdraw()
    try:
        model = load_model(args.model)
    except ModelError as e:
        root.destroy()
        print(f"error: {e}", file=sys.stderr)
        return 2
    mirror = {"on": True, "off": False, "auto": not is_file}[args.mirror]
    processor = build_live_processor(model, args.size, mirror, views=args.views)
    worker = Worker(lambda: open_source(spec), processor)
    label = args.source if args.source is not None else f"camera {args.camera}"
    app = EmojifyApp(root, worker, label, exit_at_end=args.exit_at_end)
    root.deiconify()
    try:
        root.mainloop()
    except KeyboardInterrupt:
        app.close()
    print(app.summary())
    if worker.error:
        print(f"error: {worker.error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
