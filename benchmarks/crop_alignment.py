"""How the Haar detector's box relates to the FER-2013 crop: FER faces from the validation split (held out of
train/, as train.py holds it out) are enlarged, pasted into larger frames, and detected the way evaluate.py
--detect does; the box is compared with where the 48x48 crop lies in the frame.

    python -m benchmarks.crop_alignment ../shared/fer2013
    python -m benchmarks.crop_alignment ../shared/fer2013 --faces 1000 --side 192

Prints, in units of the FER crop's side: the box's left and top offsets and its width (median and the middle
half), how often a face is found, and the accuracy of the shipped model on the Haar box cropped as is, moved
by these medians, moved by detect.fer_box (the committed ones the app uses) and on the FER crop itself (the
ceiling a perfect crop would give).

    python -m benchmarks.crop_alignment ../shared/fer2013 --write-frames /tmp/framed

also writes test/ faces framed the same way (emotion subfolders), for `python evaluate.py /tmp/framed --detect`.
"""
import sys
from pathlib import Path

import cv2
import numpy as np


from benchmarks.validation import make_parser, validation_faces  # noqa: E402


def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--faces", type=int, default=1500, help="validation faces to use")
    p.add_argument("--side", type=int, default=192, help="pixels the 48x48 face is enlarged to")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--write-frames", type=Path, metavar="DIR",
                   help="also write every test/ face framed this way to DIR/<emotion>/, and stop there")
    args = p.parse_args(argv)
    from benchmarks.videos import background_frame
    from emojify.detect import FaceDetector, crop_faces, fer_box
    from emojify.faces import Face, best_match
    from emojify.inference import EmotionClassifier, load_model

    if args.write_frames:
        return write_frames(args.data / "test", args.write_frames, args.side, args.seed, background_frame())
    x, y = validation_faces(args)
    rng = np.random.default_rng(args.seed)
    picked = rng.choice(len(y), size=min(args.faces, len(y)), replace=False)
    detector = FaceDetector(detect_width=640, min_face=0.1)  # as evaluate.py --detect
    back = cv2.cvtColor(background_frame(), cv2.COLOR_BGR2GRAY)
    s = args.side
    geometry, haar_crops, labels, truth, boxes_found = [], [], [], [], []
    for i in picked:
        frame, (x0, y0) = frame_face(x[i], s, rng, back)
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
    medians = np.median(g, axis=0)
    fitted = [crop_faces(frame, [fer_box(box, *medians)])[0] for frame, box in boxes_found]
    classify = EmotionClassifier(load_model(args.model), views=4)  # as evaluate.py
    labels = np.array(labels)
    committed = [crop_faces(frame, [fer_box(box)])[0] for frame, box in boxes_found]
    for name, crops in (("the Haar box as is", haar_crops), ("the box fitted by these medians", fitted),
                        ("detect.fer_box (the app's crop)", committed), ("the FER crop (ceiling)", truth)):
        probs = np.concatenate([classify(np.stack(crops[k:k + 256])) for k in range(0, len(crops), 256)])
        print(f"accuracy on {name}: {(probs.argmax(axis=1) == labels).mean():.1%}")
    return 0


def frame_face(face, side, rng, back):
    """One gray face enlarged to side x side and pasted at a random place of the backdrop."""
    frame = back.copy()
    x0, y0 = int(rng.integers(0, frame.shape[1] - side)), int(rng.integers(0, frame.shape[0] - side))
    frame[y0:y0 + side, x0:x0 + side] = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
    return frame, (x0, y0)


def write_frames(test_dir, out, side, seed, back):
    from emojify import dataset
    from emojify.emotions import EMOTIONS
    x, y, _, _ = dataset.load_folder(test_dir)
    rng = np.random.default_rng(seed)
    back = cv2.cvtColor(back, cv2.COLOR_BGR2GRAY)
    for emotion in EMOTIONS:
        (out / emotion).mkdir(parents=True, exist_ok=True)
    for i, (face, label) in enumerate(zip(x, y)):
        frame, _ = frame_face(face, side, rng, back)
        cv2.imwrite(str(out / EMOTIONS[label] / f"{i:05d}.png"), frame)
    print(f"wrote {len(y)} framed test faces to {out}; score them with: python evaluate.py {out} --detect")
    return 0


if __name__ == "__main__":
    sys.exit(main())
