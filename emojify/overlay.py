"""What the app draws over a picture: a box and label per face, in one colour per emotion, and emoji."""
import functools
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from emojify.errors import ResourceError
from emojify.emotions import COLORS, DISPLAY_NAMES, EMOTIONS, NO_FACE, UNSURE, emoji_path, heading

FONT_FILES = ("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf", "DejaVuSans-Bold.ttf", "Arial Bold.ttf")


@functools.lru_cache(maxsize=16)
def label_font(px):
    """A TrueType font px pixels tall: DejaVu Sans Bold where the system has it, else Pillow's own."""
    for name in FONT_FILES:
        try:
            return ImageFont.truetype(name, px)
        except OSError:
            continue
    return ImageFont.load_default(px)


@functools.lru_cache(maxsize=256)
def label_image(text, emotion, px):
    """The label 'Happy 87%' as a BGRA image: dark text on the emotion's colour, rounded corners."""
    font = label_font(px)
    left, top, right, bottom = font.getbbox(text)
    pad = max(2, px // 4)
    image = Image.new("RGBA", (right - left + 2 * pad, bottom - top + 2 * pad), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    b, g, r = COLORS[emotion]
    draw.rounded_rectangle((0, 0, image.width - 1, image.height - 1), radius=pad, fill=(r, g, b, 235))
    draw.text((pad - left, pad - top), text, font=font, fill=(20, 20, 20, 255))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGBA2BGRA)


def shown_as(face):
    """What a face is shown as: its emotion, or UNSURE when the model cannot tell (Face.unsure)."""
    return UNSURE if face.unsure else face.emotion


def label_text(face, numbered=False):
    """'Happy 87%', or 'Sad? 38%' for a face the model is not sure about; numbered: '2: Happy 87%', the face's
    id, as the recording's log and the session summary name it."""
    number = f"{face.id}: " if numbered and face.id is not None else ""
    return f"{number}{DISPLAY_NAMES[face.emotion]}{'?' if face.unsure else ''} {face.confidence:.0%}"


def draw_faces(frame, faces, emojis=None, cover=False, scale=1.0):
    """Draw each face's box and 'Emotion 87%' label onto a BGR frame in place; returns the frame. A face
    the model is not sure about is drawn grey, with a question mark and the thinking-face emoji; with several
    faces, each label starts with the face's id.

    emojis: optional {emotion: BGRA image}; each face gets its emoji in the box's top-right corner, or
    over the whole face with cover=True. scale: factor from the faces' box coordinates to the frame's
    (the live view detects on the camera frame and draws on the picture scaled for the screen).
    """
    thickness = max(2, frame.shape[1] // 320)
    px = max(12, round(frame.shape[1] / 45))
    for face in faces:
        x, y, w, h = (round(v * scale) for v in face.box)
        look = shown_as(face)
        if emojis is not None and cover:
            paste_rgba(frame, emojis[look], x, y, w)
        cv2.rectangle(frame, (x, y), (x + w, y + h), COLORS[look], thickness)
        label = label_image(label_text(face, numbered=len(faces) > 1), look, px)
        lh = label.shape[0]  # above the box, else below it, else inside its top edge
        ly = y - lh - 2 if y - lh - 2 >= 0 else y + h + 2 if y + h + 2 + lh <= frame.shape[0] else y + thickness
        paste_rgba(frame, label, max(x, 0) + (thickness if ly == y + thickness else 0), ly)
        if emojis is not None and not cover:  # inside the box's top-right corner: never over a neighbour
            size = max(16, w // 4)
            paste_rgba(frame, emojis[look], x + w - size - thickness, y + thickness, size)
    return frame


def paste_rgba(frame, rgba, x, y, size=None):
    """Alpha-blend a BGRA image (resized to size x size if given) onto a BGR frame at (x, y), clipped."""
    icon = rgba if size is None else cv2.resize(rgba, (size, size), interpolation=cv2.INTER_AREA)
    fh, fw = frame.shape[:2]
    ih, iw = icon.shape[:2]
    x0, y0, x1, y1 = max(x, 0), max(y, 0), min(x + iw, fw), min(y + ih, fh)
    if x0 >= x1 or y0 >= y1:
        return
    icon = icon[y0 - y:y1 - y, x0 - x:x1 - x]
    alpha = icon[..., 3:4].astype(np.float32) / 255.0
    roi = frame[y0:y1, x0:x1]
    roi[:] = (icon[..., :3] * alpha + roi * (1.0 - alpha)).astype(np.uint8)


EMOJI_NAMES = (*EMOTIONS, UNSURE, NO_FACE)


def load_emojis(size=None, folder=None, on_problem=None):
    """{name: BGRA image} for every emotion, UNSURE and NO_FACE, from emojis/, optionally resized.

    folder: the user's own pictures (avatars), one PNG per emotion name (happy.png, ...; unsure.png and
    no_face.png optional), used where one is there and readable; for each emotion whose picture is missing
    or unreadable, on_problem(name, line) is called and the built-in emoji is used."""
    out = {}
    for name in EMOJI_NAMES:
        image = None
        if folder is not None:
            custom = Path(folder) / f"{name}.png"
            image = cv2.imread(str(custom), cv2.IMREAD_UNCHANGED) if custom.is_file() else None
            if image is None and on_problem and (name in EMOTIONS or custom.is_file()):
                on_problem(name, f"{custom} is {'unreadable' if custom.is_file() else 'missing'}; the built-in "
                                 "emoji is used for it")
            elif image is not None and (image.ndim == 2 or image.shape[2] != 4):  # no transparency: opaque
                image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGRA if image.ndim == 2 else cv2.COLOR_BGR2BGRA)
        if image is None:
            image = cv2.imread(str(emoji_path(name)), cv2.IMREAD_UNCHANGED)
            if image is None:
                raise ResourceError(f"emoji image {emoji_path(name)} is missing; restore emojis/ from the "
                                    "repository.")
        out[name] = image if size is None else cv2.resize(image, (size, size), interpolation=cv2.INTER_AREA)
    return out


def draw_panel(face, emojis, height, width=260, fps=None):
    """The side panel as a BGR image (for pictures that carry it, such as the web page's live stream): the main
    face's emoji, its emotion and a bar per emotion with percentages, and the frame rate."""
    panel = np.full((height, width, 3), 245, np.uint8)
    pad = 12
    side = min(width - 2 * pad, max(48, height // 3))
    look = shown_as(face) if face is not None else NO_FACE
    paste_rgba(panel, emojis[look], (width - side) // 2, pad, side)
    image = Image.fromarray(cv2.cvtColor(panel, cv2.COLOR_BGR2RGB))
    draw = ImageDraw.Draw(image)
    title = heading(look)
    big, small = label_font(max(14, height // 20)), label_font(max(10, height // 36))
    y = pad + side + 8
    draw.text(((width - draw.textlength(title, font=big)) / 2, y), title, font=big, fill=(20, 20, 20))
    y += big.size + 10
    row = max(14, (height - y - 2 * small.size - pad) // len(EMOTIONS))
    for i, emotion in enumerate(EMOTIONS):
        p = float(face.probs[i]) if face is not None else 0.0
        top = y + i * row
        draw.text((pad, top), DISPLAY_NAMES[emotion], font=small, fill=(40, 40, 40))
        b, g, r = COLORS[emotion]
        x0 = pad + 88
        draw.rectangle((x0, top + 2, x0 + round((width - x0 - 48) * p), top + small.size), fill=(r, g, b))
        draw.text((width - pad - 34, top), f"{p:.0%}" if face is not None else "", font=small, fill=(40, 40, 40))
    if fps is not None:
        draw.text((pad, height - pad - small.size), f"{fps:.1f} fps", font=small, fill=(90, 90, 90))
    return cv2.cvtColor(np.asarray(image), cv2.COLOR_RGB2BGR)
