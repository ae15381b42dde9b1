"""Analyse photos, folders and video files without a window (`python predict.py --help`; installed: `emojify-predict`)."""
import sys

from emojify.commands.predict import main

if __name__ == "__main__":
    sys.exit(main())
