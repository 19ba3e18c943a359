"""``python -m losant_fluent``: an interactive session with ``api`` ready to use.

Against the account the environment names (``LOSANT_API_TOKEN``, or ``LOSANT_EMAIL`` and
``LOSANT_PASSWORD``; ``LOSANT_API_URL``, ``LOSANT_APPLICATION_ID``, ``LOSANT_DEVICE_ID``
when set), otherwise against a fresh local emulator with seeded data. IPython when it is
installed, Python's own REPL otherwise; a short banner says what is bound and what to try.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from typing import Any

from . import API, LosantError, __version__
from ._ipython import format_error

DESCRIPTION = """\
Start an interactive Python session with `api` (an API client) ready to use.

With LOSANT_API_TOKEN (or LOSANT_EMAIL and LOSANT_PASSWORD) in the environment, `api`
works against that account (LOSANT_API_URL, default https://api.losant.com); `app` and
`device` are bound when LOSANT_APPLICATION_ID and LOSANT_DEVICE_ID are set. Otherwise a
local emulator starts with seeded data (it needs the testing extra) and stops when the
session ends. IPython is used when installed, Python's own REPL otherwise.
"""

# Devices the emulator seeds besides its thermostat: a page worth looking at.
SEEDED_DEVICES = 24
TRIES = (
    ("app.devices().get()", "a page of devices: len(), [0], a table in Jupyter"),
    ('device.state().post({"data": {"temperature": 21.5}})', "send a reading"),
    ("help(app.devices().get)", "every keyword of a verb, typed"),
)


def _from_environment() -> bool:
    env = os.environ
    return bool(env.get("LOSANT_API_TOKEN") or (env.get("LOSANT_EMAIL")
                                                  and env.get("LOSANT_PASSWORD")))


def _environment_session() -> tuple[dict[str, Any], list[str]]:
    """``api`` (and ``app``, ``device`` when named) for the account of the environment."""
    env = os.environ
    api = API()
    how = "token from LOSANT_API_TOKEN"
    if not api.has_token:
        api.login_user(env["LOSANT_EMAIL"], env["LOSANT_PASSWORD"])
        how = "logged in as LOSANT_EMAIL"
    names: dict[str, Any] = {"api": api}
    lines = [f"losant-fluent {__version__}: the account of the environment ({how})",
             f"  api     {api!r}"]
    app_id, device_id = env.get("LOSANT_APPLICATION_ID"), env.get("LOSANT_DEVICE_ID")
    if app_id:
        names["app"] = api.applications(app_id)
        lines.append(f"  app     api.applications({app_id!r})")
        if device_id:
            names["device"] = names["app"].devices(device_id)
            lines.append(f"  device  app.devices({device_id!r})")
    else:
        lines.append("  (set LOSANT_APPLICATION_ID, and LOSANT_DEVICE_ID, to bind app and device)")
    return names, lines


def _emulator_session() -> tuple[dict[str, Any], list[str], Callable[[], None]]:
    """``api``, ``app``, ``device`` and ``emulator`` on a freshly started, seeded emulator."""
    from .testing import Emulator

    emulator = Emulator(extra_devices=SEEDED_DEVICES).start()
    api = API(url=emulator.url).login_user(emulator.user_email, emulator.user_password)
    app = api.applications(emulator.application_id)
    device = app.devices(emulator.device_id)
    names = {"api": api, "app": app, "device": device, "emulator": emulator}
    lines = [
        f"losant-fluent {__version__}: a local emulator at {emulator.url} "
        "(seeded; it stops when you leave)",
        f"  api       {api!r}, logged in as {emulator.user_email}",
        f"  app       api.applications({emulator.application_id!r})",
        f"  device    app.devices({emulator.device_id!r})",
        "  emulator  the emulator (emulator.url, emulator.user_token()...)",
    ]
    return names, lines, emulator.stop


def banner(lines: list[str], shell: str) -> str:
    """The text shown when the session starts: what is bound, three things to try."""
    width = max(len(code) for code, _ in TRIES)
    tries = [f"  {code.ljust(width)}  # {why}" for code, why in TRIES]
    return "\n".join([*lines, "Try:", *tries, f"{shell}; leave with exit() or Ctrl-D.", ""])


def _ipython() -> Any:
    import importlib

    try:
        return importlib.import_module("IPython")  # optional: not a dependency
    except ImportError:
        return None


def _plain_repl(names: dict[str, Any], text: str) -> None:
    """Python's REPL, with completion, and tracebacks of ``LosantError`` that end at your line."""
    import code

    try:
        import readline
        import rlcompleter

        readline.set_completer(rlcompleter.Completer(names).complete)
        readline.parse_and_bind("tab: complete")
    except ImportError:  # no readline (Windows): no completion, the rest works
        pass

    class Console(code.InteractiveConsole):
        def showtraceback(self) -> None:
            _, value, tb = sys.exc_info()
            text = format_error(value, tb.tb_next) if value and tb else None
            if text is None:
                super().showtraceback()
            else:
                self.write(text)

    Console(names).interact(banner=text, exitmsg="")


def main(argv: list[str] | None = None) -> int:
    """Parse the options, bind ``api`` (and ``app``, ``device``), run the session."""
    parser = argparse.ArgumentParser(
        prog="python -m losant_fluent",
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--emulator", action="store_true",
        help="use a fresh local emulator even when the environment names an account",
    )
    parser.add_argument(
        "--plain", action="store_true", help="use Python's own REPL even when IPython is installed"
    )
    args = parser.parse_args(argv)
    stop: Callable[[], None] | None = None
    try:
        if _from_environment() and not args.emulator:
            names, lines = _environment_session()
        else:
            names, lines, stop = _emulator_session()
    except ModuleNotFoundError as exc:  # the emulator without werkzeug: the message says
        print(f"python -m losant_fluent: {exc}", file=sys.stderr)
        return 2
    except LosantError as exc:
        print(f"python -m losant_fluent: {exc}", file=sys.stderr)
        return 1
    names["API"] = API
    try:
        ipython = None if args.plain else _ipython()
        if ipython is not None:
            import importlib

            config = importlib.import_module("traitlets.config").Config()  # IPython's own
            config.TerminalInteractiveShell.banner1 = banner(lines, "IPython")
            config.InteractiveShellApp.extensions = ["losant_fluent"]
            ipython.start_ipython(argv=[], user_ns=names, config=config)
        else:
            _plain_repl(names, banner(lines, "Python's REPL (pip install ipython for more)"))
    finally:
        if stop is not None:
            stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
