"""What every command-line script shares: the error contract and the options common to several scripts."""
import argparse
import functools
import signal
import sys
import threading
from pathlib import Path

from emojify.config import BACKENDS, INSTALLED, ROOT, VIEWS
from emojify.errors import AppError
from emojify.preflight import interrupted_early


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """--help shows each option's default (unless its help says it already), paths in the app's folder short."""

    def _get_help_string(self, action):
        text, default = action.help or "", action.default
        if (not action.option_strings or "default" in text or default is None or default is False
                or default is argparse.SUPPRESS or default == []):
            return text
        if isinstance(default, Path) and not INSTALLED and default.is_relative_to(ROOT):
            default = default.relative_to(ROOT)
        return f"{text} (default: {str(default).replace('%', '%%')})"


def make_parser(doc):
    """The argument parser of a script: its docstring's first line as description, its usage lines as epilog."""
    first, _, rest = doc.strip().partition("\n")
    return argparse.ArgumentParser(description=first, epilog=rest.strip("\n") or None, formatter_class=HelpFormatter)


_ctrl_c = threading.Event()


def _note_ctrl_c(signum, frame):
    _ctrl_c.set()
    signal.default_int_handler(signum, frame)


def interrupted(exc):
    """True when exc is Ctrl+C, also when a library turned it into another exception on its way up (TensorFlow
    does when the interrupt lands while it traces a graph)."""
    return isinstance(exc, KeyboardInterrupt) or _ctrl_c.is_set()


def main_guard(main):
    """Wrap a script's main(argv=None): an AppError becomes one `error: ...` line on stderr and exit code 2;
    Ctrl+C that the script does not handle itself becomes one `interrupted` line and exit code 130.

    Any other exception is a bug and keeps its traceback.
    """
    @functools.wraps(main)
    def guarded(argv=None):
        _ctrl_c.clear()
        watch = (threading.current_thread() is threading.main_thread()  # not where Ctrl+C is ignored
                 and signal.getsignal(signal.SIGINT) in (signal.default_int_handler, interrupted_early))
        previous = signal.signal(signal.SIGINT, _note_ctrl_c) if watch else None
        try:
            return main(argv)
        except AppError as e:
            print(f"error: {e}", file=sys.stderr, flush=True)
            return 2
        except (KeyboardInterrupt, Exception) as e:
            if not interrupted(e):
                raise
            # Ctrl+C during a tf.function trace leaves TensorFlow generators that fail as they are freed, each
            # printing "Exception ignored in ..." with a traceback; the run is over, so the one line stands.
            sys.unraisablehook = lambda unraisable: None
            print("interrupted", file=sys.stderr, flush=True)
            return 130
        finally:
            if watch:
                signal.signal(signal.SIGINT, previous)
    return guarded


def add_backend_option(parser):
    """The --backend option of every script that classifies faces (emojify.backends.open_classifier)."""
    parser.add_argument("--backend", choices=BACKENDS, default="auto",
                        help="auto: LiteRT when NAME.tflite is the export of the --model file and ai-edge-litert "
                             "is installed, else Keras (TensorFlow)")


def add_views_option(parser, default, why=""):
    """The --views option of every script that classifies faces."""
    parser.add_argument("--views", type=int, choices=VIEWS, default=default,
                        help="views averaged per face: 1 the face alone, 2 with its mirror image, 4 both also "
                             f"shifted half a pixel (default: {default}{why})")


def progress_bar(total, unit):
    """A progress line (count, rate, time left) when stdout is a terminal; None when it is piped, so that
    logs stay clean. Advance it with bar.add(n); bar.update(total, finalize=True) ends its line."""
    if not sys.stdout.isatty() or not total:
        return None
    return ProgressBar(total, unit)


class ProgressBar:
    """One line rewritten in place, at most ten times a second."""

    def __init__(self, total, unit):
        import time
        self.target, self.unit, self.done, self._clock = total, unit, 0, time.monotonic
        self._started = self._shown = self._clock()
        self._ended = False

    def add(self, n):
        self.update(self.done + n)

    def update(self, done, finalize=False):
        self.done = min(done, self.target)
        if self._ended:
            return
        now = self._clock()
        if not finalize and now - self._shown < 0.1 and self.done < self.target:
            return
        self._shown = now
        rate = self.done / max(now - self._started, 1e-6)
        left = f", {(self.target - self.done) / rate:.0f} s left" if rate and self.done < self.target else ""
        self._ended = finalize or self.done >= self.target
        end = "\n" if self._ended else ""
        print(f"\r{self.done}/{self.target} {self.unit}s, {rate:.0f}/s{left}   ", end=end, flush=True)
