"""Export every device of an application with its last values to CSV, and chart one
attribute over the last hour as a PNG.

Needs the ``examples`` extra (pandas, tqdm, matplotlib and the emulator):
``pip install -e '.[examples]'``.

With no configuration it starts the bundled emulator,
seeds 255 devices and sends an hour of temperature readings for five of them:

    python examples/export_devices.py out/

Or point it at a real account (nothing is written there):

    LOSANT_API_URL=https://api.losant.com LOSANT_API_TOKEN=... \\
    LOSANT_APPLICATION_ID=... python examples/export_devices.py out/ --attribute temperature

It writes ``devices.csv`` (one row per device: its fields, then ``last.<attribute>`` for
each attribute's last value and ``last.time``) and ``<attribute>.png`` into the directory.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from losant_fluent import API

CHUNK = 1000  # the most device ids one last-value or time-series query takes
CHARTED = 10  # devices drawn on the chart


@contextlib.contextmanager
def application() -> Iterator[Any]:
    """The application named by the environment, or one on a freshly started emulator."""
    url = os.environ.get("LOSANT_API_URL")
    if url:
        app_id = os.environ.get("LOSANT_APPLICATION_ID")
        if not app_id or not os.environ.get("LOSANT_API_TOKEN"):
            sys.exit("LOSANT_API_URL is set: also set LOSANT_API_TOKEN and LOSANT_APPLICATION_ID")
        with API(url=url) as api:  # the token comes from $LOSANT_API_TOKEN
            yield api.applications(app_id)
        return

    from losant_fluent.testing import Emulator  # the `testing` extra, only for this case

    with Emulator(extra_devices=250) as emu:
        with API(url=emu.url).login_user(emu.user_email, emu.user_password) as api:
            app = api.applications(emu.application_id)
            boilers = emu.seed_devices(4, prefix="Boiler")
            send_readings(app, [emu.device_id, *boilers])
            print(f"Started the Losant emulator at {emu.url}: 255 devices, 5 with readings")
            yield app


def send_readings(app: Any, device_ids: list[str]) -> None:
    """An hour of temperature readings, one every 5 minutes, for each device."""
    now_ms = int(time.time() * 1000)
    for number, device_id in enumerate(device_ids):
        states = [
            {
                "time": now_ms - minutes * 60_000,
                "data": {"temperature": round(19 + number + 1.5 * math.sin(minutes / 9), 2)},
            }
            for minutes in range(60, -1, -5)
        ]
        app.devices(device_id).state().post(states)  # one request carries all of them


def chunks(ids: list[str], size: int = CHUNK) -> Iterator[list[str]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "out",
        type=Path,
        nargs="?",
        default=Path("export"),
        help="directory to write devices.csv and the chart to",
    )
    parser.add_argument("--attribute", default="temperature", help="the attribute to chart")
    args = parser.parse_args(argv)

    import matplotlib

    matplotlib.use("Agg")  # draw to files; no window or display needed
    import matplotlib.pyplot as plt
    import pandas as pd

    args.out.mkdir(parents=True, exist_ok=True)
    with application() as app:
        # 1. Every device, page after page, with a progress bar on stderr.
        devices = app.devices().get(perPage=1000).to_pandas(progress=True)
        print(f"{len(devices)} devices")

        # 2. Their last values, at most 1,000 devices per query, merged into one table.
        ids = devices["id"].tolist()
        last = pd.concat(
            [
                app.data().last_value_query().post({"deviceIds": chunk}).to_pandas()
                for chunk in chunks(ids)
            ],
            ignore_index=True,
        )
        wide = last.pivot(index="device_id", columns="attribute", values="value")
        wide.columns = [f"last.{name}" for name in wide.columns]
        wide["last.time"] = last.groupby("device_id")["time"].max()
        table = devices.merge(wide, left_on="id", right_index=True, how="left")
        # Lists (tags, attributes) are written as text: `key=value` pairs, attribute names.
        table["tags"] = table["tags"].map(
            lambda tags: ";".join(f"{t['key']}={t['value']}" for t in tags or [])
        )
        table["attributes"] = table["attributes"].map(
            lambda attrs: ";".join(a["name"] for a in attrs or [])
        )
        csv_path = args.out / "devices.csv"
        table.to_csv(csv_path, index=False)
        print(f"wrote {csv_path} ({len(table)} rows, {len(table.columns)} columns)")

        # 3. One attribute over the last hour, for the devices that reported it last.
        reporting = last[last["attribute"] == args.attribute]
        charted = reporting.sort_values("time", ascending=False)["device_id"].head(CHARTED)
        series = (
            app.data()
            .time_series_query()
            .post(
                {
                    "deviceIds": charted.tolist(),
                    "attributes": [args.attribute],
                    "aggregation": "MEAN",
                    "resolution": 5 * 60_000,  # one point per 5 minutes
                    "duration": 60 * 60_000,  # over the last hour
                }
            )
            .to_pandas()
        )
        figure, axes = plt.subplots(figsize=(9, 4.5))
        for name, points in series.groupby("device_name"):
            axes.plot(points["time"], points["value"], marker=".", label=name)
        axes.set_title(f"{args.attribute}, mean per 5 minutes")
        axes.set_xlabel("time (UTC)")
        axes.set_ylabel(args.attribute)
        if len(series):
            axes.legend(loc="best", fontsize="small")
        figure.autofmt_xdate()
        chart_path = args.out / f"{args.attribute}.png"
        figure.savefig(chart_path, dpi=100)
        plt.close(figure)
        print(f"wrote {chart_path} ({series['device_id'].nunique()} devices, {len(series)} points)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
