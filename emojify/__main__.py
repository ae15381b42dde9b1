"""python -m emojify --version: the version of the installed library."""
import argparse
import sys

from emojify import __version__


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m emojify", description=__doc__.splitlines()[0],
                                epilog="The app's commands: emojify (the window), emojify-predict, emojify-evaluate, "
                                       "emojify-train and emojify-web; in a clone also gui.py, predict.py, "
                                       "evaluate.py, train.py, assemble.py, export.py and webapp.py (README.md).")
    p.add_argument("--version", action="version", version=f"emojify {__version__}")
    p.parse_args(argv)
    p.print_help()
    return 0


if __name__ == "__main__":
    sys.exit(main())
