"""How the Haar detector's box relates to the FER-2013 crop: FER faces from the validation split (held out of
train/, as train.py holds it out) are enlarged, pasted into larger frames, and detected the way evaluate.py
--detect does; the box is compared with where the 48x48 crop lies in the frame.

    python benchmarks/crop_alignment.py ../shared/fer2013
    python benchmarks/crop_alignment.py ../shared/fer2013 --faces 1000 --side 192

Prints, in units of the FER crop's side: the box's left and top offsets and its width (median and the middle
half), how often a face is found, and the accuracy of the shipped model on the Haar box cropped as is against
the FER crop itself (the ceiling a perfect crop would give).
"""
import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.validation import add_split_options, validation_faces  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    add_split_options(p)
    p.add_argument("--faces", type=int, default=1500, help="validation faces to use")
    p.add_argument("--side", type=int, default=192, help="pixels the 48x48 face is enlarged to")
    p.add_argument("--model", type=Path, default=ROOT / "model.h5")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args(argv)
    from benchmarks.videos import background_frame
    from faces import Face, FaceDetector, best_match, crop_faces
    from inference import EmotionClassifier, load_model

    x, y = validation_faces(args)
    rng = np.random.default_rng(args.seed)
    picked = rng.choice(len(y), size=min(args.faces, len(y)), replace=False)
    detector = FaceDetector(detect_width=640, min_face=0.1)  # as evaluate.py --detect
    back = cv2.cvtColor(background_frame(), cv2.COLOR_BGR2GRAY)
    s = args.side
    geometry, haar_crops, labels, truth, boxes_found = [], [], [], [], []
    for i in picked:
        frame = back.copy()
        x0, y0 = int(rng.integers(0, 640 - s)), int(rng.integers(0, 480 - s))
        frame[y0:y0 + s, x0:x0 + s] = cv2.resize(x[i][..., 0] if x[i].ndim == 3 else x[i], (s, s),
                                                 interpolation=cv2.INTER_CUBIC)
        boxes = detector(frame)
        match, overlap = best_match([Face(tuple(b), None) for b in boxes], (x0, y0, s, s))
        if match is None or overlap < 0.3:
            continue
        bx, by, bw, bh = match.box
        geometry.append(((bx - x0) / s, (by - y0) / s, bw / s))
        haar_crops.append(crop_faces(frame, [match.box])[0])
        boxes_found.append((frame, match.box))
        truth.append(crop_faces(frame, [(x0, y0, s, s)])[0])
        labels.append(y[i])
    g = np.array(geometry)
    print(f"faces: {len(picked)}, found: {len(g)} ({len(g) / len(picked):.1%})")
    for name, column in zip(("left offset", "top offset", "width"), g.T):
        q1, med, q3 = np.percentile(column, [25, 50, 75])
        print(f"box {name:11s} / FER side: median {med:+.3f} (middle half {q1:+.3f} .. {q3:+.3f})")
    # The box moved and scaled by the medians above: where the FER crop lies, as the detector sees it.
    left, top, width = np.median(g, axis=0)
    fitted = []
    for frame, (bx, by, bw, bh) in boxes_found:
        side = bw / width
        fitted.append(crop_faces(frame, [(round(bx - left * side), round(by - top * side), round(side),
                                          round(side))])[0])
    classify = EmotionClassifier(load_model(args.model), views=4)  # as evaluate.py
    labels = np.array(labels)
    for name, crops in (("the Haar box as is", haar_crops), ("the box fitted by the medians", fitted),
                        ("the FER crop (ceiling)", truth)):
        probs = np.concatenate([classify(np.stack(crops[k:k + 256])) for k in range(0, len(crops), 256)])
        print(f"accuracy on {name}: {(probs.argmax(axis=1) == labels).mean():.1%}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
