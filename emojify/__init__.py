"""Emojify: live emotion recognition with emoji, as a library (see docs/ARCHITECTURE.md).

    from emojify import Recognizer
    faces = Recognizer().analyze("photo.jpg")   # [FaceResult(box, emotion, confidence, probabilities, emoji)]
"""
from emojify.config import VERSION as __version__  # config imports nothing but pathlib: safe before preflight

__all__ = ["__version__", "Recognizer", "FaceResult", "VideoFrame"]


def __getattr__(name):
    # Imported when first asked for: `import emojify` (as every script's preflight does) stays free of OpenCV.
    if name in ("Recognizer", "FaceResult", "VideoFrame"):
        from emojify.api import FaceResult, Recognizer, VideoFrame
        return {"Recognizer": Recognizer, "FaceResult": FaceResult, "VideoFrame": VideoFrame}[name]
    raise AttributeError(f"module 'emojify' has no attribute {name!r}")
