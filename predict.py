"""Analyse photos, folders and video files without a window: one record per face found.

    python predict.py photos/ clip.mp4 --json faces.jsonl --csv faces.csv --annotate annotated/
    python predict.py crops/ --no-detect          # inputs are face crops already
    python predict.py talk.mp4 --every 5          # every 5th video frame

Records are written as they arrive, so an interrupted run keeps what it did. Unreadable inputs get one
line on stderr each and the rest is still processed; the exit code is 1 if any input or output failed.
"""
import csv
import io
import os
import sys
import time
from collections import Counter
from pathlib import Path

from emojify import preflight

preflight.require()

from emojify.atomic import LineFile, atomic_path, partial_path
from emojify.cli import add_views_option, interrupted, main_guard, make_parser, progress_bar
from emojify.config import IMAGE_SUFFIXES, MODEL_PATH, VIDEO_SUFFIXES
from emojify.errors import OutputError, os_reason
from emojify.records import CSV_COLUMNS, csv_row, face_records, json_line
from emojify.quiet import quiet_stderr


class InputError(Exception):
    """One input that cannot be analysed; the message names it and says why."""


def expand_inputs(inputs):
    """Paths as given -> ([(path, 'image'|'video'|None)], [error lines]); folders are searched recursively."""
    found, errors = [], []
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
            if not files:
                errors.append(f"{path}: folder holds no images or videos")
            found += [(p, "video" if p.suffix.lower() in VIDEO_SUFFIXES else "image") for p in files]
        elif path.is_file():
            suffix = path.suffix.lower()
            found.append((path, "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES
                          else None))
        else:
            errors.append(f"{path}: not found")
    return found, errors


def check_outputs(args, items):
    """Refuse, before any work, an output that is an input (or looks like one) or that another output names."""
    inputs = {Path(p).resolve() for p, _ in items}
    if str(args.json) == "-" and str(args.csv) == "-":
        raise OutputError("--json - and --csv - would both go to standard output; send one of them to a file.")
    seen = {}
    for flag, path in (("--json", args.json), ("--csv", args.csv)):
        if path is None or str(path) == "-":
            continue
        resolved = path.resolve()
        if resolved in inputs or (path.exists() and path.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES):
            raise OutputError(f"{flag} {path} is an input (or looks like one) and would be overwritten; if a "
                              f"wildcard was expanded right after {flag}, put {flag} and its file name first.")
        if resolved in seen:
            raise OutputError(f"{seen[resolved]} and {flag} both name {path}; give each output its own file.")
        seen[resolved] = flag
    if args.annotate is not None and args.annotate.resolve() in inputs:
        raise OutputError(f"--annotate {args.annotate} is an input file; give a folder for the annotated copies.")


class Outputs:
    """JSON lines and CSV written record by record (atomic.LineFile), plus annotated copies, so a crash or
    Ctrl+C keeps every record that was complete. A file that cannot be written (a full disk) is reported once
    and dropped; the other outputs go on."""

    def __init__(self, json_path=None, csv_path=None, annotate_dir=None, protect=()):
        self.json = LineFile(json_path) if json_path else None
        self.csv = LineFile(csv_path) if csv_path else None
        self.failed = []
        if self.csv:
            self._csv_line(CSV_COLUMNS)
        self.annotate_dir = Path(annotate_dir) if annotate_dir else None
        if self.annotate_dir:
            self.annotate_dir.mkdir(parents=True, exist_ok=True)
        self.protect = {Path(p).resolve() for p in protect}
        self.used = set()

    def _write(self, name, line):
        out = getattr(self, name)
        try:
            out.write(line)
        except OSError as e:
            setattr(self, name, None)
            out.close()
            self.failed.append(out.path)
            print(f"error: cannot write {out.path}: {os_reason(e)}; it keeps the {out.lines} whole line(s) "
                  "written before, and the other outputs go on", file=sys.stderr, flush=True)

    def _csv_line(self, row):
        buffer = io.StringIO()
        csv.writer(buffer).writerow(row)
        self._write("csv", buffer.getvalue())

    def write(self, record):
        if self.json:
            self._write("json", json_line(record))
        if self.csv:
            self._csv_line(csv_row(record))

    def annotated_path(self, source, suffix):
        """A fresh name in the annotate folder derived from the source; never an input file."""
        stem = Path(source).stem
        for n in range(1, 10_000):
            name = f"{stem}.annotated{suffix}" if n == 1 else f"{stem}.annotated-{n}{suffix}"
            path = self.annotate_dir / name
            if path.resolve() not in self.protect and path.resolve() not in self.used:
                self.used.add(path.resolve())
                return path
        raise InputError(f"{source}: no free name for its annotated copy")

    def close(self):
        for f in (self.json, self.csv):
            if f:
                f.close()


class Analyser:
    MIN_CROP_PX = 240  # --no-detect annotations are enlarged to this, so that the label can be read
    def __init__(self, classifier, outputs, every=1, detect=True):
        from emojify.faces import Face, build_photo_pipeline
        from emojify.overlay import load_emojis
        self.pipeline = build_photo_pipeline(classifier)
        self.classifier, self.Face = classifier, Face
        self.outputs, self.every, self.detect = outputs, every, detect
        self.emojis = load_emojis(size=128) if outputs.annotate_dir else None
        self.frames = 0
        self.seconds = 0.0
        self.counts = Counter()
        self.faceless_images = []

    def faces_of(self, frame):
        from emojify.dataset import to_face_array
        started = time.perf_counter()
        if self.detect:
            faces = self.pipeline(frame).faces
        else:
            probs = self.classifier(to_face_array(frame)[None])[0]
            faces = [self.Face((0, 0, frame.shape[1], frame.shape[0]), probs)]
        self.seconds += time.perf_counter() - started
        self.frames += 1
        self.counts.update(f.emotion for f in faces)
        return faces

    def image(self, path):
        import cv2

        from emojify.dataset import read_image, to_bgr
        frame = read_image(path)
        if frame is None:
            raise InputError(f"{path}: empty, corrupt or not an image")
        frame = to_bgr(frame)
        faces = self.faces_of(frame)
        if not faces:
            self.faceless_images.append(str(path))
        records = face_records(path, None, None, faces)
        for record in records:
            self.outputs.write(record)
        if self.emojis is not None:
            if not self.detect and min(frame.shape[:2]) < self.MIN_CROP_PX:  # a 48x48 crop: label unreadable
                scale = self.MIN_CROP_PX / min(frame.shape[:2])
                frame = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                faces = [self.Face((0, 0, frame.shape[1], frame.shape[0]), f.probs) for f in faces]
            self.draw(frame, faces)
            out = self.outputs.annotated_path(path, ".png")
            try:
                with atomic_path(out) as tmp:
                    with quiet_stderr():  # libpng's own "Write Error": the line below says it for us
                        written = cv2.imwrite(str(tmp), frame) and cv2.imread(str(tmp)) is not None
                    if not written:
                        raise OSError("the file written is incomplete (is the disk full?)")
            except OSError as e:
                raise InputError(f"cannot write the annotated copy {out}: {os_reason(e)}") from None
        found = ", ".join(f.emotion for f in faces)
        return len(records), f"{len(faces)} face{'s' if len(faces) != 1 else ''}: {found}" if faces else "no face"

    def video(self, path):
        from emojify.capture import WEB_VIDEO_SUFFIX, SourceError, VideoWriter, open_source
        try:
            source = open_source(str(path))
        except SourceError as e:
            raise InputError(f"{path}: not a readable video") from e
        writer, out = None, None
        bar = progress_bar(source.frame_count, "frame")
        per_face, faceless, analysed = Counter(), 0, 0
        n_faces, index, faces = 0, 0, []
        try:
            while True:
                ok, frame = source.read()
                if not ok or frame is None:
                    break
                if index % self.every == 0:
                    faces = self.faces_of(frame)
                    per_face.update(f.emotion for f in faces)
                    faceless += not faces
                    analysed += 1
                    records = face_records(path, index, index / source.fps, faces)
                    for record in records:
                        self.outputs.write(record)
                    n_faces += len(records)
                if self.emojis is not None:
                    if writer is None:
                        out = self.outputs.annotated_path(path, WEB_VIDEO_SUFFIX)
                        writer = VideoWriter(partial_path(out), source.fps, (frame.shape[1], frame.shape[0]))
                    writer.write(self.draw(frame, faces))  # between analysed frames: the latest boxes
                index += 1
                if bar is not None and index < bar.target:  # the last step comes with finalize below
                    bar.add(1)
        finally:
            source.release()
            if bar is not None:
                bar.update(bar.target, finalize=True)
            if writer is not None:
                if writer.finish():
                    os.replace(writer.path, out)
                else:  # a full disk, say: OpenCV's writer never reports it, the file shows it
                    writer.path.unlink(missing_ok=True)
                    raise InputError(f"{out}: the annotated video could not be written completely "
                                     "(is the disk full?)")
        if index == 0:
            raise InputError(f"{path}: video has no frames")
        total = sum(per_face.values())
        share = ", ".join(f"{e} {n / total:.0%}" for e, n in per_face.most_common())
        line = (f"{index} frames ({analysed} analysed); {n_faces} face(s)" + (f": {share}" if total else "")
                + (f"; no face in {faceless / analysed:.0%} of the frames" if faceless else ""))
        return n_faces, line

    def draw(self, frame, faces):
        from emojify.overlay import draw_faces
        return draw_faces(frame, faces, self.emojis)


def parse_args(argv):
    p = make_parser(__doc__)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive) or video files")
    p.add_argument("--model", type=Path, default=MODEL_PATH, help="trained model")
    p.add_argument("--json", type=Path, help="write one JSON line per face here (- for standard output)")
    p.add_argument("--csv", type=Path, help="write one CSV row per face here (- for standard output)")
    p.add_argument("--annotate", type=Path, metavar="DIR", help="write copies with boxes, labels and emoji here")
    p.add_argument("--every", type=int, default=1, metavar="N", help="analyse every N-th video frame")
    p.add_argument("--no-detect", action="store_true", help="inputs are face crops: the whole image is the face")
    add_views_option(p, default=4, why=", the most accurate")
    args = p.parse_args(argv)
    if args.every < 1:
        p.error(f"--every must be at least 1; received {args.every}")
    return args


@main_guard
def main(argv=None):
    args = parse_args(argv)
    from emojify.inference import EmotionClassifier, load_model

    items, errors = expand_inputs(args.inputs)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if not items:
        print("error: nothing to analyse", file=sys.stderr)
        return 1
    check_outputs(args, items)
    report = sys.stderr if "-" in (str(args.json), str(args.csv)) else sys.stdout  # stdout may carry the data
    classifier = EmotionClassifier(load_model(args.model), views=args.views)
    try:
        outputs = Outputs(args.json, args.csv, args.annotate, protect=[p for p, _ in items])
    except OSError as e:
        raise OutputError(f"cannot create output: {e}") from None
    analyser = Analyser(classifier, outputs, every=args.every, detect=not args.no_detect)
    failed, read, faces = len(errors), 0, 0
    started = time.perf_counter()
    try:
        for path, kind in items:
            try:
                if kind == "image":
                    n, line = analyser.image(path)
                elif kind == "video":
                    n, line = analyser.video(path)
                else:  # an unknown extension: an image, else a video, else neither
                    try:
                        n, line = analyser.image(path)
                    except InputError:
                        n, line = analyser.video(path)
                read += 1
                faces += n
                print(f"{path}: {line}", file=report, flush=True)
            except InputError as e:
                failed += 1
                print(f"error: {e}", file=sys.stderr)
            except Exception as e:  # one bad input never stops the others
                if interrupted(e):
                    raise KeyboardInterrupt from e
                failed += 1
                print(f"error: {path}: {type(e).__name__}: {e}", file=sys.stderr)
    except KeyboardInterrupt:
        print("Interrupted: the records written so far are kept.", file=sys.stderr)
        failed += 1
    finally:
        outputs.close()
    wall = time.perf_counter() - started
    print(f"Read {read} file(s), {failed} failed; {faces} face(s) found in {analyser.frames} image(s)/frame(s).",
          file=report)
    if analyser.faceless_images:
        hint = "" if args.no_detect else " (face crops? use --no-detect)"
        print(f"No face found in {len(analyser.faceless_images)} image(s){hint}.", file=report)
    if analyser.counts:
        print("Emotions: " + ", ".join(f"{e} {n}" for e, n in analyser.counts.most_common()), file=report)
    print(f"Throughput: {analyser.frames / max(wall, 1e-9):.1f} frames/s", file=report)
    if outputs.failed:
        print(f"Not complete: {', '.join(outputs.failed)} (see the error above).", file=report)
    return 1 if failed or outputs.failed else 0


if __name__ == "__main__":
    sys.exit(main())
