"""Settings every module shares: where the app's own files are, the face size, the file types it reads."""
from pathlib import Path

VERSION = "1.4"  # also emojify.__version__; CHANGELOG.md says what each brought

PACKAGE = Path(__file__).resolve().parent
ROOT = PACKAGE.parent  # in a clone, the repository: model, face detector, emoji, docs
# An installed wheel carries the root's model, face detector and emoji in emojify/assets (pyproject.toml); a
# clone, editable installs included, reads them where they are.
ASSETS = PACKAGE / "assets" if (PACKAGE / "assets" / "model.h5").is_file() else ROOT
MODEL_PATH = ASSETS / "model.h5"  # the ensemble: photos, videos and evaluation
LIVE_MODEL_PATH = PACKAGE / "models" / "live.h5"  # the live picture's: a small student (docs/TRAINING.md)
CASCADE_PATH = ASSETS / "haarcascade_frontalface_default.xml"
EMOJI_DIR = ASSETS / "emojis"
RESULTS_DIR = ASSETS / "docs" / "results"  # what the shipped models scored (Help > About)
INSTALLED = ASSETS != ROOT
WORK = Path(".") if INSTALLED else ROOT  # where training's data, runs and model go by default

FACE_SIZE = 48  # FER-2013 faces are 48x48 grayscale: the model's input
VIEWS = (1, 2, 4)  # views a classifier can average per face (inference.EmotionClassifier)
# A face at least this sharp (detect.sharpness) is read as FER-2013's are (model.build_gated): 99 % of its
# training faces are (the median is 249; film crops 83, detected photos of people 128).
SHARP_LEVEL = 160.0
BACKENDS = ("auto", "litert", "keras")  # what runs the model (backends.open_classifier)

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm"})
VIDEO_SUFFIXES = frozenset({".mp4", ".avi", ".mov", ".mkv", ".webm", ".m4v", ".mpg", ".mpeg", ".wmv", ".flv"})

# TensorFlow's C++ log: "2" keeps errors, drops the notices it prints on every start.
TF_LOG_LEVEL = "2"
