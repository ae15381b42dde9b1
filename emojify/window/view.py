"""What the window shows, read off its widgets in one immutable record: the test surface of the window (and of
tools that drive it), so that they never depend on how the parts hold their state.

    view = app.view()
    view.heading, view.status, view.banner, view.pause_enabled, ...
"""
from dataclasses import dataclass

import numpy as np

from emojify.live import State


@dataclass(frozen=True)
class WindowView:
    state: State                # the session's state
    source: str                 # what plays, as the status bar names it ("camera 0", "clip.mp4")
    spec: object                # a camera index or a video path, as given
    frames_shown: int
    image: np.ndarray           # the picture last shown (RGBA), or None
    faces: list                 # its faces (faces.Face, main face first)
    picture_size: tuple         # the shown picture, in pixels
    picture_area: tuple         # the canvas it is centred in
    banner: str                 # the text over the picture ("" while it simply runs)
    rec: str                    # the REC marker ("" while not recording)
    notice: str                 # the calibration countdown
    notice_look: tuple          # its text colour, its box's colour, and whether the box lies wholly on the picture
    shown: str                  # the panel's emotion, UNSURE, or None for no face
    heading: str
    caption: str
    hint: str
    calibration: str
    bars: tuple                 # each emotion's bar text ("42%"), EMOTIONS order
    strip_now: str              # the emotion drawn at the strip's right edge, or None
    legend: str                 # the strip's legend
    status: str                 # the status bar's text
    fps: float
    pause_label: str
    pause_enabled: bool
    snapshot_enabled: bool      # the toolbar button
    snapshot_menu_enabled: bool  # File > Save snapshot
    record_label: str
    recording: bool
    finishing: bool             # a recording is being finished
    mirror: bool                # the session's mirror
    mirror_checked: bool        # View > Mirror and the toolbar's check
    emoji_on_faces: bool
    emoji_checked: bool
    fullscreen: bool
    tools: dict                 # each toolbar control's text -> enabled
    cut_off: tuple              # the toolbar controls not wholly inside the window (none, ever)
    cameras: tuple              # File > Camera's entries
    summary_open: bool          # the session summary window is open
    closed: bool


def view_of(app):
    c, p, panel = app.controls, app.picture, app.panel
    cameras = tuple(c.camera_menu.entrycget(i, "label") for i in range(c.camera_menu.index("end") + 1)) \
        if c.camera_menu.index("end") is not None else ()
    last = app.last
    right = app.root.winfo_rootx() + app.root.winfo_width()
    tools = {w.cget("text"): w.instate(["!disabled"]) for w in c.tools}
    cut_off = tuple(w.cget("text") for w in c.tools if not w.winfo_ismapped() or w.winfo_rootx() + w.winfo_width() > right)
    return WindowView(
        state=app.session.state, source=app.label, spec=app.spec, frames_shown=app.frames_shown,
        image=None if last is None else last.image, faces=[] if last is None else list(last.result.faces),
        picture_size=p.size, picture_area=(p.canvas.winfo_width(), p.canvas.winfo_height()),
        banner=p.text("banner"), rec=p.text("rec"), notice=p.text("notice"), notice_look=p.notice_look(),
        shown=panel.shown, heading=panel.text("heading"), caption=panel.text("caption"), hint=panel.text("hint"),
        calibration=panel.text("calibration"),
        bars=tuple(panel.bars.itemcget(item, "text") for item in panel.bars.texts),
        strip_now=panel.strip.emotion_at_right_edge(), legend=panel.legend.cget("text"), status=app.status.text, fps=app.status.fps,
        pause_label=c.pause_button.cget("text"), pause_enabled=c.pause_button.instate(["!disabled"]),
        snapshot_enabled=c.snapshot_button.instate(["!disabled"]),
        snapshot_menu_enabled=c.file_menu.entrycget("Save snapshot", "state") == "normal", record_label=c.record_button.cget("text"),
        recording=app.recording.recorder is not None, finishing=app.recording.stopping is not None,
        mirror=app.session.mirror, mirror_checked=c.mirror_var.get(), emoji_on_faces=app.session.emoji_on_faces,
        emoji_checked=c.emoji_var.get(), fullscreen=app.fullscreen,
        tools=tools, cut_off=cut_off, cameras=cameras,
        summary_open=app.summary_window is not None and bool(app.summary_window.winfo_exists()),
        closed=app.closed)
