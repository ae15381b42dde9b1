"""Where a run's results go (predict.py): JSON lines, CSV and annotated copies, checked before anything is
opened (an output never replaces a file the run reads, a hard link counts), opened whole or not at all, and
written record by record."""
import csv
import io
import os
import sys
from pathlib import Path

from emojify.atomic import LineFile
from emojify.config import CASCADE_PATH, IMAGE_SUFFIXES, VIDEO_SUFFIXES
from emojify.errors import InputError, OutputError, os_reason
from emojify.records import CSV_COLUMNS, csv_row, json_line


def same_file(a, b):
    """True when a and b are one file on disk: a hard link or another spelling of its path counts."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return Path(a).resolve() == Path(b).resolve()


def files_read(items, model):
    """Every file a run reads: the inputs, the model, the face detector and the emoji pictures."""
    from emojify.emotions import EMOJI_DIR
    return [Path(p) for p, _ in items] + [Path(model), CASCADE_PATH, *sorted(EMOJI_DIR.glob("*.png"))]


def creatable_folder(path):
    """Why the folder path cannot be created, or None: the nearest existing part of it must be a folder."""
    for part in [path, *path.parents]:
        if part.exists():
            return None if part.is_dir() else f"{part} is a file, not a folder"
    return None


def check_outputs(args, items):
    """Refuse, before any output is opened: an output that is a file the run reads (compared as files, so a
    hard link counts) or looks like an input, one that another output names, and one that cannot be made."""
    read = files_read(items, args.model)
    if str(args.json) == "-" and str(args.csv) == "-":
        raise OutputError("--json - and --csv - would both go to standard output; send one of them to a file.")
    seen = []
    for flag, path in (("--json", args.json), ("--csv", args.csv)):
        if path is None or str(path) == "-":
            continue
        if path.is_dir():
            raise OutputError(f"{flag} {path} is a folder; give the name of a file to write.")
        if any(same_file(path, p) for p, _ in items) or (path.exists() and path.suffix.lower() in
                                                          IMAGE_SUFFIXES | VIDEO_SUFFIXES):
            raise OutputError(f"{flag} {path} is an input (or looks like one) and would be overwritten; if a "
                              f"wildcard was expanded right after {flag}, put {flag} and its file name first.")
        if any(same_file(path, r) for r in read):
            raise OutputError(f"{flag} {path} is a file this run reads (the model, or one of the app's own) and "
                              "would be overwritten; give another file name.")
        for other_flag, other in seen:
            if same_file(path, other):
                raise OutputError(f"{other_flag} and {flag} both name {path}; give each output its own file.")
        if not path.parent.is_dir():
            why = creatable_folder(path.parent) or f"folder {path.parent} does not exist"
            raise OutputError(f"cannot write {flag} {path}: {why}.")
        seen.append((flag, path))
    if args.annotate is not None:
        if any(same_file(args.annotate, p) for p, _ in items if Path(p).is_file()):
            raise OutputError(f"--annotate {args.annotate} is an input file; give a folder for the annotated "
                              "copies.")
        why = creatable_folder(args.annotate)
        if why:
            raise OutputError(f"--annotate {args.annotate}: {why}; give a folder for the annotated copies.")


class Outputs:
    """JSON lines and CSV written record by record (atomic.LineFile), plus annotated copies, so a crash or
    Ctrl+C keeps every record that was complete. A file that cannot be written (a full disk) is reported once
    and dropped; the other outputs go on."""

    def __init__(self, json_path=None, csv_path=None, annotate_dir=None, protect=()):
        """Opened whole or not at all: the folder first, then each file without emptying it, and only once all
        are open is any old content dropped, so that a refused run leaves every old output as it was."""
        self.annotate_dir = Path(annotate_dir) if annotate_dir else None
        if self.annotate_dir:
            self.annotate_dir.mkdir(parents=True, exist_ok=True)
        opened = []
        try:
            for path in (json_path, csv_path):
                opened.append(LineFile(path, truncate=False) if path else None)
        except OSError:
            for f in opened:
                if f:
                    f.close()
            raise
        self.json, self.csv = opened
        for f in opened:
            if f:
                f.truncate()
        self.failed = []
        if self.csv:
            self._csv_line(CSV_COLUMNS)
        # Files an annotated copy must never replace: what the run reads, and its other outputs.
        self.protect = [Path(p) for p in protect] + [Path(f.path) for f in opened if f and f.path != "-"]
        self.used = set()
        self.places = {}  # input -> its path inside the folder it was found in (set by the caller)
        self.copies = {}  # input -> its annotated copy

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
        """A fresh name in the annotate folder derived from the source, in the subfolders the source has in the
        folder it was found in (self.places); never a file the run reads or writes. Recorded in self.copies."""
        place = Path(self.places.get(Path(source), Path(source).name))
        stem = place.stem
        for n in range(1, 10_000):
            name = f"{stem}.annotated{suffix}" if n == 1 else f"{stem}.annotated-{n}{suffix}"
            path = self.annotate_dir / place.parent / name
            if not any(same_file(path, p) for p in self.protect) and path.resolve() not in self.used:
                self.used.add(path.resolve())
                path.parent.mkdir(parents=True, exist_ok=True)
                self.copies[Path(source)] = path
                return path
        raise InputError(f"{source}: no free name for its annotated copy")

    def close(self):
        for f in (self.json, self.csv):
            if f:
                f.close()


def unfinished_copies(folder):
    """Annotated copies a killed run left half-written in folder (hidden .NAME.partial files): each is renamed
    to a visible NAME.unfinished file, kept (a video plays up to where it was cut); a line for each."""
    lines = []
    for hidden in sorted(Path(folder).glob(".*.partial.*")) if folder is not None and Path(folder).is_dir() else ():
        visible = hidden.with_name(hidden.name[1:].replace(".partial.", ".unfinished.", 1))
        if visible.exists():
            continue
        os.replace(hidden, visible)
        lines.append(f"an earlier run was stopped while it wrote {visible.name}; what it wrote is kept as {visible}")
    return lines
