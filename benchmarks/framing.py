"""Which framing of a face reads best on faces that are not FER-2013: whole film crops made square in several
ways, and the detector's box cropped with more or less margin around it, optionally turned upright from the eyes.

    python -m benchmarks.framing model.h5 emojify/models/live.h5
    python -m benchmarks.framing model.h5 --align --limit 1200

Sets as benchmarks/crossdomain.py builds them (SFEW film crops; LFW photos through predict.py's detector; the
webcam frames of the validation faces through the window's detector). Whole crops: squashed to a square (1.4),
padded to a square with their edge pixels (today's dataset.square), the centred square cut out, or padded
with 10 % more margin. Boxes: detect.fer_box with `width` (the detector box's share of the crop's side)
0.958 (today's, measured on FER-2013 faces), 0.90, 0.85, 0.80 (more margin) and 1.05 (less). --align also
rotates each detected face so that the line between its eyes (OpenCV's eye cascade) is level, when two eyes
are found within 20 degrees. Accuracy per model, one view per face unless --views.
"""
import argparse
import itertools
import math
import sys
from functools import partial
from pathlib import Path

import cv2
import numpy as np

from benchmarks.crossdomain import SHARED, squashed, webcam_frames

WIDTHS = (0.958, 0.90, 0.85, 0.80, 1.05)


def box_framings():
    """{width: detector box -> crop box}: today's fer_box, and the others centred on the detector's box."""
    from emojify.detect import FER_WIDTH, fer_box, soft_box
    return {w: fer_box if w == FER_WIDTH else partial(soft_box, width=w)
            for w in WIDTHS}


def whole_crops(image):
    """{way: 48x48 face} of one whole crop."""
    from emojify.dataset import square, to_face_array, to_gray
    gray = to_gray(image)
    h, w = gray.shape
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    pad = int(round(0.1 * max(h, w)))
    wider = cv2.copyMakeBorder(square(gray), pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    return {"squashed (1.4)": squashed(gray), "padded square (today)": to_face_array(gray),
            "centre square cut": to_face_array(gray[top:top + side, left:left + side]),
            "padded square + 10 %": to_face_array(wider)}


class Upright:
    """Turns a gray picture about a face box so that the eyes found in its upper part lie level."""

    def __init__(self):
        self.eyes = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_eye.xml")

    def angle(self, gray, box):
        x, y, w, h = (int(v) for v in box)
        found = self.eyes.detectMultiScale(gray[max(y, 0):y + int(0.6 * h), max(x, 0):x + w], 1.1, 5,
                                           minSize=(max(8, w // 10),) * 2, maxSize=(w // 3,) * 2)
        if len(found) < 2:
            return None
        (x1, y1), (x2, y2) = sorted((ex + ew / 2, ey + eh / 2) for ex, ey, ew, eh in
                                    sorted(found, key=lambda r: -r[2])[:2])
        if x2 - x1 < 0.25 * w:
            return None
        degrees = math.degrees(math.atan2(y2 - y1, x2 - x1))
        return degrees if abs(degrees) <= 20 else None

    def __call__(self, gray, box):
        degrees = self.angle(gray, box)
        if degrees is None:
            return gray, False
        x, y, w, h = box
        turn = cv2.getRotationMatrix2D((x + w / 2, y + h / 2), degrees, 1.0)
        return cv2.warpAffine(gray, turn, gray.shape[::-1], borderMode=cv2.BORDER_REPLICATE), True


def boxed_crops(pictures, detector, upright=None):
    """({way: faces}, labels, turned) of (label, gray picture) pairs through detector, each box framed per width."""
    from emojify.detect import crop_faces
    framings = box_framings()
    ways, labels, turned = {}, [], 0
    for label, gray in pictures:
        boxes = detector(gray)
        if not len(boxes):
            continue
        box = boxes[0]
        pictures_of = {"": gray}
        if upright is not None:
            level, moved = upright(gray, box)
            pictures_of["upright, "] = level
            turned += moved
        for (prefix, picture), (width, framed) in itertools.product(pictures_of.items(), framings.items()):
            ways.setdefault(f"{prefix}width {width}", []).append(crop_faces(picture, [framed(box)])[0])
        labels.append(label)
    return {k: np.stack(v) for k, v in ways.items()}, np.asarray(labels, np.int32), turned


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="\n".join(__doc__.splitlines()[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", type=Path, nargs="+", help="model files, compared side by side")
    p.add_argument("--views", type=int, choices=(1, 2, 4), default=1, help="views per face (default: 1)")
    p.add_argument("--align", action="store_true", help="also score the boxed faces turned upright from the eyes")
    p.add_argument("--limit", type=int, default=0, help="at most this many faces of each set, drawn at random (0: all)")
    p.add_argument("--fer", type=Path, default=SHARED / "fer2013", help="(default: %(default)s)")
    p.add_argument("--sfew", type=Path, default=SHARED / "crossdomain" / "sfew", help="(default: %(default)s)")
    p.add_argument("--lfw", type=Path, default=SHARED / "crossdomain" / "lfw", help="(default: %(default)s)")
    args = p.parse_args(argv)
    from emojify import dataset
    from emojify.detect import FaceDetector
    from emojify.inference import EmotionClassifier, load_model, predict_probs
    limit = args.limit or None
    upright = Upright() if args.align else None

    def pictures(folder):
        items = dataset.list_folder(folder)
        if limit:
            items = [items[i] for i in sorted(np.random.default_rng(0).permutation(len(items))[:limit])]
        for label, path in items:
            image = dataset.read_labelled(path)
            if image is not None:
                yield label, dataset.to_gray(image)

    sets = {}
    sfew = list(pictures(args.sfew))
    crops = [whole_crops(gray) for _, gray in sfew]
    ways = {k: np.stack([c[k] for c in crops]) for k in crops[0]}
    sets["sfew"] = (ways, np.asarray([label for label, _ in sfew], np.int32), 0)
    sets["lfw"] = boxed_crops(pictures(args.lfw), FaceDetector(detect_width=640, min_face=0.1), upright)
    faces, labels = dataset.validation_faces(args.fer / "train", 0.1, 1)
    sets["webcam"] = boxed_crops(itertools.islice(zip(labels, webcam_frames(faces)), limit), FaceDetector(),
                                 upright)
    for name, (_, labels, turned) in sets.items():
        print(f"{name}: {len(labels)} faces" + (f", {turned} turned upright" if turned else ""), file=sys.stderr)
    models = [(path, EmotionClassifier(load_model(path), views=args.views)) for path in args.models]
    print(f"{args.views} view(s) per face; accuracy\n\n| set | framing | " + " | ".join(str(m) for m, _ in models)
          + " |\n|---|---|" + "---|" * len(models))
    for name, (ways, labels, _) in sets.items():
        for way, faces in ways.items():
            cells = [f"{np.mean(predict_probs(c, faces).argmax(1) == labels):.1%}" for _, c in models]
            print(f"| {name} | {way} | " + " | ".join(cells) + " |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
