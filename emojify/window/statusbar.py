"""The status bar: the source, frames per second, the delay from capture to screen, the face count, and
passing messages (saved a snapshot, copied an emoji, a problem that stops nothing)."""
import collections
import time
from tkinter import ttk


class StatusBar:
    EVERY_S = 0.25
    FPS_FRAMES = 30  # the fps readout is the rate over the last this-many shown frames

    def __init__(self, root):
        self.label = ttk.Label(root, text="", anchor="w", style="Status.TLabel", relief="sunken")
        self.label.grid(row=2, column=0, columnspan=2, sticky="ew", pady=(6, 0))
        self.times = collections.deque(maxlen=self.FPS_FRAMES)
        self.fps = self.latency = 0.0
        self.frames = self.faces = 0
        self.faces_shown = None
        self.flash = ("", 0.0)  # a passing message, and until when
        self.text = ""
        self.at = 0.0

    def frame_shown(self, now, captured, faces):
        """A frame captured at `captured` (perf_counter) with `faces` faces is now on screen."""
        self.times.append(now)
        self.latency = 0.9 * self.latency + 0.1 * (now - captured) if self.frames else now - captured
        self.frames += 1
        self.faces = faces

    def restart(self):
        """Another source: the rate starts over."""
        self.times.clear()

    def say(self, text, seconds=5.0):
        self.flash = (text, time.perf_counter() + seconds)
        self.at = 0.0  # show it at the next update

    def update(self, now, source, running, force=False):
        """Redraw if due (a few times a second) or forced; source: the name of what plays."""
        if not force and now - self.at < self.EVERY_S and self.faces == self.faces_shown:
            return  # a change of the face count shows at once: the bar never disagrees with the picture
        self.faces_shown = self.faces
        self.at = now
        times = self.times
        recent = len(times) >= 2 and now - times[-1] < 1.0
        self.fps = (len(times) - 1) / (times[-1] - times[0]) if recent and times[-1] > times[0] else 0.0
        parts = [source]
        if running and self.frames:
            n = self.faces
            parts += [f"{self.fps:4.1f} fps", f"latency {self.latency * 1000:3.0f} ms",
                      f"{n} face{'s' if n != 1 else ''}"]
        message, until = self.flash
        if message and now < until:
            parts.append(message)
        text = "  |  ".join(parts)
        if text != self.text:
            self.label.configure(text=text)
            self.text = text
