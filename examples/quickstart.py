"""losant-fluent quickstart: log in, send device state, query it back, page through
devices and handle an error.

Run it with no configuration and it starts the bundled Losant emulator
(``losant_fluent.testing.Emulator``, needs the ``testing`` extra) with 250 extra devices:

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

try:
    from losant_fluent import API, ForbiddenError, LosantError
except ImportError:  # running from a source checkout without installing
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
    from losant_fluent import API, ForbiddenError, LosantError


@dataclass
class Settings:
    """Where to connect and with which credentials."""

    url: str
    email: str
    password: str
    application_id: str
    device_id: str
    access_key: str
    access_secret: str


@contextlib.contextmanager
def settings() -> Iterator[Settings]:
    """Credentials from the environment, or a freshly started emulator."""
    if os.environ.get("LOSANT_API_URL"):
        names = (
            "LOSANT_EMAIL",
            "LOSANT_PASSWORD",
            "LOSANT_APPLICATION_ID",
            "LOSANT_DEVICE_ID",
            "LOSANT_ACCESS_KEY",
            "LOSANT_ACCESS_SECRET",
        )
        missing = [n for n in names if not os.environ.get(n)]
        if missing:
            sys.exit(f"LOSANT_API_URL is set but these are missing: {', '.join(missing)}")
        print(f"Using the Losant API at {os.environ['LOSANT_API_URL']}")
        yield Settings(os.environ["LOSANT_API_URL"], *(os.environ[n] for n in names))
        return
    from losant_fluent.testing import Emulator

    with Emulator() as emu:
        emu.seed_devices(250)
        print(f"Started the Losant emulator at {emu.url} (251 devices seeded)")
        yield Settings(
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


def login_user(api: API, email: str, password: str) -> None:
    if hasattr(api, "login_user"):
        api.login_user(email, password)
    else:  # older client: the plain chain
        api.set_token(api.auth().user().post({"email": email, "password": password}).token)


def login_device(api: API, device_id: str, key: str, secret: str) -> None:
    if hasattr(api, "login_device"):
        api.login_device(device_id, key, secret)
    else:
        body = {"deviceId": device_id, "key": key, "secret": secret}
        api.set_token(api.auth().device().post(body).token)


def main() -> int:
    with settings() as cfg:
        user = API(url=cfg.url)
        login_user(user, cfg.email, cfg.password)
        app = user.applications(cfg.application_id)

        section("1. Device login")
        device_api = API(url=cfg.url)
        login_device(device_api, cfg.device_id, cfg.access_key, cfg.access_secret)
        me = device_api.applications(cfg.application_id).devices(cfg.device_id)
        print(f"Logged in as device {me.get().name!r} ({cfg.device_id})")

        section("2. Send state")
        now_ms = int(time.time() * 1000)
        readings = [18.5, 19.0, 20.5, 21.0, 22.5]
        states = [
            {"time": now_ms - (len(readings) - i) * 60_000, "data": {"temperature": value}}
            for i, value in enumerate(readings)
        ]
        me.state().post(states)
        print(f"Sent {len(states)} temperature readings, one a minute: {readings}")

        section("3. Last-value query")
        last = app.data().last_value_query().post({"deviceIds": [cfg.device_id]})
        for device_id, value in last.root.items():
            print(f"{device_id}: temperature={value.data['temperature']} at {value.time}")

        section("4. Time-series query")
        series = (
            app.data()
            .time_series_query()
            .post(
                {
                    "deviceIds": [cfg.device_id],
                    "attributes": ["temperature"],
                    "aggregation": "MEAN",
                    "resolution": 120_000,
                    "duration": 10 * 60_000,
                }
            )
        )
        for device_id, found in series.devices.items():
            print(f"{found.name} ({device_id}), mean per 2 minutes:")
            for point in found.points:
                print(f"  {point.time:%H:%M}  {point.data['temperature']:.2f}")

        section("5. Paginated device list")
        listing = app.devices().get(perPage=100)
        total, per_page = listing.total_count or 0, listing.per_page or 100
        print(f"{total} devices, {per_page} per page")
        seen = 0
        # Iterating the first page walks every following page (auto-pagination).
        for dev in listing:
            if seen < 3:
                print(f"  {dev.name}")
            seen += 1
        print(
            f"  ... iterated {seen} devices across "
            f"{-(-total // per_page)} pages"
        )

        section("6. Errors")
        try:
            device_api.applications(cfg.application_id).devices().post({"name": "Not allowed"})
        except ForbiddenError as err:
            print(f"A device token cannot create devices: {type(err).__name__}")
            print(f"  status={err.status} type={err.type} message={err.message!r}")
            response = err.http_response()
            status = response.status_code if response is not None else None
            print(f"  http_response().status_code={status}")
        except LosantError as err:  # a real account may answer differently
            print(f"Unexpected error: {err!r}")
            return 1
        print("\nDone.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
