"""Analyse photos, folders and video files without a window: one record per face found.

    python predict.py photos/ clip.mp4 --json faces.jsonl --csv faces.csv --annotate annotated/
    python predict.py crops/ --no-detect          # inputs are face crops already
    python predict.py talk.mp4 --every 5          # every 5th video frame

Records are written as they arrive, so an interrupted run keeps what it did. Unreadable inputs get one
line on stderr each and the rest is still processed; the exit code is 1 if any input or output failed.
"""
from emojify import preflight

preflight.require()  # first: a missing package, or Ctrl+C from here on, is one line

import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify.analysis import Analyser, analyse_each  # noqa: E402
from emojify.cli import add_backend_option, add_views_option, main_guard, make_parser  # noqa: E402
from emojify.config import IMAGE_SUFFIXES, MODEL_PATH, VIDEO_SUFFIXES  # noqa: E402
from emojify.errors import AppError, OutputError, os_reason  # noqa: E402
from emojify.outputs import Outputs, check_outputs, files_read, unfinished_copies  # noqa: E402


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
    p.add_argument("--engine", choices=("local", "ray"), default="local",
                   help="where the inputs are analysed: here, or spread over a Ray cluster (pip install -r "
                        "requirements-scale.txt)")
    p.add_argument("--address", help="with --engine ray: a running cluster's address (HOST:PORT, or auto); "
                                     "without it a local Ray is started for the run")
    p.add_argument("--workers", type=int, metavar="N",
                   help="with --engine ray: workers, each loading the model once (default: one per CPU)")
    args = p.parse_args(argv)
    if args.every < 1:
        p.error(f"--every must be at least 1; received {args.every}")
    if args.engine != "ray" and (args.address or args.workers):
        p.error("--address and --workers go with --engine ray")
    if args.workers is not None and args.workers < 1:
        p.error(f"--workers must be at least 1; received {args.workers}")
    if args.engine == "ray" and args.annotate:
        p.error("--annotate runs with the local engine only: leave out --engine ray, or --annotate")
    return args


@main_guard
def main(argv=None):
    args = parse_args(argv)
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
    say = lambda line: print(line, file=report, flush=True)  # noqa: E731
    engine = open_engine(args, say)
    try:
        outputs = Outputs(args.json, args.csv, args.annotate, protect=files_read(items, args.model))
        outputs.places = places
    except OSError as e:
        engine.close()
        raise OutputError(f"cannot create {e.filename or 'an output'}: {os_reason(e)}") from None
    failed, read, faces = len(errors), 0, 0
    started = time.perf_counter()
    try:
        for path, result in engine.run(items, outputs):
            if isinstance(result, str):
                failed += 1
                print(f"error: {result}", file=sys.stderr)
                continue
            n, line = result
            read += 1
            faces += n
            copy = outputs.copies.get(Path(path))
            print(f"{path}: {line}" + (f" -> {copy}" if copy else ""), file=report, flush=True)
    except KeyboardInterrupt:
        print("Interrupted: the records written so far are kept.", file=sys.stderr)
        failed += 1
    finally:
        outputs.close()
        engine.close()
    report_totals(engine.totals, outputs, read, failed, faces, time.perf_counter() - started, args.no_detect, report)
    return 1 if failed or outputs.failed else 0


class LocalEngine:
    """The inputs analysed one after another in this process; totals as the Analyser keeps them."""

    def __init__(self, classifier, every, detect):
        self.classifier, self.every, self.detect = classifier, every, detect

    def run(self, items, outputs):
        self.totals = Analyser(self.classifier, outputs, every=self.every, detect=self.detect)
        return analyse_each(self.totals, items)  # totals exist from here, even if no input is ever reached

    def close(self):
        pass


def open_engine(args, say):
    """What analyses the inputs: this process, or Ray workers (--engine ray)."""
    if args.engine == "ray":
        if preflight.missing(preflight.SCALE_PACKAGES):
            raise AppError(f"ray not installed; --engine ray needs it: `{preflight.how_to_install('scale')}`.")
        from emojify.scale import RayEngine
        return RayEngine(args.model, args.views, args.backend, args.every, not args.no_detect,
                         address=args.address, workers=args.workers, say=say)
    from emojify.backends import open_classifier
    return LocalEngine(open_classifier(args.model, views=args.views, backend=args.backend, say=say),
                       args.every, not args.no_detect)


def report_totals(totals, outputs, read, failed, faces, wall, no_detect, report):
    print(f"Read {read} file(s), {failed} failed; {faces} face(s) found in {totals.frames} image(s)/frame(s).",
          file=report)
    if totals.faceless_images:
        hint = "" if no_detect else " (face crops? use --no-detect)"
        print(f"No face found in {len(totals.faceless_images)} image(s){hint}.", file=report)
    if totals.counts:
        print("Emotions: " + ", ".join(f"{e} {n}" for e, n in totals.counts.most_common()), file=report)
    print(f"Throughput: {totals.frames / max(wall, 1e-9):.1f} frames/s", file=report)
    if outputs.failed:
        print(f"Not complete: {', '.join(outputs.failed)} (see the error above).", file=report)


if __name__ == "__main__":
    sys.exit(main())
