"""Make test videos from FER-2013 face images: each face scaled up into a 640x480 frame, drifting slowly.

    python benchmarks/videos.py ../shared/fer2013/test --faces 1 --out one_face.mp4
"""
import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

# Face images that the detector finds reliably when scaled up (checked by tests/test_pipeline.py).
DEFAULT_FACES = {
    "happy": "happy/PublicTest_10130075.jpg",
    "surprise": "surprise/PublicTest_10709121.jpg",
    "neutral": "neutral/PublicTest_10262886.jpg",
}


def face_frame(faces, size=(640, 480), face_px=(220, 180, 160), t=0.0, background=None):
    """A BGR frame with each gray face image scaled to face_px[i] pixels, laid out left to right."""
    w, h = size
    frame = background.copy() if background is not None else np.full((h, w, 3), 96, np.uint8)
    n = len(faces)
    for i, face in enumerate(faces):
        side = face_px[i % len(face_px)]
        big = cv2.resize(face, (side, side), interpolation=cv2.INTER_CUBIC)
        cx = int(w * (i + 0.5) / n + 12 * np.sin(t * 1.3 + i))
        cy = int(h * 0.5 + 10 * np.cos(t + i))
        x0 = int(np.clip(cx - side // 2, 0, w - side))
        y0 = int(np.clip(cy - side // 2, 0, h - side))
        frame[y0:y0 + side, x0:x0 + side] = big[..., None]
    return frame


def background_frame(size=(640, 480), seed=0):
    """A soft, textured backdrop so the detector works on something like a room, not a flat card."""
    rng = np.random.default_rng(seed)
    small = rng.integers(40, 200, (6, 8, 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, size, interpolation=cv2.INTER_CUBIC), (0, 0), 9)


def write_video(path, faces, frames=60, fps=30.0, size=(640, 480), face_px=None, blank_every=0):
    """Write an MP4 of `frames` frames showing `faces` (gray arrays); blank_every=k leaves every k-th
    second without faces. Returns the path."""
    path = Path(path)
    if face_px is None:
        face_px = {1: (240,), 2: (230, 200), 3: (200, 180, 160)}.get(len(faces), (150,))
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), fps, size)
    if not writer.isOpened():
        raise RuntimeError(f"cannot write video {path}")
    back = background_frame(size)
    for i in range(frames):
        second = int(i / fps)
        shown = [] if blank_every and second % blank_every == blank_every - 1 else faces
        writer.write(face_frame(shown, size, face_px, t=i / fps, background=back))
    writer.release()
    return path


def load_faces(test_dir, names):
    faces = []
    for name in names:
        image = cv2.imread(str(Path(test_dir) / DEFAULT_FACES[name]), cv2.IMREAD_GRAYSCALE)
        if image is None:
            raise FileNotFoundError(f"face image {Path(test_dir) / DEFAULT_FACES[name]} not found")
        faces.append(image)
    return faces


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("test_dir", type=Path, help="FER-2013 test folder (emotion subfolders)")
    p.add_argument("--faces", type=int, default=1, choices=(1, 2, 3))
    p.add_argument("--frames", type=int, default=300)
    p.add_argument("--out", type=Path, required=True)
    args = p.parse_args(argv)
    try:
        faces = load_faces(args.test_dir, list(DEFAULT_FACES)[: args.faces])
    except FileNotFoundError as e:
        sys.exit(f"error: {e}")
    write_video(args.out, faces, frames=args.frames)
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
