"""Live-loop speed: the GUI's exact per-frame path against the seeds' loop, on the same decoded frames.

    python -m benchmarks.videos ../shared/fer2013/test --faces 1 --out one_face.mp4
    python -m benchmarks.realtime one_face.mp4 --frames 300

Prints `fps=<ours> seed_fps=<seed> ratio=<x>`, ms per stage, faces found by our detector against the
full-frame detector at scaleFactor 1.1, and peak memory.
"""
import argparse
import resource
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def decode(path, limit):
    """All frames (up to limit) of a video, and the mean ms to decode one."""
    from emojify.capture import SourceError, open_source
    try:
        source = open_source(str(path))
    except SourceError as e:
        sys.exit(f"error: {e}")
    frames, started = [], time.perf_counter()
    while len(frames) < limit:
        ok, frame = source.read()
        if not ok:
            break
        frames.append(frame)
    source.release()
    if not frames:
        sys.exit(f"error: {path} has no frames")
    return frames, (time.perf_counter() - started) * 1000 / len(frames)


def main(argv=None):
    from emojify.cli import add_backend_option, add_views_option
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("video", type=Path)
    p.add_argument("--frames", type=int, default=300, help="frames to time (default 300)")
    p.add_argument("--seed-frames", type=int, default=100, help="frames to time the slow seed loop on")
    p.add_argument("--model", type=Path, default=ROOT / "model.h5")
    add_views_option(p, default=1)
    add_backend_option(p)
    args = p.parse_args(argv)

    import cv2
    from PIL import Image

    from benchmarks.seed import SeedLoop, build_seed_model
    from emojify.processor import build_live_processor
    from emojify.config import CASCADE_PATH
    from emojify.errors import ModelError
    from emojify.backends import open_classifier

    frames, decode_ms = decode(args.video, args.frames)
    try:
        classifier = open_classifier(args.model, views=args.views, backend=args.backend, threads=1)
    except ModelError as e:
        sys.exit(f"error: {e}")
    processor = build_live_processor(classifier)  # what gui.py builds
    for frame in frames[:5]:  # warm-up: first calls allocate and trace
        processor(frame.copy())

    stages = {"detect": 0.0, "classify": 0.0, "draw": 0.0}
    ours_faces = 0
    started = time.perf_counter()
    for frame in frames:
        live = processor(frame.copy())
        Image.fromarray(live.image)  # what the Tk thread does before PhotoImage.paste
        ours_faces += len(live.result.faces)
        for k in stages:
            stages[k] += live.result.timings[k]
    ours_fps = len(frames) / (time.perf_counter() - started)

    seed = SeedLoop(build_seed_model(), CASCADE_PATH)
    seed_frames = frames[: args.seed_frames]
    seed(seed_frames[0].copy())
    started = time.perf_counter()
    for frame in seed_frames:
        seed(frame.copy())
    seed_fps = len(seed_frames) / (time.perf_counter() - started)

    full = cv2.CascadeClassifier(str(CASCADE_PATH))
    full_faces = sum(len(full.detectMultiScale(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY), scaleFactor=1.1,
                                               minNeighbors=5)) for f in frames)
    n = len(frames)
    h, w = frames[0].shape[:2]
    print(f"fps={ours_fps:.1f} seed_fps={seed_fps:.1f} ratio={ours_fps / seed_fps:.1f}")
    print(f"video: {args.video.name}, {w}x{h}, {n} frames (seed loop timed on {len(seed_frames)})")
    print(f"ms per frame: decode {decode_ms:.2f}, detect {stages['detect'] * 1000 / n:.2f}, "
          f"classify {stages['classify'] * 1000 / n:.2f}, draw+compose {stages['draw'] * 1000 / n:.2f}")
    print(f"faces found: ours {ours_faces}, full-frame scaleFactor 1.1 {full_faces} ({n} frames)")
    print(f"peak RSS: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
