"""Train the CNN on FER-2013 and save model.h5 (`python train.py --help`; installed: `emojify-train`)."""
import sys

from emojify.commands.train import main

if __name__ == "__main__":
    sys.exit(main())
