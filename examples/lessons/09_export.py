"""Lesson 9: a data export. Write every device's recent readings to a CSV file, then ask
Losant for its own export of the same data.

    python examples/lessons/09_export.py [out.csv]
"""

import csv
import os
import sys
import tempfile
import time
from pathlib import Path

from _account import account

from losant_fluent import API

HOUR_MS = 3_600_000
if len(sys.argv) > 1:
    out = Path(sys.argv[1])
else:  # a new file of our own: never another run's (or another user's) file
    handle, name = tempfile.mkstemp(prefix="readings-", suffix=".csv")
    os.close(handle)
    out = Path(name)

with account() as acct:
    api = API(url=acct.url).login_user(acct.email, acct.password)
    app = api.applications(acct.application_id)
    now = int(time.time() * 1000)
    app.devices(acct.device_id).state().post(
        [{"time": now - i * 600_000, "data": {"temperature": 20 + i / 2}} for i in range(6)]
    )

    # Walk every device (all pages), and the states of the last hour of each (at most 100).
    with out.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["device_id", "device_name", "time", "attribute", "value"])
        rows = 0
        for device in app.devices().get(perPage=1000):
            states = app.devices(device.id).state().get(start=now - HOUR_MS, end=now, limit=100)
            for state in states:
                for attribute, value in sorted(state.data.items()):
                    writer.writerow([device.id, device.name, state.time, attribute, value])
                    rows += 1
    print(f"Wrote {rows} readings to {out}")
    print(out.read_text().splitlines()[1])

    # Losant can also build the export itself. The answer names a job that runs in the
    # background: wait() polls the application's job log until it is done, download()
    # saves the CSV files it wrote (no Losant token goes to the file host).
    job = app.data().export().post(
        {"deviceIds": [acct.device_id], "start": now - HOUR_MS, "end": now, "email": acct.email}
    )
    print(f"Export job queued: {job.job_queued}")
    log = job.wait(timeout=300)
    print(f"Export job {log.status}: {log.progress.completed:g}/{log.progress.total:g} states")
    for saved in job.download(tempfile.mkdtemp(prefix="export-")):
        print(f"Losant's export: {saved.name}, {len(saved.read_text().splitlines()) - 1} rows")
