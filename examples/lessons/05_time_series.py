"""Lesson 5: time series. Aggregate a device's readings over time windows.

    python examples/lessons/05_time_series.py
"""

import time

from _account import account

from losant_fluent import API

MINUTE_MS = 60_000  # Losant times are milliseconds since the epoch

with account() as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)

    # Ten readings, one a minute, the last one a minute ago.
    start = int(time.time() * 1000) - 10 * MINUTE_MS
    app.devices(acct.device_id).state().post(
        [{"time": start + i * MINUTE_MS, "data": {"temperature": 15 + i}} for i in range(10)]
    )

    # POST .../data/time-series-query: one point per `resolution` over the last `duration`.
    series = app.data().time_series_query().post(
        {
            "deviceIds": [acct.device_id],
            "attributes": ["temperature"],
            "aggregation": "MEAN",  # also MIN, MAX, SUM, COUNT, FIRST, LAST, ...
            "resolution": 5 * MINUTE_MS,
            "duration": 15 * MINUTE_MS,
        }
    )
    for device_id, found in series.devices.items():
        print(f"{found.name} ({device_id}): mean temperature per 5 minutes")
        for point in found.points:
            print(f"  {point.time:%H:%M}  {point.data['temperature']:.1f}")
