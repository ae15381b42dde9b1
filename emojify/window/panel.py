"""The side panel: the main face's emoji, its heading and confidence, a bar per emotion, the last minute as a
strip, the hint on how the face is seen, and the calibration's result."""
from tkinter import ttk

from PIL import Image, ImageTk

from emojify.overlay import shown_as
from emojify.window.widgets import EmotionBars, TimelineStrip
from emojify.emotions import EMOJI_CHARS, EMOTIONS, NO_FACE, UNSURE, UNSURE_CHAR, heading


def caption(face, faces=1):
    """The line under the heading: which face (with several in view), and the confidence or the two emotions
    the model cannot tell between."""
    if face is None:
        return "no face in view"
    which = f"face {face.id} (largest of {faces}): " if faces > 1 and face.id is not None else ""
    if shown_as(face) == UNSURE:
        first, second = sorted(range(len(face.probs)), key=lambda i: -face.probs[i])[:2]
        return f"{which}{EMOTIONS[first]} {face.probs[first]:.0%} or {EMOTIONS[second]} {face.probs[second]:.0%}?"
    return f"{which}confidence {face.confidence:.0%}"


class Panel:
    STRIP_EVERY_S = 0.25  # a minute in 280 px: a few redraws a second show every change
    RECENT_S = 1.0

    def __init__(self, root, bg, window_s):
        side = ttk.Frame(root, padding=(12, 8, 8, 0))
        side.grid(row=0, column=1, sticky="n")
        self.emoji = ttk.Label(side)
        self.emoji.pack()
        self.heading = ttk.Label(side, text="", style="Heading.TLabel")
        self.heading.pack(pady=(6, 0))
        self.caption = ttk.Label(side, text="", style="Caption.TLabel")
        self.caption.pack()
        self.bars = EmotionBars(side, bg)
        self.bars.pack(pady=(10, 0))
        ttk.Label(side, text="Last minute").pack(anchor="w", pady=(10, 0))
        self.strip = TimelineStrip(side, bg, window_s=window_s)
        self.strip.pack()
        self.legend = ttk.Label(side, text="colours as in the bars above; grey: not sure; blank: no face",
                                foreground="#666666", wraplength=280, justify="left")  # never wider than the bars
        self.legend.pack(anchor="w")
        self.hint = ttk.Label(side, text="", foreground="#b35900", wraplength=280, justify="left")
        self.hint.pack(anchor="w", pady=(8, 0))
        self.calibration = ttk.Label(side, text="", wraplength=280, justify="left")
        self.calibration.pack(anchor="w", pady=(4, 0))
        self.shown = None        # the emotion (or UNSURE) shown, None for no face
        self.texts = {}          # label -> text shown: configure() costs a relayout even when nothing changed
        self.strip_at = 0.0
        self.recent = (None, 0.0)  # the last face's emotion and when it was shown: what Copy emoji copies
        self.sources, self.photos, self.px = {}, {}, 0

    def _set(self, label, text):
        if self.texts.get(label) != text:
            getattr(self, label).configure(text=text)
            self.texts[label] = text

    def text(self, label):
        return self.texts.get(label, "")

    def show(self, faces, hint, strip, now):
        """faces: those of the frame, main (largest) first; strip: callable giving the last minute
        (timeline.Timeline.strip)."""
        face = faces[0] if faces else None
        emotion = shown_as(face) if face is not None else None
        if emotion is not None:
            self.recent = (emotion, now)
        if emotion != self.shown:
            self.emoji.configure(image=self.photos[emotion or NO_FACE])
            self.shown = emotion
        self._set("heading", heading(emotion))
        self._set("caption", caption(face, len(faces)))
        self.bars.show(face.probs if face is not None else None)
        self._set("hint", hint or "")
        if now - self.strip_at >= self.STRIP_EVERY_S:
            self.strip_at = now
            self.strip.show(strip())

    def clear(self):
        """No picture (no camera, lost, starting, an error): nothing to describe."""
        self.emoji.configure(image=self.photos[NO_FACE])
        self._set("heading", "")
        self._set("caption", "")
        self.bars.show(None)
        self.shown = None

    def set_calibration(self, text):
        self._set("calibration", text)

    def set_emojis(self, emojis):
        """The pictures to show: {name: BGRA image} (overlay.load_emojis)."""
        self.sources = {name: Image.fromarray(image[..., [2, 1, 0, 3]]) for name, image in emojis.items()}
        self.set_size(self.px or 160, force=True)

    def set_size(self, px, force=False):
        if abs(px - self.px) < 12 and not force:
            return
        self.px = px
        self.photos = {e: ImageTk.PhotoImage(image.resize((px, px), Image.LANCZOS)) for e, image in self.sources.items()}
        self.emoji.configure(image=self.photos[self.shown or NO_FACE])

    def release(self):
        """Drop the PhotoImages on the Tk thread (Picture.release says why)."""
        self.photos = {}

    def copy_emoji(self, root, say, now):
        """Ctrl+C: the emoji's character to the clipboard, to paste into a chat: the one shown, or the last one
        shown in the second before (a face the detector missed for a frame or two is still in view)."""
        emotion, at = self.recent
        if emotion is None or now - at > self.RECENT_S:
            say("no face in view: nothing to copy")
            return
        char = UNSURE_CHAR if emotion == UNSURE else EMOJI_CHARS[emotion]
        root.clipboard_clear()
        root.clipboard_append(char)
        say(f"copied the {heading(emotion).lower()} emoji to the clipboard")  # Tk's fonts show no colour emoji
