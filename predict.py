"""Analyse photos, folders and video files without a window: one record per face found.

    python predict.py photos/ clip.mp4 --json faces.jsonl --csv faces.csv --annotate annotated/
    python predict.py crops/ --no-detect          # inputs are face crops already
    python predict.py talk.mp4 --every 5          # every 5th video frame

Records are written as they arrive, so an interrupted run keeps what it did. Unreadable inputs get one
line on stderr each and the rest is still processed; the exit code is 1 if any input or output failed.
"""
from emojify import preflight

preflight.require()  # first: a missing package, or Ctrl+C from here on, is one line

import os  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify.atomic import atomic_path, partial_path  # noqa: E402
from emojify.cli import (add_backend_option, add_views_option, interrupted, main_guard, make_parser,  # noqa: E402
                         progress_bar)
from emojify.config import IMAGE_SUFFIXES, MODEL_PATH, VIDEO_SUFFIXES  # noqa: E402
from emojify.errors import OutputError, os_reason  # noqa: E402
from emojify.outputs import InputError, Outputs, check_outputs, files_read, unfinished_copies  # noqa: E402
from emojify.quiet import quiet_stderr  # noqa: E402
from emojify.records import face_records  # noqa: E402


def expand_inputs(inputs):
    """Paths as given -> ([(path, 'image'|'video'|None)], [error lines], {path: its place}); folders are
    searched recursively, and a file found in one has its path inside it as its place (with several folders
    given, under the folder's name), which annotated copies keep."""
    found, errors, places = [], [], {}
    folders = sum(Path(given).is_dir() for given in inputs)
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith(".")
                           and p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES)
            if not files:
                errors.append(f"{path}: folder holds no images or videos")
            found += [(p, "video" if p.suffix.lower() in VIDEO_SUFFIXES else "image") for p in files]
            places.update({p: (Path(path.resolve().name) if folders > 1 else Path()) / p.relative_to(path)
                           for p in files})
        elif path.is_file():
            suffix = path.suffix.lower()
            found.append((path, "image" if suffix in IMAGE_SUFFIXES else "video" if suffix in VIDEO_SUFFIXES
                          else None))
        else:
            errors.append(f"{path}: not found")
    return found, errors, places


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
        writer, out, unwritable = None, None, None
        bar = progress_bar(source.frame_count, "frame")
        per_face, faceless, analysed = Counter(), 0, 0
        n_faces, index, faces, followed = 0, 0, [], []
        try:
            while True:
                ok, frame = source.read()
                if not ok or frame is None:
                    break
                if index % self.every == 0:
                    faces = self.faces_of(frame)
                    followed = self.templates(frame, faces)
                    per_face.update(f.emotion for f in faces)
                    faceless += not faces
                    analysed += 1
                    records = face_records(path, index, index / source.fps, faces)
                    for record in records:
                        self.outputs.write(record)
                    n_faces += len(records)
                elif self.emojis is not None and self.detect:  # between analysed frames boxes follow the faces
                    faces, followed = self.follow(frame, followed)
                if self.emojis is not None and not unwritable:
                    if writer is None:
                        out = self.outputs.annotated_path(path, WEB_VIDEO_SUFFIX)
                        try:
                            writer = VideoWriter(partial_path(out), source.fps, (frame.shape[1], frame.shape[0]))
                        except SourceError as e:  # the records go on; the input is reported as failed
                            unwritable = f"{path}: no annotated copy {out.name}: {e}"
                    if writer is not None:
                        writer.write(self.draw(frame, faces))
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
        if unwritable:
            raise InputError(unwritable)
        total = sum(per_face.values())
        share = ", ".join(f"{e} {n / total:.0%}" for e, n in per_face.most_common())
        line = (f"{index} frames ({analysed} analysed); {n_faces} face(s)" + (f": {share}" if total else "")
                + (f"; no face in {faceless / analysed:.0%} of the frames" if faceless else ""))
        return n_faces, line

    def templates(self, frame, faces):
        """[(face, its patch)] for following the faces into the frames that are not analysed."""
        if self.emojis is None or self.every == 1:
            return []
        from emojify.dataset import to_gray
        from emojify.detect import crop_faces
        return list(zip(faces, crop_faces(to_gray(frame), [f.box for f in faces], 32)))

    def follow(self, frame, followed):
        """The faces of the last analysed frame where they are now (lost ones dropped), and what to follow next."""
        from emojify.dataset import to_gray
        from emojify.detect import follow
        gray, kept = to_gray(frame), []
        for face, template in followed:
            box = follow(gray, face.box, template)
            if box is not None:
                kept.append((self.Face(tuple(box), face.probs), template))
        return [face for face, _ in kept], kept

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
    add_backend_option(p)
    args = p.parse_args(argv)
    if args.every < 1:
        p.error(f"--every must be at least 1; received {args.every}")
    return args


@main_guard
def main(argv=None):
    args = parse_args(argv)
    from emojify.backends import open_classifier

    items, errors, places = expand_inputs(args.inputs)
    for line in errors:
        print(f"error: {line}", file=sys.stderr)
    if not items:
        print("error: nothing to analyse", file=sys.stderr)
        return 1
    check_outputs(args, items)
    for line in unfinished_copies(args.annotate):
        print(f"warning: {line}", file=sys.stderr)
    report = sys.stderr if "-" in (str(args.json), str(args.csv)) else sys.stdout  # stdout may carry the data
    classifier = open_classifier(args.model, views=args.views, backend=args.backend,
                                 say=lambda line: print(line, file=report, flush=True))
    try:
        outputs = Outputs(args.json, args.csv, args.annotate, protect=files_read(items, args.model))
        outputs.places = places
    except OSError as e:
        raise OutputError(f"cannot create {e.filename or 'an output'}: {os_reason(e)}") from None
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
                copy = outputs.copies.get(Path(path))
                print(f"{path}: {line}" + (f" -> {copy}" if copy else ""), file=report, flush=True)
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
    report_totals(analyser, outputs, read, failed, faces, time.perf_counter() - started, args.no_detect, report)
    return 1 if failed or outputs.failed else 0


def report_totals(analyser, outputs, read, failed, faces, wall, no_detect, report):
    print(f"Read {read} file(s), {failed} failed; {faces} face(s) found in {analyser.frames} image(s)/frame(s).",
          file=report)
    if analyser.faceless_images:
        hint = "" if no_detect else " (face crops? use --no-detect)"
        print(f"No face found in {len(analyser.faceless_images)} image(s){hint}.", file=report)
    if analyser.counts:
        print("Emotions: " + ", ".join(f"{e} {n}" for e, n in analyser.counts.most_common()), file=report)
    print(f"Throughput: {analyser.frames / max(wall, 1e-9):.1f} frames/s", file=report)
    if outputs.failed:
        print(f"Not complete: {', '.join(outputs.failed)} (see the error above).", file=report)


if __name__ == "__main__":
    sys.exit(main())
