"""Before a script imports its packages: a missing one becomes one line saying how to install it."""
import importlib.util
import os
import signal
import sys

from emojify.config import INSTALLED

# import name -> what to install (requirements.txt's names)
PACKAGES = {"numpy": "numpy", "cv2": "opencv-python", "PIL": "pillow"}
WINDOW_PACKAGES = {"tktooltip": "tkinter-tooltip"}
TRAINING_PACKAGES = {"tensorflow": "tensorflow", "keras": "keras"}  # train.py, assemble.py, export.py
WEB_PACKAGES = {"streamlit": "streamlit", "streamlit_webrtc": "streamlit-webrtc"}
SCALE_PACKAGES = {"ray": "ray"}  # predict.py --engine ray


def how_to_install(extra=None):
    """The command that installs a part's packages: a clone's requirements file, or an installed Emojify's extra."""
    if INSTALLED:
        return f'pip install "emojify[{extra}]"' if extra else "pip install emojify"
    return f"pip install -r requirements{'-' + extra if extra else ''}.txt"


def missing(packages):
    """What to install for the packages of {import name: name to install} that Python cannot find."""
    return [name for module, name in packages.items() if importlib.util.find_spec(module) is None]


def interrupted_early(signum, frame):
    """Ctrl+C while a script still imports its packages (seconds, for TensorFlow): one line and exit 130, as
    cli.main_guard says it later, instead of a KeyboardInterrupt traceback from inside an import."""
    print("interrupted", file=sys.stderr, flush=True)
    os._exit(130)


def require(window=False, training=False, web=False):
    """Exit with one `error:` line and code 2, as scripts do on bad input, when something is not installed.
    From here until cli.main_guard takes over, Ctrl+C is one line too (interrupted_early)."""
    if signal.getsignal(signal.SIGINT) is signal.default_int_handler:  # not where Ctrl+C is ignored
        signal.signal(signal.SIGINT, interrupted_early)
    lacking = missing({**PACKAGES, **(WINDOW_PACKAGES if window else {})})
    lacking_training = missing(TRAINING_PACKAGES) if training else []
    lacking_web = missing(WEB_PACKAGES) if web else []
    if lacking:
        problem = (f"{', '.join(lacking)} not installed; install the app's packages with "
                   f"`{how_to_install()}` (see README, 'Quick start').")
    elif lacking_training:
        problem = (f"{', '.join(lacking_training)} not installed; training, assembling and exporting need them: "
                   f"`{how_to_install('train')}` (see README, 'Training').")
    elif lacking_web:
        problem = f"{', '.join(lacking_web)} not installed; the web page needs them: `{how_to_install('web')}`."
    elif window and importlib.util.find_spec("_tkinter") is None:
        problem = ("this Python has no Tk (the window's toolkit); install it, e.g. `apt-get install python3-tk` "
                   "on Debian or Ubuntu.")
    else:
        return
    print(f"error: {problem}", file=sys.stderr)
    sys.exit(2)
