"""Score a model on a labelled folder of faces (`python evaluate.py --help`; installed: `emojify-evaluate`)."""
import sys

from emojify.commands.evaluate import main

if __name__ == "__main__":
    sys.exit(main())
