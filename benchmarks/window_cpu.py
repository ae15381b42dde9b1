"""CPU the live window costs a laptop: process CPU seconds per wall second while gui.py plays a 30 fps
640x480 video in a 1280x720 window on a private Xvfb screen (needs Xvfb and xdotool).

    python -m benchmarks.window_cpu ../shared/fer2013/test
    python -m benchmarks.window_cpu ../shared/fer2013/test --baseline /tmp/old-checkout   # same run, both
    python -m benchmarks.window_cpu ../shared/fer2013/test --variants "--classify-every 1" "--classify-every 4"

Prints `faces=N cores=<ours>` per video (and per variant: gui.py options added to the command line), and
`baseline_cores=... ratio=...` with --baseline.
"""
import shlex
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from emojify.config import ROOT



def cpu_seconds(pid):
    """User + system CPU seconds of a process, all its threads."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure(app_dir, video, display, seconds, warmup, window=(1280, 720), options=()):
    """Cores used by gui.py from app_dir playing video, after warmup seconds, over seconds."""
    env = {**os.environ, "DISPLAY": display}
    gui = subprocess.Popen([sys.executable, str(Path(app_dir) / "gui.py"), "--source", str(video), *options], env=env,
                           cwd=app_dir, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        wid = []
        deadline = time.time() + 120
        while not wid and time.time() < deadline:
            if gui.poll() is not None:
                sys.exit(f"error: gui.py exited: {gui.communicate()[1].strip()[-300:]}")
            wid = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Emojify$"], env=env,
                                 capture_output=True, text=True).stdout.split()
            time.sleep(0.2)
        if not wid:
            sys.exit("error: the window never appeared")
        subprocess.run(["xdotool", "windowsize", wid[0], str(window[0]), str(window[1])], env=env, check=True)
        time.sleep(warmup)
        cpu0, t0 = cpu_seconds(gui.pid), time.perf_counter()
        time.sleep(seconds)
        cpu1, t1 = cpu_seconds(gui.pid), time.perf_counter()
        subprocess.run(["xdotool", "windowfocus", "--sync", wid[0], "key", "q"], env=env)
        out, _ = gui.communicate(timeout=30)
        return (cpu1 - cpu0) / (t1 - t0), out.strip().splitlines()[-1] if out.strip() else ""
    finally:
        if gui.poll() is None:
            gui.kill()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("test_dir", type=Path, help="FER-2013 test folder, for the faces in the videos")
    p.add_argument("--seconds", type=float, default=20.0, help="measuring time per video (default 20)")
    p.add_argument("--warmup", type=float, default=5.0, help="seconds after the window appears (default 5)")
    p.add_argument("--baseline", type=Path, help="another checkout of the app, measured the same way")
    p.add_argument("--faces", default="1,3", help="videos to play: faces in each (default 1,3)")
    p.add_argument("--variants", nargs="+", default=[""], metavar="OPTIONS",
                   help="gui.py options to measure one after the other, each a quoted string (default: none)")
    args = p.parse_args(argv)

    from benchmarks.videos import DEFAULT_FACES, load_faces, write_video
    display = ":78"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            frames = int(30 * (args.seconds + args.warmup + 15))  # the video outlasts the measurement
            for n in (int(v) for v in args.faces.split(",")):
                faces = load_faces(args.test_dir, list(DEFAULT_FACES)[:n])
                video = write_video(Path(tmp) / f"faces{n}.mp4", faces, frames=frames)
                for variant in args.variants:
                    options = shlex.split(variant)
                    ours, summary = measure(ROOT, video, display, args.seconds, args.warmup, options=options)
                    line = f"faces={n} cores={ours:.3f}" + (f" options={variant!r}" if variant else "")
                    if args.baseline:
                        base, _ = measure(args.baseline, video, display, args.seconds, args.warmup)
                        line += f" baseline_cores={base:.3f} ratio={ours / base:.2f}"
                    print(line, flush=True)
                    print(f"  {summary}", flush=True)
    finally:
        xvfb.terminate()
    return 0


if __name__ == "__main__":
    sys.exit(main())
