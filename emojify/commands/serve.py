"""The web page on this computer: Streamlit serving emojify/commands/web.py, as `streamlit run webapp.py` does.

    emojify-web                          # then open http://localhost:8501
    emojify-web --port 8600 --model other.h5
    emojify-web --address 0.0.0.0        # share the page on your network
"""
from emojify import preflight

preflight.require(web=True)

import os  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

from emojify.cli import main_guard, make_parser  # noqa: E402

PAGE = Path(__file__).with_name("web.py")
# What .streamlit/config.toml says beside webapp.py in a clone; Streamlit reads that file from the current folder
# only, so an installed page is given it here.
SETTINGS = {"server.maxUploadSize": 50, "browser.gatherUsageStats": "false", "client.toolbarMode": "minimal"}


def streamlit_command(args):
    """The `python -m streamlit run` line for the parsed options."""
    flags = [f"--{key}={value}" for key, value in
             {**SETTINGS, "server.port": args.port, "server.address": args.address}.items()]
    page = ["--model", str(args.model)] if args.model else []
    return [sys.executable, "-m", "streamlit", "run", str(PAGE), *flags, "--", *page]


@main_guard
def main(argv=None):
    p = make_parser(__doc__)
    p.add_argument("--port", type=int, default=8501)
    p.add_argument("--address", default="localhost", help="where the page listens")
    p.add_argument("--model", type=Path, help="one model file for every mode (default: as the web page chooses)")
    command = streamlit_command(p.parse_args(argv))
    if os.name == "posix":  # Streamlit in this process's place: signals (Ctrl+C, a service's stop) reach it
        os.execv(command[0], command)
    try:
        return subprocess.call(command)
    except KeyboardInterrupt:
        return 130  # Streamlit says goodbye itself


if __name__ == "__main__":
    sys.exit(main())
