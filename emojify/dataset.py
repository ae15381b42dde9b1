"""Load labelled faces: a folder of emotion subfolders (Kaggle FER-2013 layout) or the original fer2013.csv.

Every image, whatever its size or colour, becomes a 48x48 uint8 grayscale array, the model's input.
"""
import csv
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import cv2
import numpy as np

from emojify.config import FACE_SIZE, IMAGE_SUFFIXES
from emojify.emotions import EMOTIONS, NUM_CLASSES, label_index
from emojify.errors import DatasetError
LAYOUT_HINT = ("expected a folder with one subfolder per emotion ("
               + ", ".join(EMOTIONS) + ") holding face images, as in the Kaggle FER-2013 download")
CSV_USAGES = ("Training", "PublicTest", "PrivateTest")


def as_uint8(image):
    """16-bit or float images (some PNG/TIFF files) stretched to 0-255 uint8; uint8 passes through."""
    if image.dtype == np.uint8:
        return image
    return cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)


def to_gray(image):
    """Any gray/BGR/BGRA image -> uint8 grayscale."""
    image = as_uint8(image)
    if image.ndim == 3:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY if image.shape[2] == 4 else cv2.COLOR_BGR2GRAY)
    return image


def to_bgr(image):
    """Any gray/BGR/BGRA image -> uint8 BGR."""
    image = as_uint8(image)
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    return cv2.cvtColor(image, cv2.COLOR_BGRA2BGR) if image.shape[2] == 4 else image


def square(image):
    """A taller or wider picture made square by repeating its edge pixels on the short sides, centred.

    A face crop is squashed otherwise: film crops 143x181 lose a fifth of their width, and the model learned
    faces in their own proportions (benchmarks/framing.py: SFEW 44.4 -> 45.1 % for the ensemble, 1 view)."""
    h, w = image.shape[:2]
    if h == w:
        return image
    side = max(h, w)
    top, left = (side - h) // 2, (side - w) // 2
    return cv2.copyMakeBorder(image, top, side - h - top, left, side - w - left, cv2.BORDER_REPLICATE)


def to_face_array(image, size=FACE_SIZE):
    """Any gray/BGR/BGRA image, the whole of it the face -> size x size uint8 grayscale, proportions kept."""
    image = square(to_gray(image))
    if image.shape != (size, size):
        shrinking = image.shape[0] > size or image.shape[1] > size
        image = cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR)
    return image


def read_image(path):
    """Read an image file (unicode paths too) as an array, or None if it is not a readable image."""
    try:
        data = np.fromfile(str(path), dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED)


def class_folders(root):
    """[(emotion index, folder)] for the emotion subfolders of root; raises DatasetError on anything else."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(f"data folder {root} not found: {LAYOUT_HINT}.")
    folders = sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise DatasetError(f"{root} has no subfolders: {LAYOUT_HINT}.")
    unknown = [p.name for p in folders if p.name.lower() not in EMOTIONS]
    if unknown:
        raise DatasetError(f"{root}: unknown emotion folder(s) {', '.join(unknown)}; "
                           f"known emotions: {', '.join(EMOTIONS)}.")
    return [(label_index(p.name), p) for p in folders]


def list_folder(root):
    """[(emotion index, file path)] for every file under the emotion subfolders of root."""
    items = []
    for label, folder in class_folders(root):
        items += [(label, p) for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.startswith(".")]
    if not items:
        raise DatasetError(f"{root} holds no image files: {LAYOUT_HINT}.")
    return items


def read_labelled(path):
    """An image file as an array, or None for other files and unreadable images."""
    return read_image(path) if Path(path).suffix.lower() in IMAGE_SUFFIXES else None


def load_folder(root, size=FACE_SIZE, workers=4, face=to_face_array):
    """Load a folder of emotion subfolders; face(image, size) makes each whole image a face.

    Returns (images [N, size, size] uint8, labels [N] int32, paths, skipped) where skipped lists
    (path, reason) for files that could not be read as images; they are left out, not fatal.
    """
    items = list_folder(root)

    def load(item):
        image = read_labelled(item[1])
        return None if image is None else face(image, size)

    with ThreadPoolExecutor(workers) as pool:
        arrays = list(pool.map(load, items, chunksize=256))
    images, labels, paths, skipped = [], [], [], []
    for (label, path), array in zip(items, arrays):
        if array is None:
            skipped.append((str(path), "not a readable image"))
        else:
            images.append(array)
            labels.append(label)
            paths.append(str(path))
    if not images:
        raise DatasetError(f"{root}: none of the {len(items)} files is a readable image.")
    return np.stack(images), np.asarray(labels, np.int32), paths, skipped


def load_csv(path, usage=None, size=FACE_SIZE):
    """Load the original fer2013.csv (columns emotion, pixels[, Usage]); usage filters rows by split."""
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"{path} not found.")
    if usage is not None and usage not in CSV_USAGES:
        raise DatasetError(f"usage must be one of {', '.join(CSV_USAGES)}; received {usage!r}.")
    images, labels, paths, skipped = [], [], [], []
    # Bytes that are not UTF-8 become U+FFFD, so such a row is skipped with its line number, not a traceback.
    with open(path, newline="", encoding="utf-8", errors="replace") as f:
        reader = csv.DictReader(f)
        try:
            if not reader.fieldnames or not {"emotion", "pixels"} <= set(reader.fieldnames):
                raise DatasetError(f"{path}: expected the fer2013.csv columns emotion,pixels,Usage; "
                                   f"found {reader.fieldnames}.")
            for row in reader:
                if usage is not None and row.get("Usage") != usage:
                    continue
                where = f"{path}:{reader.line_num}"
                try:
                    label = int(row["emotion"])
                    pixels = np.array(row["pixels"].split(), dtype=np.float32)
                    side = int(round(len(pixels) ** 0.5))
                    if not 0 <= label < NUM_CLASSES or side * side != len(pixels) or side == 0:
                        raise ValueError
                except (ValueError, TypeError, AttributeError):
                    skipped.append((where, "bad emotion or pixels"))
                    continue
                images.append(to_face_array(np.clip(pixels, 0, 255).astype(np.uint8).reshape(side, side), size))
                labels.append(label)
                paths.append(where)
        except csv.Error as e:  # a field past the csv module's size limit, say; line_num counts the lines before
            raise DatasetError(f"{path}:{reader.line_num + 1}: cannot be read as CSV ({e}).") from None
    if not images:
        raise DatasetError(f"{path}: no usable rows" + (f" with Usage={usage}" if usage else "") + ".")
    return np.stack(images), np.asarray(labels, np.int32), paths, skipped


def load_any(source, usage=None, size=FACE_SIZE):
    """A folder of emotion subfolders, or a fer2013-style .csv file."""
    if Path(source).suffix.lower() == ".csv":
        return load_csv(source, usage, size)
    return load_folder(source, size)


def stratified_split(labels, fraction, seed=0):
    """Indices (train, val) with `fraction` of every class in val, reproducible from seed."""
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = int(round(len(idx) * fraction))
        val.append(idx[:n_val])
        train.append(idx[n_val:])
    return np.sort(np.concatenate(train)), np.sort(np.concatenate(val))


def validation_faces(train_dir, fraction=0.1, seed=1):
    """(faces, labels) that train.py holds out of train_dir with --val-split fraction --split-seed seed:
    what assemble.py and the benchmarks that choose a setting score on (never test/)."""
    x, y, _, _ = load_folder(train_dir)
    _, val = stratified_split(y, fraction, seed=seed)
    return x[val], y[val]


def detected_faces(items, frame=None):
    """Find the largest face in each full image -> (faces, labels, paths, skipped, no_face paths).

    frame(gray, box) -> 48x48 face (default: detect.frame_faces's, as predict.py frames a face)."""
    from emojify.detect import FaceDetector, frame_faces
    frame = frame or (lambda gray, box: frame_faces(gray, [box])[0])
    # Photos vary in size: detect at up to 640 px wide, faces down to 1/10 of the shorter side.
    detector = FaceDetector(detect_width=640, min_face=0.1)
    faces, labels, paths, skipped, no_face = [], [], [], [], []
    for label, path in items:
        image = read_labelled(path)
        if image is None:
            skipped.append((str(path), "not a readable image"))
            continue
        gray = to_gray(image)
        boxes = detector(gray)
        if not len(boxes):
            no_face.append(str(path))
            continue
        faces.append(frame(gray, boxes[0]))
        labels.append(label)
        paths.append(str(path))
    if not faces:
        return np.zeros((0, FACE_SIZE, FACE_SIZE), np.uint8), np.zeros(0, np.int32), paths, skipped, no_face
    return np.stack(faces), np.asarray(labels, np.int32), paths, skipped, no_face
