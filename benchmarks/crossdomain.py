"""How well models read faces that are not FER-2013, side by side: the table every choice is made on.

    python -m benchmarks.crossdomain model.h5
    python -m benchmarks.crossdomain model.h5 ../runs/member9/model.h5 --views 1
    python -m benchmarks.crossdomain model.h5@1.4 model.h5    # the same model, framed as version 1.4 did and as now
    python -m benchmarks.crossdomain model.h5@fer model.h5    # every detected face framed as FER-2013's, and as now

Sets (the same faces for every model in the run):
  validation  the FER-2013 faces train.py holds out of train/ (never test/)
  sfew        film crops (../shared/crossdomain/sfew), each whole crop as the face
  lfw-photo   photos of people (../shared/crossdomain/lfw), the whole photo as the face
  lfw         the same photos through the face detector, as predict.py reads a photo
  webcam      the validation faces enlarged into 640x480 frames as a webcam would show them (size, place,
              rotation up to 15 degrees, light gradients, gamma, blur, noise, JPEG), through the live window's
              detector and crop
Per set: accuracy and mean per-class recall over the faces found (lfw leaves fear, 21 faces, out of its mean),
and how many faces the detector found. The cross-domain score is the mean accuracy over sfew, lfw and webcam.
Detected faces are framed as the app frames them: photos as predict.py does (detect.frame_faces: as
FER-2013's, the softer faces with more margin), webcam frames as the window does (as FER-2013's).
MODEL@fer frames every detected face as FER-2013's (as before photos' soft faces were given more margin);
MODEL@1.4 frames faces as version 1.4 did (whole crops squashed to a square, the detector's box framed by its
1.4 constants): for a comparison with what was shipped then, in the same run.
"""
import argparse
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
SCORED = ("sfew", "lfw", "webcam")


def squashed(image, size=48):
    """A whole crop as version 1.4 made it a face: resized to size x size whatever its proportions."""
    import cv2

    from emojify.dataset import to_gray
    gray = to_gray(image)
    return cv2.resize(gray, (size, size), interpolation=cv2.INTER_AREA if max(gray.shape) > size else cv2.INTER_LINEAR)


def framings():
    """{name: (whole crop -> 48x48 face, photo framing, webcam framing)}, a framing being (gray picture, detector
    box) -> 48x48 face: today's (photos as predict.py frames them, webcam frames as the window does); "fer",
    every detected face framed as FER-2013's (before photos' soft faces were given more margin); 1.4's."""
    from functools import partial

    from emojify.dataset import to_face_array
    from emojify.detect import crop_faces, fer_box, frame_faces

    def boxed(frame_box):
        return lambda gray, box: crop_faces(gray, [frame_box(box)])[0]
    as_fer = boxed(fer_box)
    return {"": (to_face_array, lambda gray, box: frame_faces(gray, [box])[0], as_fer),
            "fer": (to_face_array, as_fer, as_fer),
            "1.4": (squashed, *[boxed(partial(fer_box, left=0.016, top=0.021, width=0.958))] * 2)}


def webcam_frames(faces, seed=0, size=(640, 480)):
    """Each 48x48 face as a gray webcam frame: enlarged to 140-320 px, placed anywhere it fits, rotated up to
    15 degrees, under a light gradient and a gamma, blurred, noisy and JPEG-compressed; yields frames."""
    import cv2
    rng = np.random.default_rng(seed)
    w, h = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    for face in faces:
        side = int(rng.uniform(140, 320))
        back = np.full((h, w), rng.uniform(60, 190), np.float32)
        back += cv2.resize(rng.normal(0, 12, (h // 40, w // 40)).astype(np.float32), (w, h))  # a room, roughly
        x, y = int(rng.uniform(0, w - side)), int(rng.uniform(0, h - side))
        patch = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC).astype(np.float32)
        back[y:y + side, x:x + side] = patch
        turn = cv2.getRotationMatrix2D((x + side / 2, y + side / 2), rng.uniform(-15, 15), 1.0)
        frame = cv2.warpAffine(back, turn, (w, h), borderMode=cv2.BORDER_REFLECT)
        gx, gy = rng.uniform(-40, 40, 2)  # a lamp to one side: up to 40 levels brighter there, darker opposite
        frame += gx * (xs / w - 0.5) * 2 + gy * (ys / h - 0.5) * 2
        frame = 255 * (np.clip(frame, 0, 255) / 255) ** np.exp(rng.uniform(-0.35, 0.35))
        sigma = rng.uniform(0, 1.5)
        if sigma > 0.3:
            frame = cv2.GaussianBlur(frame, (0, 0), sigma)
        frame += rng.normal(0, rng.uniform(0, 6), frame.shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, int(rng.uniform(40, 95))])
        yield cv2.imdecode(jpeg, cv2.IMREAD_GRAYSCALE)


def webcam_set(faces, labels, frame):
    """(crops, labels, frames without a face) of the validation faces seen as webcam frames; frame(gray, box)
    -> 48x48 face."""
    from emojify.detect import FaceDetector
    detector = FaceDetector()  # the live window's: 320 px wide, faces down to 1/5 of the shorter side
    crops, kept, missed = [], [], 0
    for picture, label in zip(webcam_frames(faces), labels):
        boxes = detector(picture)
        if not len(boxes):
            missed += 1
            continue
        crops.append(frame(picture, boxes[0]))
        kept.append(label)
    return np.stack(crops), np.asarray(kept, np.int32), missed


def load_sets(args, framing=""):
    """{set: (faces, labels, images without a detected face)}, each built once for every model framed so."""
    from emojify import dataset
    face, photo_frame, webcam_frame = framings()[framing]
    sets = {}
    started = time.perf_counter()
    val_faces, val_labels = dataset.validation_faces(args.fer / "train", 0.1, 1)
    sets["validation"] = (val_faces, val_labels, 0)
    sets["sfew"] = (*dataset.load_folder(args.sfew, face=face)[:2], 0)
    sets["lfw-photo"] = (*dataset.load_folder(args.lfw, face=face)[:2], 0)
    faces, labels, _, _, no_face = dataset.detected_faces(dataset.list_folder(args.lfw), photo_frame)
    sets["lfw"] = (faces, labels, len(no_face))
    sets["webcam"] = webcam_set(val_faces, val_labels, webcam_frame)
    print(f"Sets{' framed as ' + framing if framing else ''} ready in {time.perf_counter() - started:.0f} s: "
          + ", ".join(f"{k} {len(v[1])}" for k, v in sets.items()), file=sys.stderr, flush=True)
    return sets


def scores(probs, labels, leave_out=()):
    """(accuracy, mean recall over the classes present, except leave_out)."""
    from emojify.emotions import EMOTIONS
    pred = probs.argmax(1)
    recalls = [np.mean(pred[labels == c] == c) for c in range(len(EMOTIONS))
               if (labels == c).any() and EMOTIONS[c] not in leave_out]
    return float(np.mean(pred == labels)), float(np.mean(recalls))


def measure(model_path, sets, views):
    from emojify.inference import EmotionClassifier, load_model, predict_probs
    classifier = EmotionClassifier(load_model(model_path), views=views)
    row = {}
    for name, (faces, labels, _) in sets.items():
        row[name] = scores(predict_probs(classifier, faces), labels, ("fear",) if name.startswith("lfw") else ())
    row["score"] = float(np.mean([row[name][0] for name in SCORED]))
    return row


def table(rows, sets):
    """Markdown rows per model; sets: {framing: sets} (the faces found are counted for today's framing)."""
    sets = sets.get("") or next(iter(sets.values()))
    names = list(sets)
    width = max(12, *(len(str(m)) for m in rows))
    lines = ["| model | " + " | ".join(names) + " | cross-domain score |",
             "|---|" + "---|" * (len(names) + 1)]
    for model, row in rows.items():
        cells = [f"{row[n][0]:.1%} / {row[n][1]:.1%}" for n in names]
        lines.append(f"| {str(model):{width}s} | " + " | ".join(cells) + f" | **{row['score']:.1%}** |")
    found = ", ".join(f"{n}: {len(sets[n][1])} faces" + (f" ({sets[n][2]} without a detected face)"
                                                        if sets[n][2] else "") for n in names)
    return "\n".join(lines + ["", "accuracy / mean per-class recall; " + found])


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0], epilog="\n".join(__doc__.splitlines()[1:]),
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("models", nargs="+", metavar="MODEL", help="model files, compared side by side; "
                   "MODEL@fer: every detected face framed as FER-2013's; MODEL@1.4: framed as version 1.4 framed faces")
    p.add_argument("--views", type=int, choices=(1, 2, 4), default=4, help="views per face (default: 4, as "
                   "predict.py and evaluate.py classify)")
    p.add_argument("--fer", type=Path, default=SHARED / "fer2013",
                   help="FER-2013, Kaggle layout (default: %(default)s)")
    p.add_argument("--sfew", type=Path, default=SHARED / "crossdomain" / "sfew", help="(default: %(default)s)")
    p.add_argument("--lfw", type=Path, default=SHARED / "crossdomain" / "lfw", help="(default: %(default)s)")
    args = p.parse_args(argv)
    from emojify.errors import AppError
    from emojify.inference import import_tensorflow
    try:
        framed = [model.rpartition("@")[::2] if "@" in model else (model, "") for model in args.models]
        sets = {}
        for model, (_, framing) in zip(args.models, framed):
            if framing not in framings():
                p.error(f"{model}: the other framings are @fer and @1.4; received @{framing}")
            if framing not in sets:
                sets[framing] = load_sets(args, framing)
        import_tensorflow()
        rows = {}
        for model, (path, framing) in zip(args.models, framed):
            started = time.perf_counter()
            rows[model] = measure(Path(path), sets[framing], args.views)
            print(f"scored {model} in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)
    except AppError as e:
        sys.exit(f"error: {e}")
    print(f"{args.views} view(s) per face\n" + table(rows, sets))


if __name__ == "__main__":
    sys.exit(main())
