"""Settings every module shares: where the app's own files are, the face size, the file types it reads."""
from pathlib import Path

VERSION = "1.3"  # also emojify.__version__; CHANGELOG.md says what each brought

ROOT = Path(__file__).resolve().parents[1]  # the repository: model, face detector, emoji, docs
MODEL_PATH = ROOT / "model.h5"  # the ensemble: photos, videos and evaluation
LIVE_MODEL_PATH = ROOT / "emojify" / "models" / "live.h5"  # the live picture's: a small student (docs/TRAINING.md)
CASCADE_PATH = ROOT / "haarcascade_frontalface_default.xml"

FACE_SIZE = 48  # FER-2013 faces are 48x48 grayscale: the model's input
VIEWS = (1, 2, 4)  # views a classifier can average per face (inference.EmotionClassifier)
BACKENDS = ("auto", "litert", "keras")  # what runs the model (backends.open_classifier)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})

# TensorFlow's C++ log: "2" keeps errors, drops the notices it prints on every start.
TF_LOG_LEVEL = "2"
