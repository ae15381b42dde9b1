"""What the app draws over a picture: a box and label per face, in one colour per emotion, and emoji."""
import cv2
import numpy as np

from emotions import DISPLAY_NAMES, EMOTIONS, emoji_path
from errors import ResourceError

# Box colour per emotion (BGR), shared by the live view and annotated copies.
COLORS = {"angry": (40, 40, 220), "disgust": (40, 150, 40), "fear": (160, 60, 160), "happy": (0, 200, 255),
          "neutral": (200, 200, 200), "sad": (200, 120, 40), "surprise": (0, 140, 255)}


def draw_faces(frame, faces, emojis=None):
    """Draw each face's box and 'Emotion 87%' label onto a BGR frame in place; returns the frame.

    emojis: optional {emotion: BGRA image}; when given, each box also gets its emoji.
    """
    thickness = max(2, frame.shape[1] // 320)
    font_scale = max(0.5, frame.shape[1] / 1100)
    for face in faces:
        x, y, w, h = face.box
        color = COLORS[face.emotion]
        cv2.rectangle(frame, (x, y), (x + w, y + h), color, thickness)
        text = f"{DISPLAY_NAMES[face.emotion]} {face.confidence:.0%}"
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, font_scale, thickness)
        ty = y - 6 if y - th - base - 6 >= 0 else y + h + th + 6
        cv2.rectangle(frame, (x, ty - th - base), (x + tw + 6, ty + base), color, cv2.FILLED)
        cv2.putText(frame, text, (x + 3, ty), cv2.FONT_HERSHEY_SIMPLEX, font_scale, (0, 0, 0), thickness,
                    cv2.LINE_AA)
        if emojis is not None:  # inside the box's top-right corner: never over a neighbour, never off-frame
            size = max(16, w // 4)
            paste_rgba(frame, emojis[face.emotion], x + w - size - thickness, y + thickness, size)
    return frame


def paste_rgba(frame, rgba, x, y, size):
    """Alpha-blend a BGRA image, resized to size x size, onto a BGR frame at (x, y), clipped to the frame."""
    icon = cv2.resize(rgba, (size, size), interpolation=cv2.INTER_AREA)
    fh, fw = frame.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + size, fw), min(y + size, fh)
    if x0 >= x1 or y0 >= y1:
        return
    icon = icon[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = icon[..., 3:4].astype(np.float32) / 255.0
    roi = frame[y0:y1, x0:x1]
    roi[:] = (icon[..., :3] * alpha + roi * (1.0 - alpha)).astype(np.uint8)


def load_emojis(size=None):
    """{emotion: BGRA image} from emojis/, optionally resized."""
    out = {}
    for emotion in EMOTIONS:
        image = cv2.imread(str(emoji_path(emotion)), cv2.IMREAD_UNCHANGED)
        if image is None:
            raise ResourceError(f"emoji image {emoji_path(emotion)} is missing; "
                                    "restore emojis/ from the repository.")
        out[emotion] = image if size is None else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return out
