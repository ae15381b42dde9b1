"""Memory over a long run: the live session alone, then the window, each showing 10,000 frames of a video with
three faces while resident memory is sampled. Flat memory after the warm-up means nothing accumulates.

    python -m benchmarks.soak ../shared/fer2013/test
    python -m benchmarks.soak ../shared/fer2013/test --part live --frames 2000
    python -m benchmarks.soak ../shared/fer2013/test --part live --record    # recording meanwhile

The live part reads the video in a loop as fast as it decodes; the window (gui.py on a private Xvfb screen,
needs Xvfb and xdotool) plays a video of that many frames at 30 fps, so it takes frames/30 seconds.
Prints `part=... frames=... rss_mb=...` samples, then per part `growth_mb=` from the first sample after the
warm-up (a fifth of the frames) to the last.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def rss_mb(pid="self"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def report(part, samples, frames):
    for n, mb in samples:
        print(f"part={part} frames={n} rss_mb={mb:.1f}", flush=True)
    after = [(n, mb) for n, mb in samples if n >= frames // 5]
    if len(after) >= 2:
        growth = after[-1][1] - after[0][1]
        per_k = growth / max(after[-1][0] - after[0][0], 1) * 1000
        print(f"part={part} growth_mb={growth:.1f} from frame {after[0][0]} to {after[-1][0]} "
              f"({per_k:.2f} MB per 1000 frames)", flush=True)


class LoopedVideo:
    """A video file read again from the start at its end: an endless source that decodes like a real one."""
    is_live = True  # no pacing: as fast as it decodes
    frame_count = None

    def __init__(self, path):
        from emojify.capture import open_source
        self.open = lambda: open_source(str(path))
        self.source = self.open()
        self.fps, self.name = self.source.fps, self.source.name

    def read(self):
        ok, frame = self.source.read()
        if not ok:
            self.source.release()
            self.source = self.open()
            ok, frame = self.source.read()
        return ok, frame

    def release(self):
        self.source.release()


def soak_live(video, frames, record_dir=None):
    from emojify.config import MODEL_PATH
    from emojify.backends import open_classifier
    from emojify.live import LiveSession
    from emojify.processor import build_live_processor

    processor = build_live_processor(open_classifier(MODEL_PATH, views=1), (1280, 720), mirror=False)
    processor.emoji_on_faces = True
    session = LiveSession(lambda: LoopedVideo(video), processor)
    seen, samples, done = [0], [], threading.Event()

    def consume(live):
        seen[0] += 1
        if seen[0] % 500 == 0:
            samples.append((seen[0], rss_mb()))
        if seen[0] >= frames:
            done.set()

    session.add_consumer(consume)
    if record_dir is not None:
        from emojify.recorder import Recorder
        recorder = session.add_consumer(Recorder(record_dir, fps=30, stem="soak"))
    session.start()
    started = time.perf_counter()
    if not done.wait(timeout=frames):  # a frame a second at the very least
        print(f"error: live session stalled at frame {seen[0]} ({session.status})", file=sys.stderr)
    session.close()
    if record_dir is not None:
        result = recorder.stop()
        print(f"part=live recording: {result.message}; {result.frames} video frames, {recorder.dropped} dropped",
              flush=True)
    report("live", samples, frames)
    print(f"part=live fps={seen[0] / (time.perf_counter() - started):.1f}", flush=True)


def soak_window(video, frames):
    import shutil
    if not (shutil.which("Xvfb") and shutil.which("xdotool")):
        print("part=window skipped: needs Xvfb and xdotool", flush=True)
        return
    display = ":" + str(next(n for n in range(150, 200) if not Path(f"/tmp/.X11-unix/X{n}").exists()))
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    try:
        gui = subprocess.Popen([sys.executable, str(ROOT / "gui.py"), "--source", str(video), "--exit-at-end",
                                "--emoji", "on", "--size", "1280x720"], cwd=ROOT,
                               env={**os.environ, "DISPLAY": display}, stdout=subprocess.PIPE, text=True)
        samples, started = [], time.time()
        while gui.poll() is None:
            time.sleep(5)
            if gui.poll() is None:
                samples.append((int((time.time() - started) * 30), rss_mb(gui.pid)))  # frames at 30 fps
        out = gui.communicate()[0]
    finally:
        xvfb.terminate()
        xvfb.wait()
    report("window", samples, frames)
    print(f"part=window {out.strip()}", flush=True)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("test_dir", type=Path, help="FER-2013 test folder (faces for the video)")
    p.add_argument("--frames", type=int, default=10_000)
    p.add_argument("--part", choices=["live", "window", "both"], default="both")
    p.add_argument("--record", action="store_true", help="the live part records the session meanwhile (video, log)")
    args = p.parse_args(argv)
    from benchmarks.videos import DEFAULT_FACES, load_faces, write_video
    faces = load_faces(args.test_dir, list(DEFAULT_FACES))
    with tempfile.TemporaryDirectory() as tmp:
        if args.part in ("live", "both"):
            soak_live(write_video(Path(tmp) / "loop.mp4", faces, frames=90, blank_every=2), args.frames,
                      record_dir=Path(tmp) if args.record else None)
        if args.part in ("window", "both"):
            print(f"writing a {args.frames}-frame video...", flush=True)
            soak_window(write_video(Path(tmp) / "long.mp4", faces, frames=args.frames, blank_every=4), args.frames)
    return 0


if __name__ == "__main__":
    sys.exit(main())
