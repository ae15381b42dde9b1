"""Take the README screenshots: the real window, 1280x720, on a private Xvfb screen, playing a test video.

    python -m docs.make_screenshot ../shared/fer2013/test     # needs Xvfb and xdotool
    python -m docs.make_screenshot ../shared/fer2013/test --faces happy,surprise,neutral --out docs/screenshot_three.png
    python -m docs.make_screenshot ../shared/fer2013/test --faces happy,surprise,neutral --gui-args '--emoji on' \
        --keys r --after 12 --out docs/screenshot_recording.png
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("test_dir", type=Path, help="FER-2013 test folder, for the faces in the video")
    p.add_argument("--faces", default="happy", help="comma-separated faces from benchmarks/videos.py")
    p.add_argument("--after", type=float, default=4.0, help="seconds of playback before the shot")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshot.png")
    p.add_argument("--size", default="1280x720", help="window size (default 1280x720)")
    p.add_argument("--gui-args", default="", help="more options for gui.py, e.g. '--emoji on'")
    p.add_argument("--keys", default="", help="keys to press once the window is up, e.g. 'r' to record")
    args = p.parse_args(argv)

    from PIL import ImageGrab

    from benchmarks.videos import load_faces, write_video
    display = ":77"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "1920x1080x24", "-nolisten", "tcp"])
    env = {**os.environ, "DISPLAY": display}
    try:
        with tempfile.TemporaryDirectory() as tmp:
            video = write_video(Path(tmp) / "demo.mp4", load_faces(args.test_dir, args.faces.split(",")),
                                frames=900)
            gui = subprocess.Popen([sys.executable, str(ROOT / "gui.py"), "--source", str(video),
                                    *args.gui_args.split()], env=env)
            wid = ""
            for _ in range(300):
                wid = subprocess.run(["xdotool", "search", "--onlyvisible", "--name", "^Emojify$"], env=env,
                                     capture_output=True, text=True).stdout.split()
                if wid:
                    break
                time.sleep(0.2)
            subprocess.run(["xdotool", "windowsize", wid[0], *args.size.split("x")], env=env, check=True)
            time.sleep(1.0)
            for key in args.keys.split():
                subprocess.run(["xdotool", "windowfocus", "--sync", wid[0], "key", key], env=env, check=True)
            time.sleep(args.after)
            geometry = subprocess.run(["xdotool", "getwindowgeometry", "--shell", wid[0]], env=env,
                                      capture_output=True, text=True).stdout
            g = dict(line.split("=") for line in geometry.split())
            x, y, w, h = (int(g[k]) for k in ("X", "Y", "WIDTH", "HEIGHT"))
            ImageGrab.grab(bbox=(x, y, x + w, y + h), xdisplay=display).save(args.out)
            subprocess.run(["xdotool", "windowfocus", "--sync", wid[0], "key", "q"], env=env)
            gui.wait(timeout=30)
    finally:
        xvfb.terminate()
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
