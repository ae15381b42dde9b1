"""The window's controls: the menu bar, the toolbar, the keys and the camera menu. They hold no state of the
session; every action is a command handed in by the app (a dict of name -> callable)."""
import tkinter as tk
from tkinter import ttk

from tktooltip import ToolTip

KEYS = (("Q", "quit"), ("Escape", "leave full screen, else quit"), ("Space", "pause / resume / replay"),
        ("M", "mirror the picture"), ("E", "emoji over faces"), ("F11", "full screen"),
        ("S", "save a snapshot"), ("R", "start / stop recording"), ("C", "calibrate to your neutral face"),
        ("T", "session summary"), ("Ctrl+C", "copy the emoji"), ("Ctrl+O", "open a video file"))
# Letter keys, either case (Shift or Caps Lock held), and the command each runs.
LETTERS = {"q": "quit", "m": "toggle_mirror", "e": "toggle_emoji", "s": "snapshot", "r": "toggle_record",
           "c": "calibrate", "t": "show_summary"}
RECORD_ENTRY = 3  # the File menu's "Start recording" entry


class Controls:
    """commands: open_video, snapshot, toggle_record, show_summary, quit, apply_mirror, apply_emoji,
    toggle_mirror, toggle_emoji, set_fullscreen(on), toggle_fullscreen, escape, choose_emoji_dir,
    builtin_emoji, calibrate, forget_calibration, copy_emoji, show_keys, show_about, toggle_pause,
    refresh_cameras, play_camera(index)."""

    def __init__(self, root, commands, mirror=False, emoji=False):
        self.root, self.commands = root, commands
        self.mirror_var = tk.BooleanVar(value=mirror)
        self.emoji_var = tk.BooleanVar(value=emoji)
        self.fullscreen_var = tk.BooleanVar(value=False)
        self.camera_var = tk.IntVar(value=-1)
        self.cameras_shown = None
        self.recording_shown = None
        self.menu = self._build_menu()
        root.configure(menu=self.menu)
        self._build_toolbar()
        self._bind_keys()
        self.fill_cameras(None)

    def release(self):
        """Drop the Tk variables, the tooltips' too, on the Tk thread (Picture.release says why)."""
        self.mirror_var = self.emoji_var = self.fullscreen_var = self.camera_var = None
        for tooltip in self.tooltips:
            tooltip.destroy()
            tooltip.msg_var = None
        self.tooltips = []

    def _build_menu(self):
        c = self.commands
        menu = tk.Menu(self.root)
        self.file_menu = file = tk.Menu(menu, tearoff=False)
        file.add_command(label="Open video...", accelerator="Ctrl+O", command=c["open_video"])
        self.camera_menu = tk.Menu(file, tearoff=False, postcommand=c["refresh_cameras"])
        file.add_cascade(label="Camera", menu=self.camera_menu)
        file.add_command(label="Save snapshot", accelerator="S", command=c["snapshot"])
        file.add_command(label="Start recording", accelerator="R", command=c["toggle_record"])
        file.add_command(label="Session summary", accelerator="T", command=c["show_summary"])
        file.add_separator()
        file.add_command(label="Quit", accelerator="Q", command=c["quit"])
        menu.add_cascade(label="File", underline=0, menu=file)
        view = tk.Menu(menu, tearoff=False)
        view.add_checkbutton(label="Mirror", accelerator="M", variable=self.mirror_var, command=c["apply_mirror"])
        view.add_checkbutton(label="Emoji over faces", accelerator="E", variable=self.emoji_var,
                             command=c["apply_emoji"])
        view.add_checkbutton(label="Full screen", accelerator="F11", variable=self.fullscreen_var,
                             command=lambda: c["set_fullscreen"](self.fullscreen_var.get()))
        view.add_separator()
        view.add_command(label="Emoji pictures from a folder...", command=c["choose_emoji_dir"])
        view.add_command(label="Built-in emoji", command=c["builtin_emoji"])
        menu.add_cascade(label="View", underline=0, menu=view)
        self.face_menu = face = tk.Menu(menu, tearoff=False)
        face.add_command(label="Calibrate to my neutral face", accelerator="C", command=c["calibrate"])
        face.add_command(label="Forget calibration", command=c["forget_calibration"])
        face.add_command(label="Copy emoji", accelerator="Ctrl+C", command=c["copy_emoji"])
        menu.add_cascade(label="Face", underline=0, menu=face)
        help_menu = tk.Menu(menu, tearoff=False)
        help_menu.add_command(label="Keys", command=c["show_keys"])
        help_menu.add_command(label="About Emojify", command=c["show_about"])
        menu.add_cascade(label="Help", underline=0, menu=help_menu)
        return menu

    def _build_toolbar(self):
        c = self.commands
        bar = ttk.Frame(self.root, padding=(8, 6, 0, 0))
        bar.grid(row=1, column=0, columnspan=2, sticky="ew")

        def button(text, width, command):
            return ttk.Button(bar, text=text, width=width, command=command, takefocus=False)

        self.bar = bar
        self.pause_button = button("Pause", 8, c["toggle_pause"])
        self.snapshot_button = button("Snapshot", 9, c["snapshot"])
        mirror = ttk.Checkbutton(bar, text="Mirror", variable=self.mirror_var, command=c["apply_mirror"],
                                 takefocus=False)
        emoji = ttk.Checkbutton(bar, text="Emoji on faces", variable=self.emoji_var, command=c["apply_emoji"],
                                takefocus=False)
        self.record_button = button("Record", 10, c["toggle_record"])
        self.calibrate_button = calibrate = button("Calibrate", 9, c["calibrate"])
        self.copy_button = copy = button("Copy emoji", 10, c["copy_emoji"])
        full = button("Full screen", 11, c["toggle_fullscreen"])
        quit_button = button("Quit", 6, c["quit"])
        tips = [(self.pause_button, "Pause or resume the picture; replay a finished video (Space)"),
                (self.snapshot_button, "Save the picture as a PNG in your Pictures folder (S)"),
                (self.record_button, "Record the picture as a video, with a log of every face (R)"),
                (calibrate, "Hold a neutral face for 3 seconds: Emojify learns how your resting face looks (C)"),
                (copy, "Copy the emoji of the main face, to paste into a chat (Ctrl+C)"),
                (mirror, "Flip the picture left-right, like a mirror (M)"),
                (emoji, "Put each face's emoji over it (E)"),
                (full, "Fill the screen; Escape leaves (F11)"),
                (quit_button, "Close Emojify (Q)")]
        self.tools = [w for w, _ in tips[:2]] + [mirror, emoji] + [w for w, _ in tips[2:5]] + [full, quit_button]
        self.tooltips = [ToolTip(widget, msg=tip, delay=0.5) for widget, tip in tips]
        for tooltip in self.tooltips:
            # A titled tooltip, so that tools looking for the "Emojify" window never find a tooltip instead.
            tooltip.wm_title("Emojify tooltip")
        self.rows, self.row_frames = None, []
        bar.bind("<Configure>", lambda e: self._flow(e.width))
        self._flow(10_000)

    def _flow(self, width):
        """Lay the toolbar out in as many rows as the window's width needs: nothing is ever cut off."""
        rows, row, used = [], [], 8
        for widget in self.tools:
            need = widget.winfo_reqwidth() + 6
            if row and used + need > width:
                rows.append(row)
                row, used = [], 8
            row.append(widget)
            used += need
        rows.append(row)
        layout = [[str(w) for w in r] for r in rows]
        if layout == self.rows:
            return
        self.rows = layout
        while len(self.row_frames) < len(rows):
            self.row_frames.append(ttk.Frame(self.bar))
        for widget in self.tools:
            widget.pack_forget()
        for frame in self.row_frames:
            frame.pack_forget()
        for frame, widgets in zip(self.row_frames, rows):
            frame.pack(anchor="w", pady=(0, 4))
            for widget in widgets:
                widget.pack(in_=frame, side="left", padx=(0, 6))

    def _bind_keys(self):
        c, root = self.commands, self.root
        root.protocol("WM_DELETE_WINDOW", c["quit"])
        def key(action):
            # A menu's events reach the window's bindings too: a key typed in an open menu (Escape closing it)
            # is the menu's, never a command of the window. Tk's menu bar copies ("#" in their names) count.
            return lambda e: None if isinstance(e.widget, tk.Menu) or "#" in str(e.widget) else action()

        for letter, name in LETTERS.items():
            for k in (letter, letter.upper()):
                root.bind(f"<KeyPress-{k}>", key(c[name]))
        root.bind("<space>", key(c["toggle_pause"]))
        root.bind("<Escape>", key(c["escape"]))
        root.bind("<F11>", key(c["toggle_fullscreen"]))
        for name in ("<Control-o>", "<Control-O>"):
            root.bind(name, key(c["open_video"]))
        for name in ("<Control-c>", "<Control-C>"):
            root.bind(name, key(c["copy_emoji"]))

    def flip(self, name):
        """Turn a check (mirror_var, emoji_var) over, as its key does; returns the new value."""
        var = getattr(self, name)
        var.set(not var.get())
        return var.get()

    def show_state(self, can_pause, pause_label, has_picture, running):
        """has_picture: a picture is shown (snapshot, copy); running: it is live (record, calibrate)."""
        self.pause_button.configure(text=pause_label)
        self.pause_button.state(["!disabled" if can_pause else "disabled"])
        for widget, entry, menu, on in ((self.snapshot_button, "Save snapshot", self.file_menu, has_picture),
                                        (self.copy_button, "Copy emoji", self.face_menu, has_picture),
                                        (self.calibrate_button, "Calibrate to my neutral face", self.face_menu,
                                         running)):
            widget.state(["!disabled" if on else "disabled"])
            menu.entryconfigure(entry, state="normal" if on else "disabled")
        if self.recording_shown is None or not self.recording_shown[1]:  # a recording in progress can be stopped
            self.record_button.state(["!disabled" if running else "disabled"])
            self.file_menu.entryconfigure(RECORD_ENTRY, state="normal" if running else "disabled")

    def show_recording(self, button_text, recording, enabled=True):
        """The Record button's text (e.g. 'Stop (0:12)') and the File menu's entry, recording or not."""
        if (button_text, recording, enabled) == self.recording_shown:
            return
        self.recording_shown = (button_text, recording, enabled)
        self.record_button.configure(text=button_text)
        self.record_button.state(["!disabled" if enabled else "disabled"])
        self.file_menu.entryconfigure(RECORD_ENTRY, label="Stop recording" if recording else "Start recording")

    def fill_cameras(self, cameras, current=-1):
        """The File > Camera menu: the indexes that open (None: still looking), current one checked."""
        self.camera_var.set(current)
        if cameras == self.cameras_shown and cameras is not None:
            return
        self.camera_menu.delete(0, "end")
        if not cameras:
            self.camera_menu.add_command(label="looking..." if cameras is None else "no camera found",
                                         state="disabled")
        for index in cameras or ():
            self.camera_menu.add_radiobutton(label=f"Camera {index}", value=index, variable=self.camera_var,
                                             command=lambda i=index: self.commands["play_camera"](i))
        self.cameras_shown = cameras

    def show_menu(self, on):
        self.root.configure(menu=self.menu if on else "")
