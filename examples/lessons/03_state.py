"""Lesson 3: device state. Log in as the device, report readings, read them back.

    python examples/lessons/03_state.py
"""

from datetime import datetime, timedelta, timezone

from _account import account

from losant_fluent import API

with account() as acct:
    # A device logs in with an access key and secret; its token reaches only its own device.
    device_api = API(url=acct.url).login_device(
        acct.device_id, acct.access_key, acct.access_secret
    )
    device = device_api.applications(acct.application_id).devices(acct.device_id)

    # One state: the data, and the time it was measured (now when left out).
    device.state().post({"data": {"temperature": 20.5}})

    # Several states in one request: a list. A timezone-aware datetime is a valid time.
    now = datetime.now(timezone.utc)
    readings = [21.0, 21.5, 22.0]
    device.state().post(
        [
            {"time": now - timedelta(minutes=len(readings) - i), "data": {"temperature": value}}
            for i, value in enumerate(readings)
        ]
    )
    print(f"Sent {1 + len(readings)} states")

    # GET .../state: the newest states first (a list result: iterate, index, len()).
    history = device.state().get(limit=10)
    print(f"Read back {len(history)} states:")
    for state in history:
        print(f"  {state.time}  temperature={state.data['temperature']}")
