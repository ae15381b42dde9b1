"""Tk widgets of the window that are more than a label: the emotion bars, the last-minute strip chart and the
session summary window. They draw what they are given and hold no state of the session."""
import tkinter as tk

from PIL import ImageTk

from emojify.emotions import DISPLAY_NAMES, EMOTIONS
from emojify.emotions import rgb_hex


class EmotionBars(tk.Canvas):
    """One bar per emotion with its percentage; redraws only what changed since the last show()."""

    ROW, LEFT, WIDTH = 24, 80, 280

    def __init__(self, master, bg):
        super().__init__(master, width=self.WIDTH, height=self.ROW * len(EMOTIONS), highlightthickness=0, bg=bg)
        self.items, self.texts, self.values = [], [], [None] * len(EMOTIONS)
        for i, e in enumerate(EMOTIONS):
            y = self.ROW * i
            self.create_text(0, y + 11, text=DISPLAY_NAMES[e], anchor="w")
            self.items.append(self.create_rectangle(self.LEFT, y + 4, self.LEFT, y + 18, fill=rgb_hex(e), width=0))
            self.texts.append(self.create_text(self.WIDTH, y + 11, text="", anchor="e"))

    def show(self, probs):
        for i, (item, text) in enumerate(zip(self.items, self.texts)):
            p = round(float(probs[i]) * 100) if probs is not None else None
            if p == self.values[i]:
                continue
            self.values[i] = p
            y = self.ROW * i
            self.coords(item, self.LEFT, y + 4, self.LEFT + (p or 0) * 1.55, y + 18)
            self.itemconfigure(text, text="" if p is None else f"{p}%")


class TimelineStrip(tk.Canvas):
    """The main face's emotion over the last minute: time runs left to right, now at the right edge; one
    coloured band per emotion (grey: not sure; empty: no face)."""

    HEIGHT = 46

    def __init__(self, master, bg, width=280, window_s=60.0):
        super().__init__(master, width=width, height=self.HEIGHT, highlightthickness=0, bg=bg)
        self.width, self.window_s = width, window_s
        self.create_rectangle(0, 0, width - 1, self.HEIGHT - 15, outline="#999999", fill="#ffffff")
        self.create_text(0, self.HEIGHT - 1, text=f"-{window_s:.0f} s", anchor="sw", fill="#666666")
        self.create_text(width, self.HEIGHT - 1, text="now", anchor="se", fill="#666666")
        self.segments = []  # (emotion, x0, x1) as drawn

    def show(self, strip):
        """strip: [(seconds ago, name or None)], oldest first (timeline.Timeline.strip)."""
        segments = []
        for age, name in strip:
            x = round(self.width * (1 - age / self.window_s))
            if segments and segments[-1][0] == name:
                segments[-1][2] = x
            else:
                if segments:
                    segments[-1][2] = x
                segments.append([name, x, x])
        if segments:
            segments[-1][2] = self.width
        segments = [(n, x0, x1) for n, x0, x1 in segments if n is not None and x1 > x0]
        if segments == self.segments:
            return
        self.segments = segments
        self.delete("band")
        for name, x0, x1 in segments:
            self.create_rectangle(x0, 1, x1, self.HEIGHT - 16, fill=rgb_hex(name), width=0, tags="band")

    def emotion_at_right_edge(self):
        """For tests and tools: the emotion drawn nearest to now, or None."""
        return self.segments[-1][0] if self.segments and self.segments[-1][2] >= self.width - 2 else None


def show_summary_window(root, lines, chart):
    """A window with the session summary as text (scrolling past a dozen faces, so that Close stays in reach)
    and chart (a Pillow image); returns the Toplevel."""
    top = tk.Toplevel(root)
    top.title("Emojify session summary")
    frame = tk.Frame(top)
    frame.pack(padx=10, pady=(10, 4), fill="both", expand=True)
    text = tk.Text(frame, height=min(len(lines), 14), width=max(40, min(100, max(map(len, lines)))),
                   font=("TkFixedFont", 10), relief="flat", wrap="none")
    text.insert("1.0", "\n".join(lines))
    text.configure(state="disabled")
    if len(lines) > 14:
        bar = tk.Scrollbar(frame, command=text.yview)
        text.configure(yscrollcommand=bar.set)
        bar.pack(side="right", fill="y")
    text.pack(side="left", fill="both", expand=True)
    top.chart = ImageTk.PhotoImage(chart)  # referenced by the window, or Tk shows a blank image
    # Dropped as the window goes, however it goes, on the Tk thread (Picture.release says why).
    top.bind("<Destroy>", lambda e: setattr(top, "chart", None) if e.widget is top else None)
    tk.Label(top, image=top.chart).pack(padx=10, pady=(0, 10))
    tk.Button(top, text="Close", command=top.destroy).pack(pady=(0, 10))
    top.bind("<Escape>", lambda e: top.destroy())
    top.text = text
    return top
