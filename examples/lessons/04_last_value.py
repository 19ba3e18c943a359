"""Lesson 4: last values. Ask for the newest state of one or more devices.

    python examples/lessons/04_last_value.py
"""

from _account import account

from losant_fluent import API

with account() as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)
    app.devices(acct.device_id).state().post({"data": {"temperature": 19.5}})

    # POST .../data/last-value-query: which devices (by id, or a deviceQuery); optionally
    # one `attribute` that the newest state must hold, and an `end` time.
    last = app.data().last_value_query().post(
        {"deviceIds": [acct.device_id], "attribute": "temperature"}
    )

    # The result maps each device id to its newest state.
    state = last[acct.device_id]
    print(f"Newest temperature of {acct.device_id}: {state.data['temperature']}")
    print(f"Measured at {state.time:%Y-%m-%d %H:%M:%S} UTC")
    for device_id, newest in last.items():
        print(f"  {device_id}: {newest.data}")
