"""What the session saw over time: a live-session consumer that keeps the main face's emotion over the last
minute (the window's strip chart) and, per face id, the time spent in each emotion and the longest streaks
(the session summary)."""
import json
import threading
from collections import deque

from emojify.atomic import write_text
from emojify.emotions import EMOTIONS, UNSURE
from emojify.overlay import shown_as

NAMES = (*EMOTIONS, UNSURE)
MAX_GAP = 0.5  # seconds: a longer gap between frames (paused, source lost) counts as no time at all
FLEETING = 1.0  # seconds: a face in view for less than this, gone for 10 s, is forgotten (a detector blip)


class FaceStats:
    def __init__(self, first_seen):
        self.first_seen = self.last_seen = first_seen
        self.seconds = dict.fromkeys(NAMES, 0.0)
        self.streak = None        # [name, start, length] of the current run of one emotion
        self.longest = {}         # name -> (seconds, start) of its longest run

    def add(self, name, now, dt):
        self.last_seen = now
        self.seconds[name] += dt
        if self.streak and self.streak[0] == name:
            self.streak[2] += dt
        else:
            self.streak = [name, now - dt, dt]
        if self.streak[2] > self.longest.get(name, (0.0, 0.0))[0]:
            self.longest[name] = (self.streak[2], self.streak[1])


class Timeline:
    """Consumer of LiveFrames (any thread); read strip() and summary() from any other."""

    def __init__(self, window_s=60.0):
        self.window_s = window_s
        self._lock = threading.Lock()
        self._strip = deque()     # (time, name of the main face or None) over the last window_s
        self._faces = {}          # id -> FaceStats
        self._start = self._last = None
        self._watched = 0.0       # seconds of picture: paused, ended or lost time does not count
        self._frames = 0

    def __call__(self, live):
        if live.redraw:  # the paused picture shown again (mirror, size): no time passed in it
            return
        now = live.captured
        with self._lock:
            if self._start is None:
                self._start = now
            gap = 0.0 if self._last is None else max(now - self._last, 0.0)
            dt = gap if gap <= MAX_GAP else 0.0
            self._last = now
            self._watched += dt
            faces = live.result.faces
            self._strip.append((now, shown_as(faces[0]) if faces else None))
            while self._strip and self._strip[0][0] < now - self.window_s:
                self._strip.popleft()
            for face in faces:
                if face.id is None:
                    continue
                stats = self._faces.setdefault(face.id, FaceStats(self._watched))
                stats.add(shown_as(face), self._watched, dt)
            self._frames += 1
            if self._frames % 300 == 0:  # memory stays flat however many blips a long session has
                gone = self._watched - 10.0
                self._faces = {i: f for i, f in self._faces.items()
                               if f.last_seen > gone or sum(f.seconds.values()) >= FLEETING}

    def strip(self):
        """[(seconds before the latest frame, name or None)] for the last window_s, oldest first."""
        with self._lock:
            if not self._strip:
                return []
            end = self._strip[-1][0]
            return [(end - t, name) for t, name in self._strip]

    def summary(self, min_seconds=FLEETING):
        """The session so far, as a JSON-ready dict: the seconds of picture watched (paused or ended time left
        out), and per face id seen for min_seconds or more, longest seen first: its time in view, share of
        time per emotion and longest streaks (longest first); how many shorter appearances were left out."""
        with self._lock:
            faces, left_out = [], 0
            for face_id, stats in self._faces.items():
                total = sum(stats.seconds.values())
                if total < min_seconds or total <= 0:
                    left_out += total > 0
                    continue
                faces.append((total, face_id, {
                    "first_seen_s": round(stats.first_seen, 2),
                    "seconds": round(total, 2),
                    "share": {n: round(s / total, 4) for n, s in stats.seconds.items() if s > 0},
                    "longest_streaks": [{"emotion": n, "seconds": round(s, 2), "start_s": round(start, 2)}
                                        for n, (s, start) in sorted(stats.longest.items(), key=lambda kv: -kv[1][0])],
                }))
            faces.sort(key=lambda f: (-f[0], f[1]))
            summary = {"duration_s": round(self._watched, 2), "faces": {str(i): face for _, i, face in faces}}
            if left_out:
                summary["left_out"] = {"faces": left_out, "seen_under_s": min_seconds}
            return summary


def summary_lines(summary, top=3):
    """The summary as text: one line per face id."""
    faces = summary["faces"]
    if not faces:
        return [f"Session {summary['duration_s']:.0f} s: no face seen."]
    lines = [f"Session {summary['duration_s']:.0f} s, {len(faces)} face(s):"]
    if "left_out" in summary:
        lines[0] = lines[0][:-1] + (f" (and {summary['left_out']['faces']} seen for under "
                                    f"{summary['left_out']['seen_under_s']:.0f} s, left out):")
    for face_id, face in faces.items():
        share = ", ".join(f"{n} {v:.0%}" for n, v in sorted(face["share"].items(), key=lambda kv: -kv[1])[:top])
        streak = face["longest_streaks"][0]
        lines.append(f"  face {face_id}: {face['seconds']:.0f} s in view; {share}; longest streak "
                     f"{streak['emotion']} {streak['seconds']:.1f} s")
    return lines


def save_summary(summary, json_path, png_path=None):
    """The summary as JSON (and a bar chart PNG), each written whole or not at all."""
    write_text(json_path, json.dumps(summary, indent=1))
    if png_path is not None:
        from emojify.plots import plot_summary
        plot_summary(summary, png_path)
