"""Measure a model on labelled faces: accuracy, per-class precision/recall/F1 and the confusion matrix.

    python evaluate.py ../shared/fer2013/test
    python evaluate.py photos/ --detect --json results/photos.json   # full photos: find the face first
    python evaluate.py fer2013.csv --usage PrivateTest

DATA is a folder of emotion subfolders (any subset of the seven emotions; images of any size or colour)
or the original fer2013.csv.
"""
from emojify import preflight

preflight.require()  # first: a missing package, or Ctrl+C from here on, is one line

import json  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np

from emojify import atomic
from emojify.cli import add_backend_option, add_views_option, main_guard, make_parser, progress_bar
from emojify.config import FACE_SIZE, MODEL_PATH
from emojify.errors import AppError


def confusion_matrix(y_true, y_pred, n_classes):
    matrix = np.zeros((n_classes, n_classes), np.int64)
    np.add.at(matrix, (y_true, y_pred), 1)
    return matrix


def per_class_scores(matrix, labels, present):
    """{label: precision, recall, f1, support} for the classes present in the data."""
    scores = {}
    for i in present:
        tp = matrix[i, i]
        support, predicted = matrix[i].sum(), matrix[:, i].sum()
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        scores[labels[i]] = {"precision": round(float(precision), 4), "recall": round(float(recall), 4),
                             "f1": round(float(f1), 4), "support": int(support)}
    return scores


def ms_per_face(classifier, runs=50):
    """Median milliseconds to classify one face (batch of 1)."""
    import time

    face = np.full((1, FACE_SIZE, FACE_SIZE), 128, np.uint8)
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        classifier(face)
        times.append(time.perf_counter() - started)
    return round(float(np.median(times)) * 1000, 2)


def format_report(report):
    labels = report["labels"]
    lines = [f"Accuracy: {report['accuracy']:.4f} on {report['n']} faces"
             + (f" ({len(report['no_face'])} images without a detected face left out; "
                f"counting them as wrong: {report['accuracy_all_images']:.4f})" if report.get("no_face") else "")]
    if "ms_per_face" in report:
        lines.append(f"Speed: {report['ms_per_face']:.1f} ms per face (batch of 1, "
                     f"{report['views']} view{'s' if report['views'] > 1 else ''} per face)")
    lines.append(f"{'emotion':10s} {'precision':>9s} {'recall':>7s} {'f1':>7s} {'support':>8s}")
    for name, s in report["per_class"].items():
        lines.append(f"{name:10s} {s['precision']:9.3f} {s['recall']:7.3f} {s['f1']:7.3f} {s['support']:8d}")
    lines.append("Confusion matrix (rows: true, columns: predicted):")
    lines.append(" " * 10 + "".join(f"{name:>9s}" for name in labels))
    for i, row in enumerate(report["confusion"]):
        if labels[i] in report["per_class"]:
            lines.append(f"{labels[i]:10s}" + "".join(f"{v:9d}" for v in row))
    return "\n".join(lines)


def evaluate(classifier, faces, labels):
    from emojify.emotions import EMOTIONS
    from emojify.inference import predict_probs
    bar = progress_bar(len(faces), "face")
    probs = predict_probs(classifier, faces, progress=bar.add if bar else None)
    pred = probs.argmax(axis=1)
    matrix = confusion_matrix(labels, pred, len(EMOTIONS))
    present = sorted(set(int(v) for v in labels))
    return {
        "accuracy": round(float(np.mean(pred == labels)), 4) if len(labels) else 0.0,
        "n": int(len(labels)),
        "labels": list(EMOTIONS),
        "per_class": per_class_scores(matrix, EMOTIONS, present),
        "confusion": matrix.tolist(),
        "views": classifier.views,
    }


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("data", type=Path, help="folder of emotion subfolders, or fer2013.csv")
    p.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model")
    p.add_argument("--json", type=Path, help="write the report here (confusion-matrix PNG beside it)")
    p.add_argument("--detect", action="store_true", help="images are full photos: detect the face first")
    p.add_argument("--usage", choices=("Training", "PublicTest", "PrivateTest"),
                   help="with fer2013.csv: which split to use (default: all rows)")
    add_views_option(p, default=4, why=", the most accurate")
    add_backend_option(p)
    return p.parse_args(argv)


@main_guard
def main(argv=None):
    args = parse_args(argv)
    from emojify import dataset
    from emojify.backends import open_classifier

    is_csv = args.data.suffix.lower() == ".csv"
    if args.detect and is_csv:
        raise AppError("--detect needs image files; fer2013.csv holds ready 48x48 faces.")
    if args.usage and not is_csv:
        raise AppError("--usage applies to fer2013.csv only.")
    no_face = []
    if args.detect:
        faces, labels, paths, skipped, no_face = dataset.detected_faces(dataset.list_folder(args.data))
    else:
        faces, labels, paths, skipped = dataset.load_any(args.data, usage=args.usage)
    for path, why in skipped[:10]:
        print(f"skipped {path}: {why}", file=sys.stderr)
    if skipped:
        print(f"Skipped {len(skipped)} unreadable file(s).", file=sys.stderr)
    classifier = open_classifier(args.model, views=args.views, backend=args.backend)
    report = evaluate(classifier, faces, labels)
    report.update(data=str(args.data), model=str(args.model), backend=classifier.backend, skipped=len(skipped), usage=args.usage,
                  ms_per_face=ms_per_face(classifier),
                  model_bytes=args.model.stat().st_size)
    if args.detect:
        report["no_face"] = no_face
        total = report["n"] + len(no_face)
        correct = report["accuracy"] * report["n"]
        report["accuracy_all_images"] = round(correct / total, 4) if total else 0.0
    print(format_report(report))
    if args.json:
        from emojify.plots import plot_confusion
        atomic.write_text(args.json, json.dumps(report, indent=1, allow_nan=False))
        png = args.json.with_suffix(".png")
        plot_confusion(report["confusion"], report["labels"], png,
                       title=f"{args.data.name}: accuracy {report['accuracy']:.1%} (n={report['n']})")
        print(f"Wrote {args.json} and {png}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
