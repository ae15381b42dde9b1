"""How often the live window shows the right emotion, against a full detection and classification of every
frame, on motion videos of faces that are not FER-2013.

    python -m benchmarks.live_accuracy
    python -m benchmarks.live_accuracy --live model.h5:4:24 model.h5:2:8 runs/student/model.h5:1:8

The video: faces from SFEW (film crops) and LFW (photos of people), each moving smoothly across a room for
0.8 s (drifting and growing a little), then a cut to the next face, 30 fps, 640x480, written as MP4 and read
back with OpenCV. Each --live predictor MODEL:C:D is the window's path (backends.open_classifier, one view,
processor.build_live_processor) classifying every C-th frame and searching for new faces every D-th.
The reference is --reference's model (default model.h5) detecting and classifying every frame on its own.

Per predictor: right (frames whose main face shows the label), ratio (right / the reference's), self_ratio
(right / its own model's on every frame), boxed (of the frames where the reference finds the face, those where
the live path has a box on it), and the delay from a cut to the live path showing the new face's reading (the
label its own model settles on, every frame on its own), median and 90th percentile, over the cuts where that
reading changes.
"""
import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "crossdomain"
FPS, SECONDS = 30, 0.8
SIZE = (640, 480)


def sample(folder, n, rng):
    """n (path, label) of a folder of emotion subfolders, drawn at random."""
    from emojify import dataset
    items = dataset.list_folder(folder)
    pick = rng.choice(len(items), size=min(n, len(items)), replace=False)
    return [(items[i][1], items[i][0]) for i in pick]


def face_picture(path, kind):
    """The picture to move around: an LFW photo as it is, an SFEW crop with room around it (the crops are
    cut at the chin and brow, where the face detector needs to see a head)."""
    import cv2
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if kind == "sfew":
        h, w = image.shape[:2]
        image = cv2.copyMakeBorder(image, h // 4, h // 4, w // 3, w // 3, cv2.BORDER_REPLICATE)
    return image


def write_motion_video(path, faces, seed=0):
    """One segment of SECONDS per (picture, label); returns the label of every frame and the first frame of
    each segment."""
    import cv2

    from benchmarks.videos import background_frame
    rng = np.random.default_rng(seed)
    w, h = SIZE
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), FPS, SIZE)
    back = background_frame(SIZE, seed)
    labels, starts = [], []
    per = int(FPS * SECONDS)
    for picture, label in faces:
        starts.append(len(labels))
        side0 = rng.uniform(0.55, 0.85) * h
        grow = rng.uniform(0.95, 1.1)
        c0 = np.array([rng.uniform(0.35, 0.65) * w, rng.uniform(0.4, 0.6) * h])
        c1 = c0 + rng.uniform(-40, 40, 2)
        for i in range(per):
            t = i / (per - 1)
            side = side0 * (1 + (grow - 1) * t)
            ph, pw = picture.shape[:2]
            scale = side / max(ph, pw)
            small = cv2.resize(picture, (max(1, int(pw * scale)), max(1, int(ph * scale))),
                               interpolation=cv2.INTER_AREA)
            cx, cy = c0 + (c1 - c0) * t
            x0, y0 = int(np.clip(cx - small.shape[1] / 2, 0, w - small.shape[1])), \
                int(np.clip(cy - small.shape[0] / 2, 0, h - small.shape[0]))
            frame = back.copy()
            frame[y0:y0 + small.shape[0], x0:x0 + small.shape[1]] = small[:h - y0, :w - x0]
            writer.write(frame)
            labels.append(label)
    writer.release()
    return np.asarray(labels), starts


def main_faces(path, pipeline):
    """Per frame: (label or -1, box or None) of the main (largest) face that pipeline(frame) reports."""
    from emojify.capture import open_source
    source = open_source(str(path))
    out = []
    while True:
        ok, frame = source.read()
        if not ok:
            break
        result = pipeline(frame)
        result = getattr(result, "result", result)  # a LiveProcessor gives a LiveFrame
        face = result.main
        out.append((face.index, face.box) if face is not None else (-1, None))
    source.release()
    return out


def delays(live, reference, starts, n):
    """Seconds from each cut until the live label equals the reading the reference settles on in the new
    segment, over the cuts where that reading differs from the previous segment's."""
    out, before = [], None
    bounds = list(starts) + [n]
    for s, e in zip(bounds[:-1], bounds[1:]):
        settled = [r for r in reference[s + 3:e] if r >= 0]
        reading = max(set(settled), key=settled.count) if settled else None
        if reading is not None and before is not None and reading != before:
            hit = next((i for i in range(s, e) if live[i] == reading), e)
            out.append((hit - s) / FPS)
        before = reading if reading is not None else before
    return out


def parse_live(text):
    model, _, rest = text.partition(":")
    try:
        c, d = (int(v) for v in rest.split(":"))
    except ValueError:
        sys.exit(f"error: --live takes MODEL:CLASSIFY_EVERY:DETECT_EVERY, e.g. model.h5:4:8; received {text!r}")
    return Path(model), c, d


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="\n".join(__doc__.splitlines()[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--live", nargs="+", default=["model.h5:4:24", "model.h5:4:8", "model.h5:2:8"],
                   metavar="MODEL:C:D", help="live predictors to score (default: %(default)s)")
    p.add_argument("--reference", type=Path, default=ROOT / "model.h5")
    p.add_argument("--faces", type=int, default=80, help="faces from each of SFEW and LFW (default 80)")
    p.add_argument("--sfew", type=Path, default=SHARED / "sfew")
    p.add_argument("--lfw", type=Path, default=SHARED / "lfw")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    predictors = [parse_live(t) for t in args.live]

    from emojify.backends import open_classifier
    from emojify.detect import FaceDetector
    from emojify.faces import FramePipeline, iou
    from emojify.processor import build_live_processor
    rng = np.random.default_rng(args.seed)
    faces = [(face_picture(path, kind), label) for kind, folder in (("sfew", args.sfew), ("lfw", args.lfw))
             for path, label in sample(folder, args.faces, rng)]
    order = rng.permutation(len(faces))
    faces = [faces[i] for i in order]
    quiet = lambda line: None  # noqa: E731
    with tempfile.TemporaryDirectory() as tmp:
        video = Path(tmp) / "motion.mp4"
        truth, starts = write_motion_video(video, faces, args.seed)
        n = len(truth)
        started = time.perf_counter()
        full = FramePipeline(open_classifier(args.reference, views=1, threads=1, say=quiet), detector=FaceDetector())
        ref = main_faces(video, full)
        ref_labels = [label for label, _ in ref]
        ref_right = float(np.mean(np.asarray(ref_labels) == truth))
        found = [i for i, (_, box) in enumerate(ref) if box is not None]
        print(f"video: {len(faces)} faces ({args.faces} SFEW, {args.faces} LFW), {n} frames; reference "
              f"{args.reference.name} every frame: right={ref_right:.1%}, a face on {len(found) / n:.1%} of the "
              f"frames ({time.perf_counter() - started:.0f} s)", flush=True)
        own = {}  # model -> its own full per-frame labels, for the delays and self_ratio
        for model, c, d in predictors:
            if model not in own:
                full = FramePipeline(open_classifier(model, views=1, threads=1, say=quiet), detector=FaceDetector())
                own[model] = [label for label, _ in main_faces(video, full)]
            started = time.perf_counter()
            processor = build_live_processor(open_classifier(model, views=1, threads=1, say=quiet), SIZE,
                                             detect_every=d, classify_every=c)
            live = main_faces(video, processor)
            labels = [label for label, _ in live]
            right = float(np.mean(np.asarray(labels) == truth))
            own_right = float(np.mean(np.asarray(own[model]) == truth))
            boxed = np.mean([live[i][1] is not None and iou(live[i][1], ref[i][1]) > 0.3 for i in found])
            waits = delays(labels, own[model], starts, n)
            ms = (time.perf_counter() - started) * 1000 / n
            print(f"live {model}:{c}:{d}: right={right:.1%} ratio={right / ref_right:.3f} (its own model every "
                  f"frame: {own_right:.1%}, self_ratio={right / own_right:.3f}) boxed={boxed:.1%} "
                  f"delay_median_s={np.median(waits):.2f} delay_p90_s={np.percentile(waits, 90):.2f} "
                  f"(cuts={len(waits)}) ms_per_frame={ms:.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
