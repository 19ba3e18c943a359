"""losant-fluent quickstart: log in, send device state, query it back, page through
devices and handle an error.

With no configuration it starts the bundled Losant emulator (needs the ``testing`` extra:
``pip install -e '.[testing]'``), seeded with 250 extra devices:

    python examples/quickstart.py

Or point it at a real Losant account (nothing is created there except device state):

    LOSANT_API_URL=https://api.losant.com LOSANT_EMAIL=... LOSANT_PASSWORD=... \\
    LOSANT_APPLICATION_ID=... LOSANT_DEVICE_ID=... \\
    LOSANT_ACCESS_KEY=... LOSANT_ACCESS_SECRET=... python examples/quickstart.py

The device must have a number attribute ``temperature`` and the access key must be
allowed for it.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

from losant_fluent import API, ForbiddenError


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


ENV_NAMES = (
    "LOSANT_EMAIL",
    "LOSANT_PASSWORD",
    "LOSANT_APPLICATION_ID",
    "LOSANT_DEVICE_ID",
    "LOSANT_ACCESS_KEY",
    "LOSANT_ACCESS_SECRET",
)


@contextlib.contextmanager
def account() -> Iterator[Account]:
    """The real account named by the environment, or else a freshly started emulator."""
    url = os.environ.get("LOSANT_API_URL")
    if url:
        missing = [name for name in ENV_NAMES if not os.environ.get(name)]
        if missing:
            sys.exit(f"LOSANT_API_URL is set but these are missing: {', '.join(missing)}")
        print(f"Using the Losant API at {url}")
        yield Account(url, *(os.environ[name] for name in ENV_NAMES))
        return

    # Imported here so that using a real account does not need the `testing` extra.
    from losant_fluent.testing import Emulator

    with Emulator() as emu:  # serves the API on 127.0.0.1 until the block ends
        emu.seed_devices(250)  # enough devices for several pages in section 5
        print(f"Started the Losant emulator at {emu.url} (251 devices seeded)")
        yield Account(
            emu.url,
            emu.user_email,
            emu.user_password,
            emu.application_id,
            emu.device_id,
            emu.access_key,
            emu.access_secret,
        )


def section(title: str) -> None:
    print(f"\n== {title} ==")


def main() -> int:
    with account() as acct:
        # A user login may do everything the user may: it reads data and lists devices.
        user = API(url=acct.url).login_user(acct.email, acct.password)
        # Each call in a chain adds a path segment: this is /applications/{applicationId}.
        app = user.applications(acct.application_id)

        section("1. Device login")
        # A device logs in with its access key; its token only reaches its own device.
        device_api = API(url=acct.url).login_device(
            acct.device_id, acct.access_key, acct.access_secret
        )
        device = device_api.applications(acct.application_id).devices(acct.device_id)
        print(f"Logged in as device {device.get().name!r} ({acct.device_id})")

        section("2. Send state")
        # Five readings, one a minute, the last one a minute ago. Losant times are
        # milliseconds since the epoch.
        minute_ms = 60_000
        readings = [18.5, 19.0, 20.5, 21.0, 22.5]
        first_ms = int(time.time() * 1000) - len(readings) * minute_ms
        states = [
            {"time": first_ms + i * minute_ms, "data": {"temperature": value}}
            for i, value in enumerate(readings)
        ]
        device.state().post(states)  # one request carries all five
        print(f"Sent {len(states)} temperature readings, one a minute: {readings}")

        section("3. Last-value query")
        last = app.data().last_value_query().post({"deviceIds": [acct.device_id]})
        # The result maps each device id to its newest state.
        for device_id, state in last.root.items():
            print(f"{device_id}: temperature={state.data['temperature']} at {state.time}")

        section("4. Time-series query")
        query = {
            "deviceIds": [acct.device_id],
            "attributes": ["temperature"],
            "aggregation": "MEAN",
            "resolution": 2 * minute_ms,  # one point per 2 minutes
            "duration": 10 * minute_ms,  # over the last 10 minutes
        }
        series = app.data().time_series_query().post(query)
        for device_id, found in series.devices.items():
            print(f"{found.name} ({device_id}), mean per 2 minutes:")
            for point in found.points:
                print(f"  {point.time:%H:%M}  {point.data['temperature']:.2f}")

        section("5. Paginated device list")
        # The result is the first page; its fields describe the whole listing.
        listing = app.devices().get(perPage=100)
        print(f"{listing.total_count} devices, {listing.per_page} per page")
        # pages() yields the first page, then fetches each next one when the loop gets there.
        pages = devices = 0
        for page in listing.pages():
            pages += 1
            # Results are read leniently: a field the server left out is None.
            on_page = page.items or []
            devices += len(on_page)
            print(f"  page {pages}: {len(on_page)} devices, from {on_page[0].name!r}")
        print(f"  ... iterated {devices} devices across {pages} pages")
        # To handle the devices themselves, `for dev in listing:` walks every page the same way.

        section("6. Errors")
        # Every failure is a LosantError; each HTTP status has its own subclass.
        try:
            device_api.applications(acct.application_id).devices().post({"name": "Not allowed"})
        except ForbiddenError as err:
            print(f"A device token cannot create devices: {type(err).__name__}")
            print(f"  status={err.status} type={err.type} message={err.message!r}")
            # The requests.Response is kept for anything the error does not say (it is
            # None only when no response came back, e.g. on a connection error).
            response = err.http_response()
            if response is not None:
                print(f"  http_response().status_code={response.status_code}")
        else:
            print("Creating a device with a device token unexpectedly worked")
            return 1
        print("\nDone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
