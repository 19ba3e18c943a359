"""Where the lessons connect: a real Losant account named by the environment, or else the
bundled emulator (``pip install -e '.[testing]'``), started for the length of a lesson.

To use a real account, set ``LOSANT_API_URL`` plus the six names of ``ENV_NAMES``
(the device needs a number attribute ``temperature``; the access key must be allowed for
it). The lessons create a few things there (a device, a data table) and delete them again.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterator
from dataclasses import dataclass


@dataclass
class Account:
    """Where to connect and with which credentials."""

    url: str
    email: str
    password: str
    application_id: str
    device_id: str
    access_key: str
    access_secret: str
    emulated: bool


ENV_NAMES = (
    "LOSANT_EMAIL",
    "LOSANT_PASSWORD",
    "LOSANT_APPLICATION_ID",
    "LOSANT_DEVICE_ID",
    "LOSANT_ACCESS_KEY",
    "LOSANT_ACCESS_SECRET",
)


@contextlib.contextmanager
def account(extra_devices: int = 0) -> Iterator[Account]:
    """The real account named by the environment, or else a freshly started emulator
    (seeded with ``extra_devices`` more devices)."""
    url = os.environ.get("LOSANT_API_URL")
    if url:
        missing = [name for name in ENV_NAMES if not os.environ.get(name)]
        if missing:
            sys.exit(f"LOSANT_API_URL is set but these are missing: {', '.join(missing)}")
        print(f"Using the Losant API at {url}")
        yield Account(url, *(os.environ[name] for name in ENV_NAMES), emulated=False)
        return

    # Imported here so that a real account does not need the `testing` extra.
    from losant_fluent.testing import Emulator

    with Emulator(extra_devices=extra_devices) as emu:
        print(f"Using the Losant emulator at {emu.url}")
        yield Account(
            emu.url,
            emu.user_email,
            emu.user_password,
            emu.application_id,
            emu.device_id,
            emu.access_key,
            emu.access_secret,
            emulated=True,
        )
