"""Your own pictures instead of the built-in emoji (View > Emoji pictures from a folder..., or --emoji-dir):
one PNG per emotion name; a missing or unreadable one is named once and the built-in one stands in for it."""
import sys
from tkinter import filedialog

from emojify.overlay import load_emojis


class Avatars:
    """session: the LiveSession (which draws the pictures over faces); show(emojis) puts them in the panel;
    say(text, seconds) reaches the status bar."""

    def __init__(self, root, session, show, say):
        self.root, self.session, self.show, self.say = root, session, show, say

    def use(self, folder):
        """The pictures of folder, or the built-in emoji for None."""
        problems = []
        emojis = load_emojis(size=256, folder=folder, on_problem=lambda name, line: problems.append((name, line)))
        for _, line in problems:
            print(f"warning: {line}", file=sys.stderr, flush=True)
        self.session.set_emojis(emojis)
        self.show(emojis)
        if folder is not None:
            missing = ", ".join(name for name, _ in problems)
            self.say(f"emoji pictures from {folder}" + (f"; built-in ones for {missing} (missing or unreadable "
                                                        "there)" if missing else ""), seconds=10.0)

    def choose(self):
        folder = filedialog.askdirectory(parent=self.root, title="A folder with happy.png, sad.png, ...")
        if folder:
            self.use(folder)
