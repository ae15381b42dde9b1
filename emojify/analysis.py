"""Photos and videos to face records, one input at a time: predict.py's work, on this computer or on a Ray
worker (emojify.scale)."""
import os
import time
from collections import Counter

from emojify.atomic import atomic_path, partial_path
from emojify.cli import interrupted, progress_bar
from emojify.errors import InputError, os_reason
from emojify.quiet import quiet_stderr
from emojify.records import face_records


class Analyser:
    """Faces of photos and videos as records, handed to outputs (write, annotate_dir, annotated_path) as they
    are found; totals in frames, seconds, counts and faceless_images."""

    MIN_CROP_PX = 240  # --no-detect annotations are enlarged to this, so that the label can be read

    def __init__(self, classifier, outputs, every=1, detect=True, progress=True):
        from emojify.faces import Face, build_photo_pipeline
        from emojify.overlay import load_emojis
        self.pipelines = {"image": build_photo_pipeline(classifier), "video": build_photo_pipeline(classifier, False)}
        self.classifier, self.Face = classifier, Face
        self.outputs, self.every, self.detect, self.progress = outputs, every, detect, progress
        self.emojis = load_emojis(size=128) if outputs.annotate_dir else None
        self.frames = 0
        self.seconds = 0.0
        self.counts = Counter()
        self.faceless_images = []

    def __call__(self, path, kind):
        """(faces found, one line saying what) for an input of kind 'image', 'video' or None (either)."""
        if kind == "image":
            return self.image(path)
        if kind == "video":
            return self.video(path)
        try:  # an unknown extension: an image, else a video, else neither
            return self.image(path)
        except InputError:
            return self.video(path)

    def faces_of(self, frame, kind="image"):
        from emojify.dataset import to_face_array
        started = time.perf_counter()
        if self.detect:
            faces = self.pipelines[kind](frame).faces
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
        bar = progress_bar(source.frame_count, "frame") if self.progress else None
        per_face, faceless, analysed = Counter(), 0, 0
        n_faces, index, faces, followed = 0, 0, [], []
        try:
            while True:
                ok, frame = source.read()
                if not ok or frame is None:
                    break
                if index % self.every == 0:
                    faces = self.faces_of(frame, "video")
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


def analyse_each(analyser, items):
    """(path, (faces, line)) or (path, an error line) for each (path, kind), in order: one bad input never stops
    the others."""
    for path, kind in items:
        try:
            result = analyser(path, kind)
        except InputError as e:
            result = str(e)
        except Exception as e:
            if interrupted(e):
                raise KeyboardInterrupt from e
            result = f"{path}: {type(e).__name__}: {e}"
        yield path, result
