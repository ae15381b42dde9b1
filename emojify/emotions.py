"""The seven FER-2013 emotions: the single source of truth for labels and emoji."""
from emojify.config import EMOJI_DIR

__all__ = ["EMOTIONS", "NUM_CLASSES", "DISPLAY_NAMES", "EMOJI_CHARS", "NO_FACE", "NO_FACE_CHAR", "UNSURE",
           "UNSURE_CHAR", "UNSURE_HEADING", "NO_FACE_HEADING", "COLORS", "EMOJI_DIR", "rgb_hex", "heading",
           "emoji_path", "label_index"]

# Order matches the FER-2013 folder names sorted alphabetically, i.e. the model's output units.
EMOTIONS = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
NUM_CLASSES = len(EMOTIONS)

DISPLAY_NAMES = {
    "angry": "Angry",
    "disgust": "Disgusted",
    "fear": "Fearful",
    "happy": "Happy",
    "neutral": "Neutral",
    "sad": "Sad",
    "surprise": "Surprised",
}

# Unicode code points the emoji PNGs in emojis/ are rendered from (see emojis/make_emojis.py).
EMOJI_CHARS = {
    "angry": "\U0001F620",     # angry face
    "disgust": "\U0001F922",   # nauseated face
    "fear": "\U0001F628",      # fearful face
    "happy": "\U0001F604",     # grinning face with smiling eyes
    "neutral": "\U0001F610",   # neutral face
    "sad": "\U0001F622",       # crying face
    "surprise": "\U0001F62E",  # face with open mouth
}
NO_FACE = "no_face"
NO_FACE_CHAR = "\U0001FAE5"   # dotted line face: shown while no face is in view
UNSURE = "unsure"
UNSURE_CHAR = "\U0001F914"    # thinking face: the model cannot tell between emotions (faces.Face.unsure)

UNSURE_HEADING = "Not sure"   # the heading of a face shown as UNSURE
NO_FACE_HEADING = "No face"

# One colour per emotion (BGR), for boxes, bars and charts everywhere; UNSURE in grey, which no emotion
# comes near (neutral is a blue-green, not a lighter grey).
COLORS = {"angry": (40, 40, 220), "disgust": (40, 150, 40), "fear": (160, 60, 160), "happy": (0, 200, 255),
          "neutral": (190, 175, 95), "sad": (200, 120, 40), "surprise": (0, 140, 255), UNSURE: (150, 150, 150)}


def rgb_hex(emotion):
    """An emotion's colour as '#rrggbb', for Tk widgets."""
    b, g, r = COLORS[emotion]
    return f"#{r:02x}{g:02x}{b:02x}"


def heading(shown):
    """The heading for what a face is shown as (an emotion or UNSURE); for None or NO_FACE, 'No face'."""
    if shown == UNSURE:
        return UNSURE_HEADING
    return DISPLAY_NAMES[shown] if shown in DISPLAY_NAMES else NO_FACE_HEADING


def emoji_path(emotion):
    """Path of the PNG for an emotion name (or NO_FACE, UNSURE)."""
    if emotion not in (NO_FACE, UNSURE) and emotion not in EMOTIONS:
        raise ValueError(f"Unknown emotion {emotion!r}; expected one of {', '.join(EMOTIONS)}, {NO_FACE!r} or "
                         f"{UNSURE!r}.")
    return EMOJI_DIR / f"{emotion}.png"


def label_index(name):
    """Index of an emotion name (case-insensitive), e.g. a dataset folder name."""
    key = name.strip().lower()
    if key not in EMOTIONS:
        raise ValueError(f"Unknown emotion {name!r}; known emotions: {', '.join(EMOTIONS)}.")
    return EMOTIONS.index(key)
