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

from emojify import preflight  # noqa: E402

preflight.require(window=True)  # first, before tkinter, PIL and the rest: a missing package or Ctrl+C is one line

import json  # noqa: E402
import os  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import tkinter as tk  # noqa: E402

from emojify.capture import open_source  # noqa: E402
from emojify.cli import add_backend_option, add_views_option, main_guard, make_parser  # noqa: E402
from emojify.config import LIVE_MODEL_PATH, MODEL_PATH, RESULTS_DIR, VERSION  # noqa: E402
from emojify.errors import AppError, os_reason  # noqa: E402
from emojify.live import State  # noqa: E402
from emojify.processor import CLASSIFY_EVERY  # noqa: E402
from emojify.timeline import save_summary, summary_lines  # noqa: E402
from emojify.window.app import open_window  # noqa: E402


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


def about_text(model_path, views, backend=""):
    """Help > About: the version and what the model is known to score."""
    lines = [f"Emojify {VERSION}", "Live emotion recognition with emoji.", "",
             f"Model: {model_path}" + (f" (run by {backend})" if backend else "")]
    results = RESULTS_DIR / "fer2013_test.json"
    if Path(model_path).resolve() == LIVE_MODEL_PATH:
        lines.append("The live model: a small network taught by the ensemble (model.h5) on faces made to look like "
                     "other cameras'. On faces in motion from films and photos it is right more often than the "
                     "ensemble (docs/BENCHMARKS.md); predict.py and evaluate.py use the ensemble.")
    elif Path(model_path).resolve() == MODEL_PATH and results.is_file():
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
    p.add_argument("--model", type=Path, default=LIVE_MODEL_PATH,
                   help="trained model (the live one, small and fast; model.h5 is the ensemble)")
    p.add_argument("--exit-at-end", action="store_true", help="close the window when a video file ends")
    p.add_argument("--mirror", choices=("on", "off", "auto"), default="auto",
                   help="flip the picture like a mirror (auto: on for webcams, off for files)")
    p.add_argument("--emoji", choices=("on", "off"), default="off", help="emoji over faces")
    add_views_option(p, default=1, why=": the picture already averages each face over consecutive frames")
    add_backend_option(p)
    p.add_argument("--classify-every", type=int, default=CLASSIFY_EVERY, metavar="N",
                   help="classify a face that stays in place on every N-th frame (higher: less CPU)")
    p.add_argument("--size", default="640x480", help="picture area at start, WxH")
    p.add_argument("--out-dir", type=Path, default=Path.home() / "Pictures" / "Emojify",
                   help="where snapshots and recordings go")
    p.add_argument("--emoji-dir", type=Path, metavar="DIR",
                   help="your own pictures instead of the built-in emoji: one PNG per emotion (happy.png, ...)")
    p.add_argument("--summary", type=Path, metavar="PATH",
                   help="save the session summary here as JSON (and beside it as a PNG chart) on exit")
    args = p.parse_args(argv)
    args.size = parse_size(args.size, p)
    if args.classify_every < 1:
        p.error(f"--classify-every must be at least 1; received {args.classify_every}")
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
    from emojify.detect import FaceDetector
    from emojify.backends import open_classifier
    from emojify.processor import build_live_processor

    spec = args.source if args.source is not None else args.camera
    is_file = args.source is not None and not args.source.startswith("synth:")
    if args.source is not None:  # a bad file or spec is a mistake on the command line: say so before any window
        open_source(spec).release()
    FaceDetector()  # the same for a missing face-detector file
    # One thread: a frame's one or two faces are too small a batch to share out (benchmarks/backends.py).
    classifier = open_classifier(args.model, views=args.views, backend=args.backend, threads=1)
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
    processor = build_live_processor(classifier, size, mirror, classify_every=args.classify_every)
    processor.emoji_on_faces = args.emoji == "on"
    about = about_text(args.model, args.views, classifier.backend)
    app = open_window(root, processor, spec, exit_at_end=args.exit_at_end, out_dir=args.out_dir, about=about,
                      emoji_dir=args.emoji_dir, started=STARTED)
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
