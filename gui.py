"""Emojify: the live webcam picture with a box on every face and the emoji beside it (`python gui.py --help`).

The window lives in emojify/commands/window.py and emojify/window/; an installed Emojify runs it as `emojify`."""
import sys

from emojify.commands.window import main

if __name__ == "__main__":
    sys.exit(main())
